"""Cue kinds, and the cue data compiled for fast matching.

The cues themselves (words and phrases in several languages) are data: ``data/<language>.json``,
read and checked by ``cuedata`` at import. This module compiles them into plain dicts and sets;
``match_cues`` then does set intersections and a few substring checks.

Matching is on whole words (see ``tokens``), so "cover" is not found in "discover" and "prove"
is not found in "improve". Chinese and Japanese have no spaces between words; their cues are
matched as substrings, by one alternation with the longest cue first.
"""

from __future__ import annotations

import re
from importlib.resources import files
from typing import Final

from thinkbudget_litellm.classify.cuedata import CueData, load_cue_data
from thinkbudget_litellm.classify.tokens import lowered_words as lowered_words
from thinkbudget_litellm.classify.tokens import normalise_words as normalise_words

# Cue kinds, in the order they are reported. Intents say what is asked; the others modify how hard it is.
CHAT: Final = "chat"  # greetings, thanks, acknowledgements
STOP: Final = "stop"  # filler that does not count as content in chat detection
FACT: Final = "fact"  # wh-questions, definitions
LOOKUP: Final = "lookup"  # a simple question about pasted material
HOWTO: Final = "howto"  # "how do I ..."
TRANSLATE: Final = "translate"
CONVERT: Final = "convert"
EXPLAIN: Final = "explain"
WHY: Final = "why"  # a "why" question: debugging when code is in sight, else explaining
WRITE: Final = "write"
REWRITE: Final = "rewrite"
SUMMARIZE: Final = "summarize"
EXTRACT: Final = "extract"
CODE_WRITE: Final = "code_write"
DEBUG: Final = "debug"  # strong: needs no other evidence
DEBUG_WEAK: Final = "debug_weak"  # counts only with code or errors in sight
REVIEW: Final = "review"
DESIGN: Final = "design"
PLAN: Final = "plan"
ANALYZE: Final = "analyze"
WORD_MATH: Final = "word_math"  # grade-school word-problem vocabulary
CALCULUS: Final = "calculus"
COMPETITION: Final = "competition"
PROOF: Final = "proof"
PROOF_WEAK: Final = "proof_weak"  # the noun "proof": counts only with mathematics in sight
OLYMPIAD: Final = "olympiad"
DERIVE: Final = "derive"
RESEARCH: Final = "research"
PUZZLE: Final = "puzzle"
HARD_CODE: Final = "hard_code"
JUSTIFY: Final = "justify"
ALGO: Final = "algo"  # algorithmic topic: raises code writing to complex
CODE_WORD: Final = "code_word"  # code objects: make weak debug cues count
SCALE: Final = "scale"  # system-scale requirements: raise design towards deep
CONSTRAINT: Final = "constraint"  # explicit requirement words
PRIME_WORD: Final = "prime_word"  # primality and factorisation
MATH_OBJECT: Final = "math_object"  # integers, ways, paths... (for "how many")
WORD_OP: Final = "word_op"  # "times", "divided by": arithmetic written in words
FOLLOW: Final = "follow"  # follow-up leads and back-references
SIMPLE_ASK: Final = "simple_ask"  # "in one sentence", "yes or no": keep it short
CUE_KINDS: Final = (
    CHAT,
    STOP,
    FACT,
    LOOKUP,
    HOWTO,
    TRANSLATE,
    CONVERT,
    EXPLAIN,
    WHY,
    WRITE,
    REWRITE,
    SUMMARIZE,
    EXTRACT,
    CODE_WRITE,
    DEBUG,
    DEBUG_WEAK,
    REVIEW,
    DESIGN,
    PLAN,
    ANALYZE,
    WORD_MATH,
    CALCULUS,
    COMPETITION,
    PROOF,
    PROOF_WEAK,
    OLYMPIAD,
    DERIVE,
    RESEARCH,
    PUZZLE,
    HARD_CODE,
    JUSTIFY,
    ALGO,
    CODE_WORD,
    SCALE,
    CONSTRAINT,
    PRIME_WORD,
    MATH_OBJECT,
    WORD_OP,
    FOLLOW,
    SIMPLE_ASK,
)

CUES: Final[CueData] = load_cue_data(files("thinkbudget_litellm.classify").joinpath("data"), CUE_KINDS)

_SEPARATE_KINDS: Final = frozenset({STOP, FOLLOW, CONSTRAINT})  # looked up on demand, not matched
Phrase = tuple[str, str, str]  # padded phrase, kind, phrase


def _compile() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[Phrase, ...]]]:
    """Single words -> kinds, and key word -> (padded phrase, kind, phrase) triples."""
    words: dict[str, list[str]] = {}
    phrases: dict[str, list[Phrase]] = {}
    for kind, entries in CUES.words.items():
        if kind in _SEPARATE_KINDS:
            continue
        for entry in entries:
            parts = entry.split()  # the loader checked that entries are written as the tokenizer writes text
            if len(parts) == 1:
                words.setdefault(parts[0], []).append(kind)
            else:
                # indexed by the phrase's longest word, usually its rarest: fewer substring checks
                key = max(parts, key=len)
                phrases.setdefault(key, []).append((" " + entry + " ", kind, entry))
    return (
        {w: tuple(dict.fromkeys(k)) for w, k in words.items()},
        {w: tuple(p) for w, p in phrases.items()},
    )


WORD_KINDS, PHRASES = _compile()
# word -> (kinds it signals alone, phrases it is the key word of): one dict lookup per word
_ENTRIES: Final = {w: (WORD_KINDS.get(w, ()), PHRASES.get(w, ())) for w in frozenset(WORD_KINDS) | frozenset(PHRASES)}
_KEYS: Final = frozenset(_ENTRIES)
# Words without which ``match_cues`` cannot find a chat cue (outside Chinese and Japanese text).
CHAT_KEYS: Final = frozenset(
    w for w, (kinds, phrases) in _ENTRIES.items() if CHAT in kinds or any(kind == CHAT for _, kind, _ in phrases)
)
_CJK_KINDS: Final[dict[str, tuple[str, ...]]] = {}
for _kind, _cues in CUES.substrings.items():
    for _cue in _cues:
        _CJK_KINDS[_cue] = (*_CJK_KINDS.get(_cue, ()), _kind)
# One alternation of literals, longest first: the engine skips quickly to characters that can
# start a cue, which is much faster than one substring search per cue.
_CJK_PATTERN: Final = re.compile("|".join(re.escape(c) for c in sorted(_CJK_KINDS, key=len, reverse=True)))
CHAT_OR_STOP: Final = frozenset(w for kind in (CHAT, STOP) for entry in CUES.words.get(kind, ()) for w in entry.split())
FOLLOW_WORDS: Final = frozenset(CUES.words.get(FOLLOW, ()))
CONSTRAINT_WORDS: Final = frozenset(e for e in CUES.words.get(CONSTRAINT, ()) if " " not in e)
CONSTRAINT_PHRASES: Final = tuple(" " + e + " " for e in CUES.words.get(CONSTRAINT, ()) if " " in e)


# each phrase with its last word: without that word among the words, the phrase cannot be there
_CONSTRAINT_PHRASE_TAILS: Final = tuple((p, p.split()[-1]) for p in CONSTRAINT_PHRASES)
_CONSTRAINT_VOCABULARY: Final = CONSTRAINT_WORDS | {tail for _, tail in _CONSTRAINT_PHRASE_TAILS}


def constraint_cues(words: list[str]) -> int:
    """Distinct requirement words ("must", "without", "no more than"...) in ``words``."""
    seen = _CONSTRAINT_VOCABULARY.intersection(words)
    if not seen:
        return 0
    count = len(CONSTRAINT_WORDS & seen)
    padded = ""
    for phrase, tail in _CONSTRAINT_PHRASE_TAILS:
        if tail in seen:
            padded = padded or " " + " ".join(words) + " "
            count += phrase in padded
    return count


def match_cues(words: list[str], cjk_text: str | None = None) -> dict[str, list[str]]:
    """Kinds found in ``words`` (and, for CJK text, in ``cjk_text``) with the cue that matched."""
    found: dict[str, list[str]] = {}
    present = _KEYS.intersection(words)
    if present:
        padded = ""
        entries = _ENTRIES
        # sorted: set order depends on the string hash seed; the output must not
        for w in sorted(present) if len(present) > 1 else present:
            kinds, phrases = entries[w]
            for kind in kinds:
                hits = found.get(kind)
                if hits is None:
                    found[kind] = [w]
                else:
                    hits.append(w)
            if phrases:
                if not padded:
                    padded = " " + " ".join(words) + " "
                for padded_phrase, kind, phrase in phrases:
                    if padded_phrase in padded:
                        hits = found.get(kind)
                        if hits is None:
                            found[kind] = [phrase]
                        else:
                            hits.append(phrase)
    if cjk_text:
        for cue in _CJK_PATTERN.findall(cjk_text):
            for kind in _CJK_KINDS[cue]:
                found.setdefault(kind, []).append(cue)
    return found

"""Score one user turn: what is asked, and how much thinking it needs.

The result is a level on a 0-4 scale: 0 trivial, 1 simple, 2 moderate, 3 complex,
4 deep. The tier is the level rounded to the nearest step, with halves going up.

Each cue that matches proposes a level and a task. Some proposals depend on what else is
present:

- "fix" counts as debugging only when code or errors are in sight.
- Writing code rises to complex when an algorithmic topic is named.
- A design rises towards deep with each system-scale requirement.

The highest proposal wins, so extra words can raise a tier but never lower it. There are
two ways down. The chat rule makes a turn of greetings, thanks and filler trivial however
it is phrased. The echo rule does the same for "say OK" and "reply with just yes".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, NamedTuple

from thinkbudget_litellm.classify import lexicon as lx
from thinkbudget_litellm.classify.arithmetic import arithmetic_level, has_digit, has_math_symbols
from thinkbudget_litellm.classify.instruction import TurnView, bullets, material_kind
from thinkbudget_litellm.tiers import Task

_ECHO_VERBS: Final = frozenset({"say", "reply", "respond", "repeat", "echo", "type", "print"})
_ECHO_LEAD: Final = frozenset({"please", "just", "can", "could", "you", "now", "pls", "only"})
CJK_WINDOW: Final = 400
_CJK_LEADS: Final = (b"\xe3", b"\xe4", b"\xe5", b"\xe6", b"\xe7", b"\xe8", b"\xe9")
# Kinds that are not a request in their own right: they never block the chat rule.
_NOT_A_REQUEST: Final = frozenset(
    {
        lx.CHAT,
        lx.CODE_WORD,
        lx.SIMPLE_ASK,
        lx.FACT,
        lx.SCALE,
        lx.WORD_MATH,
        lx.MATH_OBJECT,
        lx.PROOF_WEAK,
        lx.DEBUG_WEAK,
        lx.ALGO,
        lx.PLAN,
        lx.WHY,
        lx.PRIME_WORD,
    }
)
# Kinds that only modify other proposals: the proposal loop skips them at once.
_PASSIVE: Final = frozenset(
    {
        lx.CHAT,
        lx.CODE_WORD,
        lx.SCALE,
        lx.WORD_MATH,
        lx.ALGO,
        lx.PRIME_WORD,
        lx.SIMPLE_ASK,
        lx.JUSTIFY,
        lx.WORD_OP,
    }
)
_REQUEST_OPENERS: Final = frozenset(
    {
        "please",
        "can",
        "could",
        "would",
        "tell",
        "list",
        "check",
        "find",
        "give",
        "show",
        "help",
        "look",
        "read",
        "use",
        "make",
        "create",
        "generate",
        "fix",
        "do",
        "answer",
        "solve",
        "tldr",
    }
)
MATERIAL_WITHOUT_ASK: Final = 60  # this much pasted material with (almost) no words is a request
CLOSING_CHARS: Final = 200  # a closing acknowledgement is short
MATERIAL_FOR_CLOSING: Final = 300  # pasted material this long makes a closing "thanks" the whole story
_QUESTION_KINDS: Final = frozenset({lx.FACT, lx.HOWTO, lx.LOOKUP})
_PRIORITY: Final = {
    Task.MATH: 9,
    Task.CODE: 8,
    Task.SUMMARIZE: 7,
    Task.ANALYSIS: 6,
    Task.OTHER: 6,
    Task.WRITING: 5,
    Task.FACT: 2,
    Task.CHAT: 1,
}

Proposal = tuple[float, int, Task, str, str]  # level, tie-break priority, task, intent, cue


class Judgement(NamedTuple):
    """The scorer's verdict on one turn."""

    level: float
    task: Task
    intent: str
    reasons: tuple[str, ...]
    words: list[str]
    n_words: int
    chat_only: bool
    math_level: float
    kinds: Mapping[str, Sequence[str]]
    code_material: bool | None  # code or errors in sight; None when no cue needed to know


def is_cjk(text: str) -> bool:
    """Text with Chinese or Japanese characters (UTF-8 lead bytes of U+3000..U+9FFF)."""
    if text.isascii():
        return False
    raw = text.encode("utf-8", "surrogatepass")
    return any(lead in raw for lead in _CJK_LEADS)


def _has_big_o(low: str) -> bool:
    i = low.find("o(")
    while i >= 0:
        if (i == 0 or not low[i - 1].isalnum()) and low[i + 2 : i + 3] in ("n", "1", "l", "m", "v", "e", "k"):
            return True
        i = low.find("o(", i + 2)
    return False


def _echo_request(words: list[str]) -> bool:
    for w in words[:4]:
        if w in _ECHO_VERBS:
            return True
        if w not in _ECHO_LEAD:
            return False
    return False


def score_turn(view: TurnView, *, code_in_sight: bool = False) -> Judgement:
    """Judge one user turn from its ``TurnView``; ``code_in_sight`` adds code from context."""
    text = view.instruction
    cjk = is_cjk(text)
    words = lx.normalise_words(text)
    # Chinese and Japanese cues are substring checks, so they look at a shorter window.
    cjk_window = None
    if cjk:
        head, tail = CJK_WINDOW * 3 // 4, CJK_WINDOW // 4
        cjk_window = text if len(text) <= CJK_WINDOW else text[:head] + text[-tail:]
    kinds = lx.match_cues(words, cjk_window)
    n_words = max(len(words), len(text) // 3) if cjk else len(words)
    low = text.lower()
    big_o = "o(" in low and _has_big_o(low)
    algo = big_o or lx.ALGO in kinds
    memo: dict[str, object] = {}

    def code_material() -> bool:
        """Code or errors in the material or in the conversation (looked at only when a cue asks)."""
        known = memo.get("code")
        if known is None:
            code_like, error_like = material_kind(view)
            memo["code_like"] = code_like
            known = memo["code"] = code_in_sight or code_like or error_like
        return known is True

    def code_context() -> bool:
        return lx.CODE_WORD in kinds or code_material()

    def code_listing() -> bool:
        """Code itself (not only an error log) in the material."""
        code_material()
        return memo["code_like"] is True

    props: list[Proposal] = []

    def propose(level: float, task: Task, intent: str, kind: str) -> None:
        cues = kinds.get(kind)
        props.append((level, _PRIORITY[task], task, intent, cues[0] if cues else kind))

    def constraints() -> int:
        known = memo.get("constraints")
        if not isinstance(known, int):
            known = memo["constraints"] = (
                lx.constraint_cues(words) + bullets(text) + text.count(",") // 2 + text.count(";")
            )
        return known

    for kind in kinds:
        if kind in _PASSIVE:
            continue
        if kind == lx.FACT:
            propose(1.0, Task.FACT, "fact", kind)
        elif kind == lx.LOOKUP:
            propose(1.0, Task.CODE if code_material() else Task.OTHER, "lookup", kind)
        elif kind == lx.HOWTO:
            level = 2.5 if algo else 1.6 if n_words >= 9 else 1.2
            propose(level, Task.CODE if code_context() else Task.ANALYSIS, "howto", kind)
        elif kind == lx.TRANSLATE:
            short = n_words <= 12 and view.material_chars < 200
            propose(1.0 if short else 2.0, Task.WRITING, "translate", kind)
        elif kind == lx.CONVERT:
            if view.code_blocks or code_listing():
                propose(2.0, Task.CODE, "convert code", kind)
            else:
                propose(1.0, Task.MATH, "convert units", kind)
        elif kind == lx.EXPLAIN:
            if not (lx.HOWTO in kinds and all(c == "how do" for c in kinds[kind])):
                propose(2.0, Task.CODE if code_material() else Task.ANALYSIS, "explain", kind)
        elif kind == lx.WHY:
            if code_material():
                propose(3.0, Task.CODE, "debug (why)", kind)
            else:
                propose(2.0, Task.ANALYSIS, "explain (why)", kind)
        elif kind == lx.WRITE:
            propose(2.0, Task.WRITING, "write", kind)
            if algo and lx.CODE_WRITE not in kinds:
                propose(3.0, Task.CODE, "write code", lx.ALGO)
        elif kind == lx.REWRITE:
            propose(2.0, Task.WRITING, "rewrite", kind)
        elif kind == lx.SUMMARIZE:
            propose(2.0, Task.SUMMARIZE, "summarize", kind)
        elif kind == lx.EXTRACT:
            propose(2.0, Task.OTHER, "extract", kind)
        elif kind == lx.CODE_WRITE:
            level = 3.0 if algo else 2.0
            propose(level + min(0.4, 0.1 * max(0, constraints() - 2)), Task.CODE, "write code", kind)
        elif kind == lx.DEBUG or (kind == lx.DEBUG_WEAK and code_context()):
            propose(3.0, Task.CODE, "debug", kind)
        elif kind == lx.REVIEW:
            if code_context():
                propose(3.0, Task.CODE, "review code", kind)
            else:
                propose(2.0, Task.ANALYSIS, "review", kind)
        elif kind == lx.DESIGN:
            scale = len(set(kinds.get(lx.SCALE, ())))
            level = 3.0 + min(1.0, 0.15 * scale + 0.1 * max(0, constraints() - 2))
            propose(level, Task.ANALYSIS, "design", kind)
        elif kind == lx.PLAN:
            scale = len(set(kinds.get(lx.SCALE, ())))
            # each comma-separated item in a plan is usually one more constraint
            items = constraints() + text.count(",") // 2
            propose(2.0 + min(1.0, 0.25 * items) + min(0.6, 0.15 * scale), Task.ANALYSIS, "plan", kind)
        elif kind == lx.ANALYZE:
            propose(3.0 if view.material_chars >= 300 else 2.0, Task.ANALYSIS, "analyze", kind)
        elif kind == lx.CALCULUS:
            propose(2.0, Task.MATH, "algebra/calculus", kind)
        elif kind == lx.COMPETITION:
            propose(3.0, Task.MATH, "competition math", kind)
        elif kind == lx.MATH_OBJECT:
            if "how many" in kinds.get(lx.FACT, ()):
                propose(3.0, Task.MATH, "counting", kind)
        elif kind == lx.PROOF:
            propose(4.0, Task.MATH, "proof", kind)
        elif kind == lx.PROOF_WEAK:
            math_ctx = lx.MATH_OBJECT in kinds or lx.PRIME_WORD in kinds or (has_digit(low) and has_math_symbols(low))
            if math_ctx:
                propose(4.0, Task.MATH, "proof", kind)
        elif kind == lx.OLYMPIAD:
            propose(4.0, Task.MATH, "olympiad", kind)
        elif kind == lx.DERIVE:
            propose(4.0, Task.MATH, "derivation", kind)
        elif kind == lx.RESEARCH:
            propose(4.0, Task.ANALYSIS, "research", kind)
        elif kind == lx.PUZZLE:
            propose(4.0, Task.OTHER, "search puzzle", kind)
        elif kind == lx.HARD_CODE and (lx.CODE_WRITE in kinds or lx.PROOF in kinds):
            propose(4.0, Task.CODE, "hard concurrency/distributed code", kind)
    if algo and lx.CODE_WRITE not in kinds and not (_QUESTION_KINDS & kinds.keys() or lx.EXPLAIN in kinds):
        propose(3.0, Task.CODE, "algorithm", lx.ALGO if lx.ALGO in kinds else "big-O")
    math_level, math_why = arithmetic_level(text, kinds, max(props)[0] if props else 0.0)
    if math_level > 0:
        props.append((math_level, _PRIORITY[Task.MATH], Task.MATH, "arithmetic", math_why))

    requests = kinds.keys() - _NOT_A_REQUEST
    chat_only = True
    best: Proposal
    closing_ack = _closing_acknowledgement(text) if view.material_chars >= MATERIAL_FOR_CLOSING else None
    if closing_ack is not None:
        best = (0.0, 0, Task.CHAT, "chat", closing_ack)
    elif (
        lx.CHAT in kinds
        and not requests
        and math_level == 0
        and n_words <= 25
        and _few_content_words(words, 1 if "?" in text else 3)
    ):
        best = (0.0, 0, Task.CHAT, "chat", kinds[lx.CHAT][0])
    elif n_words <= 20 and not requests - {lx.WRITE} and _echo_request(words):
        best = (0.0, 0, Task.OTHER, "echo", words[0])
    elif props:
        best = max(props)
        chat_only = False
    elif view.material_chars >= MATERIAL_WITHOUT_ASK and n_words <= 12 and (view.code_blocks or view.sample.strip()):
        # Pasted material with no request of its own ("any idea?", or nothing at all): the
        # implied request is to make sense of it, and to debug it when it carries errors.
        chat_only = False
        code_like, error_like = material_kind(view)
        if error_like:
            best = (3.0, 0, Task.CODE, "material", "pasted errors, no ask: debugging implied")
        else:
            best = (2.0, 0, Task.CODE if code_like else Task.OTHER, "material", "pasted material, no ask")
    elif not any(ch.isalnum() for ch in text[:200]):
        best = (0.0, 0, Task.CHAT, "no words", "symbols only")
    else:
        chat_only = False
        if "?" in text or "？" in text or lx.FACT in kinds:
            best = (1.0 if n_words <= 15 else 2.0, 0, Task.FACT, "question", "question")
        elif view.material_chars >= 300:
            best = (2.0, 0, Task.CODE if code_material() else Task.OTHER, "material", "pasted material")
        else:
            best = (2.0 if n_words >= 6 else 1.0, 0, Task.OTHER, "request", "no cue")

    level, _, task, intent, cue = best
    reasons = [f"{intent}: {cue}"]
    if lx.JUSTIFY in kinds and level >= 1.0:
        level += 0.5
        reasons.append(f"asks for rigour ({kinds[lx.JUSTIFY][0]})")
    if view.material_chars >= 300:
        reasons.append(f"{view.material_chars} chars of pasted material")
    code = memo.get("code")
    return Judgement(
        level,
        task,
        intent,
        tuple(reasons),
        words,
        n_words,
        chat_only,
        math_level,
        kinds,
        code if isinstance(code, bool) else None,
    )


def _closing_acknowledgement(text: str) -> str | None:
    """The chat cue of a closing "thanks!" after pasted material, unless the opening asks something.

    Pasted material followed by an acknowledgement is trivial however long it is. It stays
    trivial when the material's first lines happen to read like prose. An opening that asks
    something ("Summarise this:", a question, a request verb) still counts.
    """
    cut = text.rfind("\n\n")
    if cut < 0 or len(text) - cut > CLOSING_CHARS:
        return None
    closing = lx.normalise_words(text[cut + 2 :])
    if not closing or len(closing) > 25:
        return None
    kinds = lx.match_cues(closing)
    if lx.CHAT not in kinds or kinds.keys() - _NOT_A_REQUEST or not _few_content_words(closing, 3):
        return None
    opening = text[:cut].rstrip()
    if "?" in opening or "？" in opening or opening.endswith((":", "：")):
        return None
    first = lx.normalise_words(opening[:40])[:1]
    if first and (
        first[0] in _REQUEST_OPENERS
        or (lx.WORD_KINDS.get(first[0], ()) and not (set(lx.WORD_KINDS[first[0]]) <= _NOT_A_REQUEST))
    ):
        return None
    return kinds[lx.CHAT][0]


def _few_content_words(words: list[str], most: int) -> bool:
    """At most ``most`` words that are neither chat nor filler."""
    count = 0
    for w in words:
        if w not in lx.CHAT_OR_STOP:
            count += 1
            if count > most:
                return False
    return True

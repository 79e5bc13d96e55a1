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
# (priority, task) pairs, looked up once here: hashing an Enum member runs Python code
_MATH: Final = (_PRIORITY[Task.MATH], Task.MATH)
_CODE: Final = (_PRIORITY[Task.CODE], Task.CODE)
_SUMMARIZE: Final = (_PRIORITY[Task.SUMMARIZE], Task.SUMMARIZE)
_ANALYSIS: Final = (_PRIORITY[Task.ANALYSIS], Task.ANALYSIS)
_OTHER: Final = (_PRIORITY[Task.OTHER], Task.OTHER)
_WRITING: Final = (_PRIORITY[Task.WRITING], Task.WRITING)
_FACT: Final = (_PRIORITY[Task.FACT], Task.FACT)
_TASK_CHAT: Final = Task.CHAT
_TASK_CODE: Final = Task.CODE
_TASK_OTHER: Final = Task.OTHER
_TASK_FACT: Final = Task.FACT
# Kinds whose proposal depends on nothing else: level, priority, task, intent.
_FIXED: Final[dict[str, tuple[float, int, Task, str]]] = {
    kind: (level, pair[0], pair[1], intent)
    for kind, level, pair, intent in (
        (lx.FACT, 1.0, _FACT, "fact"),
        (lx.REWRITE, 2.0, _WRITING, "rewrite"),
        (lx.SUMMARIZE, 2.0, _SUMMARIZE, "summarize"),
        (lx.EXTRACT, 2.0, _OTHER, "extract"),
        (lx.CALCULUS, 2.0, _MATH, "algebra/calculus"),
        (lx.COMPETITION, 3.0, _MATH, "competition math"),
        (lx.PROOF, 4.0, _MATH, "proof"),
        (lx.OLYMPIAD, 4.0, _MATH, "olympiad"),
        (lx.DERIVE, 4.0, _MATH, "derivation"),
        (lx.RESEARCH, 4.0, _ANALYSIS, "research"),
        (lx.PUZZLE, 4.0, _OTHER, "search puzzle"),
    )
}


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


def _first_cue(kinds: Mapping[str, Sequence[str]], kind: str) -> str:
    cues = kinds.get(kind)
    return cues[0] if cues else kind


class _Evidence:
    """What some cues need beyond their own words, each looked at once and only when asked."""

    __slots__ = ("code", "code_in_sight", "code_like", "kinds", "n_constraints", "view", "words")

    def __init__(self, view: TurnView, code_in_sight: bool, kinds: Mapping[str, Sequence[str]], words: list[str]):
        self.view = view
        self.code_in_sight = code_in_sight
        self.kinds = kinds
        self.words = words
        self.code: bool | None = None  # None until looked at
        self.code_like = False
        self.n_constraints = -1

    def code_material(self) -> bool:
        """Code or errors in the material or in the conversation."""
        if self.code is None:
            code_like, error_like = material_kind(self.view)
            self.code_like = code_like
            self.code = self.code_in_sight or code_like or error_like
        return self.code

    def code_context(self) -> bool:
        return lx.CODE_WORD in self.kinds or self.code_material()

    def code_listing(self) -> bool:
        """Code itself (not only an error log) in the material."""
        self.code_material()
        return self.code_like

    def constraints(self) -> int:
        if self.n_constraints < 0:
            text = self.view.instruction
            self.n_constraints = lx.constraint_cues(self.words) + bullets(text) + text.count(",") // 2 + text.count(";")
        return self.n_constraints


def score_turn(view: TurnView, *, code_in_sight: bool = False) -> Judgement:
    """Judge one user turn from its ``TurnView``; ``code_in_sight`` adds code from context."""
    text = view.instruction
    cjk = is_cjk(text)
    low = text.lower()
    words = lx.lowered_words(low)
    # Chinese and Japanese cues are substring checks, so they look at a shorter window.
    cjk_window = None
    if cjk:
        head, tail = CJK_WINDOW * 3 // 4, CJK_WINDOW // 4
        cjk_window = text if len(text) <= CJK_WINDOW else text[:head] + text[-tail:]
    kinds = lx.match_cues(words, cjk_window)
    n_words = max(len(words), len(text) // 3) if cjk else len(words)
    big_o = "o(" in low and _has_big_o(low)
    algo = big_o or lx.ALGO in kinds
    props: list[Proposal] = []
    ev: _Evidence | None = None  # built on the first cue that needs more than its own words
    for kind, cues in kinds.items():
        if kind in _PASSIVE:
            continue
        cue = cues[0] if cues else kind
        fixed = _FIXED.get(kind)
        if fixed is not None:
            props.append((*fixed, cue))
            continue
        if ev is None:
            ev = _Evidence(view, code_in_sight, kinds, words)
        if kind == lx.LOOKUP:
            props.append((1.0, *(_CODE if ev.code_material() else _OTHER), "lookup", cue))
        elif kind == lx.HOWTO:
            level = 2.5 if algo else 1.6 if n_words >= 9 else 1.2
            props.append((level, *(_CODE if ev.code_context() else _ANALYSIS), "howto", cue))
        elif kind == lx.TRANSLATE:
            short = n_words <= 12 and view.material_chars < 200
            props.append((1.0 if short else 2.0, *_WRITING, "translate", cue))
        elif kind == lx.CONVERT:
            if view.code_blocks or ev.code_listing():
                props.append((2.0, *_CODE, "convert code", cue))
            else:
                props.append((1.0, *_MATH, "convert units", cue))
        elif kind == lx.EXPLAIN:
            if not (lx.HOWTO in kinds and all(c == "how do" for c in cues)):
                props.append((2.0, *(_CODE if ev.code_material() else _ANALYSIS), "explain", cue))
        elif kind == lx.WHY:
            if ev.code_material():
                props.append((3.0, *_CODE, "debug (why)", cue))
            else:
                props.append((2.0, *_ANALYSIS, "explain (why)", cue))
        elif kind == lx.WRITE:
            props.append((2.0, *_WRITING, "write", cue))
            if algo and lx.CODE_WRITE not in kinds:
                props.append((3.0, *_CODE, "write code", _first_cue(kinds, lx.ALGO)))
        elif kind == lx.CODE_WRITE:
            level = 3.0 if algo else 2.0
            props.append((level + min(0.4, 0.1 * max(0, ev.constraints() - 2)), *_CODE, "write code", cue))
        elif kind == lx.DEBUG or (kind == lx.DEBUG_WEAK and ev.code_context()):
            props.append((3.0, *_CODE, "debug", cue))
        elif kind == lx.REVIEW:
            if ev.code_context():
                props.append((3.0, *_CODE, "review code", cue))
            else:
                props.append((2.0, *_ANALYSIS, "review", cue))
        elif kind == lx.DESIGN:
            scale = len(set(kinds.get(lx.SCALE, ())))
            level = 3.0 + min(1.0, 0.15 * scale + 0.1 * max(0, ev.constraints() - 2))
            props.append((level, *_ANALYSIS, "design", cue))
        elif kind == lx.PLAN:
            scale = len(set(kinds.get(lx.SCALE, ())))
            # each comma-separated item in a plan is usually one more constraint
            items = ev.constraints() + text.count(",") // 2
            props.append((2.0 + min(1.0, 0.25 * items) + min(0.6, 0.15 * scale), *_ANALYSIS, "plan", cue))
        elif kind == lx.ANALYZE:
            props.append((3.0 if view.material_chars >= 300 else 2.0, *_ANALYSIS, "analyze", cue))
        elif kind == lx.MATH_OBJECT:
            if "how many" in kinds.get(lx.FACT, ()):
                props.append((3.0, *_MATH, "counting", cue))
        elif kind == lx.PROOF_WEAK:
            math_ctx = lx.MATH_OBJECT in kinds or lx.PRIME_WORD in kinds or (has_digit(low) and has_math_symbols(low))
            if math_ctx:
                props.append((4.0, *_MATH, "proof", cue))
        elif kind == lx.HARD_CODE and (lx.CODE_WRITE in kinds or lx.PROOF in kinds):
            props.append((4.0, *_CODE, "hard concurrency/distributed code", cue))
    if algo and lx.CODE_WRITE not in kinds and not (_QUESTION_KINDS & kinds.keys() or lx.EXPLAIN in kinds):
        props.append((3.0, *_CODE, "algorithm", _first_cue(kinds, lx.ALGO) if lx.ALGO in kinds else "big-O"))
    math_level, math_why = arithmetic_level(text, kinds, max(props)[0] if props else 0.0, low)
    if math_level > 0:
        props.append((math_level, *_MATH, "arithmetic", math_why))

    requests = kinds.keys() - _NOT_A_REQUEST
    chat_only = True
    best: Proposal
    closing_ack = _closing_acknowledgement(text) if view.material_chars >= MATERIAL_FOR_CLOSING else None
    if closing_ack is not None:
        best = (0.0, 0, _TASK_CHAT, "chat", closing_ack)
    elif (
        lx.CHAT in kinds
        and not requests
        and math_level == 0
        and n_words <= 25
        and _few_content_words(words, 1 if "?" in text else 3)
    ):
        best = (0.0, 0, _TASK_CHAT, "chat", kinds[lx.CHAT][0])
    elif n_words <= 20 and not requests - {lx.WRITE} and _echo_request(words):
        best = (0.0, 0, _TASK_OTHER, "echo", words[0])
    elif props:
        best = max(props)
        chat_only = False
    elif view.material_chars >= MATERIAL_WITHOUT_ASK and n_words <= 12 and (view.code_blocks or view.sample.strip()):
        # Pasted material with no request of its own ("any idea?", or nothing at all): the
        # implied request is to make sense of it, and to debug it when it carries errors.
        chat_only = False
        code_like, error_like = material_kind(view)
        if error_like:
            best = (3.0, 0, _TASK_CODE, "material", "pasted errors, no ask: debugging implied")
        else:
            best = (2.0, 0, _TASK_CODE if code_like else _TASK_OTHER, "material", "pasted material, no ask")
    elif not any(ch.isalnum() for ch in text[:200]):
        best = (0.0, 0, _TASK_CHAT, "no words", "symbols only")
    else:
        chat_only = False
        if "?" in text or "？" in text or lx.FACT in kinds:
            best = (1.0 if n_words <= 15 else 2.0, 0, _TASK_FACT, "question", "question")
        elif view.material_chars >= 300:
            if ev is None:
                ev = _Evidence(view, code_in_sight, kinds, words)
            best = (2.0, 0, _TASK_CODE if ev.code_material() else _TASK_OTHER, "material", "pasted material")
        else:
            best = (2.0 if n_words >= 6 else 1.0, 0, _TASK_OTHER, "request", "no cue")

    level, _, task, intent, cue = best
    reasons = [f"{intent}: {cue}"]
    if lx.JUSTIFY in kinds and level >= 1.0:
        level += 0.5
        reasons.append(f"asks for rigour ({kinds[lx.JUSTIFY][0]})")
    if view.material_chars >= 300:
        reasons.append(f"{view.material_chars} chars of pasted material")
    code = ev.code if ev is not None else None
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
        code,
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
    if not closing or len(closing) > 25 or lx.CHAT_KEYS.isdisjoint(closing):
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

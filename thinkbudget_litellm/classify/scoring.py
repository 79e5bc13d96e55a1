"""Score one user turn: what is asked, and how much thinking it needs.

The result is a level on a 0-4 scale: 0 trivial, 1 simple, 2 moderate, 3 complex,
4 deep. The tier is the level rounded to the nearest step, with halves going up.

Each cue that matches proposes a level and a task, by the rules in ``RULES``: one row per
(cue kind, condition, effect), looked at by one generic loop. Some proposals depend on what
else is present:

- "fix" counts as debugging only when code or errors are in sight.
- Writing code rises to complex when an algorithmic topic is named.
- A design rises towards deep with each system-scale requirement.

The arithmetic in the turn proposes a level too (``arithmetic``). The highest proposal wins,
so extra words can raise a tier but never lower it. There are two ways down. The chat rule
makes a turn of greetings, thanks and filler trivial however it is phrased. The echo rule
does the same for "say OK" and "reply with just yes". Last, ``MODIFIERS`` raise the winner
("justify each step").

Adding a cue kind takes its cues in the data files (see ``cuedata``), its name in
``lexicon.CUE_KINDS`` and a row here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Final, NamedTuple

from thinkbudget_litellm.classify import lexicon as lx
from thinkbudget_litellm.classify.arithmetic import arithmetic_level, has_digit, has_math_symbols
from thinkbudget_litellm.classify.instruction import TurnView, bullets, material_kind
from thinkbudget_litellm.classify.lexicon import lowered_words, match_cues
from thinkbudget_litellm.tiers import Task

# builds a NamedTuple in C (the class's own __new__ is a Python function that calls it)
_new: Final = tuple.__new__

_ECHO_VERBS: Final = lx.CUES.echo_verbs
_ECHO_LEAD: Final = lx.CUES.echo_leads
_REQUEST_OPENERS: Final = lx.CUES.request_openers
_COUNTING_QUESTIONS: Final = lx.CUES.counting_questions
_EXPLAIN_WITHIN_HOWTO: Final = lx.CUES.explain_within_howto
CJK_WINDOW: Final = 400
CJK_CHAR: Final = re.compile("[\u3000-\u9fff]")  # one character class: the engine skips to them quickly
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
_NOT_A_REQUEST_OR_WRITE: Final = _NOT_A_REQUEST | {lx.WRITE}  # "say OK" is an echo, "write OK" too
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
# (priority, task) pairs, looked up once here: an Enum member is a class attribute lookup
_MATH: Final = (_PRIORITY[Task.MATH], Task.MATH)
_CODE: Final = (_PRIORITY[Task.CODE], Task.CODE)
_ANALYSIS: Final = (_PRIORITY[Task.ANALYSIS], Task.ANALYSIS)
_OTHER: Final = (_PRIORITY[Task.OTHER], Task.OTHER)
_WRITING: Final = (_PRIORITY[Task.WRITING], Task.WRITING)
_TASK_CHAT: Final = Task.CHAT
_TASK_CODE: Final = Task.CODE
_TASK_OTHER: Final = Task.OTHER
_TASK_FACT: Final = Task.FACT


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
    """Text with Chinese or Japanese characters (U+3000..U+9FFF, the code points whose UTF-8 lead
    byte is 0xE3..0xE9)."""
    return not text.isascii() and CJK_CHAR.search(text) is not None


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


class Turn:
    """One turn as the rules see it: its words and cues, and evidence looked at once and only when asked."""

    __slots__ = (
        "algo",
        "code",
        "code_in_sight",
        "code_like",
        "derived",
        "kinds",
        "low",
        "n_constraints",
        "n_words",
        "text",
        "view",
        "words",
    )

    def __init__(self, view: TurnView, code_in_sight: bool) -> None:
        text = view.instruction
        cjk = not text.isascii() and is_cjk(text)  # the probe spares a call for ASCII text
        low = text.lower()
        words = lowered_words(low)
        # Chinese and Japanese cues are substring checks, so they look at a shorter window.
        cjk_window = None
        if cjk:
            head, tail = CJK_WINDOW * 3 // 4, CJK_WINDOW // 4
            cjk_window = text if len(text) <= CJK_WINDOW else text[:head] + text[-tail:]
        self.view = view
        self.text = text
        self.low = low
        self.words = words
        self.kinds = kinds = match_cues(words, cjk_window)
        self.n_words = max(len(words), len(text) // 3) if cjk else len(words)
        self.algo = algo = ("o(" in low and _has_big_o(low)) or lx.ALGO in kinds
        self.derived: tuple[str, ...] = _ALGORITHMIC_ONLY if algo else ()
        self.code_in_sight = code_in_sight
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
            text = self.text
            self.n_constraints = lx.constraint_cues(self.words) + bullets(text) + text.count(",") // 2 + text.count(";")
        return self.n_constraints

    def scale(self) -> int:
        """Distinct system-scale requirements named."""
        return len(set(self.kinds.get(lx.SCALE, ())))


# ------------------------------------------------------------------------------------------ the rules
Effect = Callable[[Turn, str], Proposal]  # the turn and the kind's first cue -> a proposal
Fixed = tuple[float, Task, str]  # level, task, intent: an effect that depends on nothing else
When = Callable[[Turn, Sequence[str]], bool]  # the turn, and the cues of the rule's kind
# A derived kind holds for a turn without a cue of its own: the turn computes it (``Turn.derived``).
ALGORITHMIC: Final = "algorithmic topic"  # an ``algo`` cue, or big-O notation
_ALGORITHMIC_ONLY: Final = (ALGORITHMIC,)


class Rule(NamedTuple):
    """When a cue of ``kind`` matched and ``when`` holds (None: always), ``effect`` proposes.

    ``effect`` is fixed, ``(level, task, intent)``, or computed from the turn and the kind's
    first cue. A rule of a derived kind (``ALGORITHMIC``) is looked at once when the kind holds,
    with no cues; its effect gets the kind's name as the cue.
    """

    kind: str
    when: When | None
    effect: Fixed | Effect


def _lookup(t: Turn, cue: str) -> Proposal:
    return 1.0, *(_CODE if t.code_material() else _OTHER), "lookup", cue


def _howto(t: Turn, cue: str) -> Proposal:
    level = 2.5 if t.algo else 1.6 if t.n_words >= 9 else 1.2
    return level, *(_CODE if t.code_context() else _ANALYSIS), "howto", cue


def _translate(t: Turn, cue: str) -> Proposal:
    short = t.n_words <= 12 and t.view.material_chars < 200
    return 1.0 if short else 2.0, *_WRITING, "translate", cue


def _convert(t: Turn, cue: str) -> Proposal:
    if t.view.code_blocks or t.code_listing():
        return 2.0, *_CODE, "convert code", cue
    return 1.0, *_MATH, "convert units", cue


def _not_within_howto(t: Turn, cues: Sequence[str]) -> bool:
    """Not only "how do", the start of a how-to ("how do I ...") rather than a request to explain."""
    return not (lx.HOWTO in t.kinds and all(c in _EXPLAIN_WITHIN_HOWTO for c in cues))


def _explain(t: Turn, cue: str) -> Proposal:
    return 2.0, *(_CODE if t.code_material() else _ANALYSIS), "explain", cue


def _why(t: Turn, cue: str) -> Proposal:
    if t.code_material():
        return 3.0, *_CODE, "debug (why)", cue
    return 2.0, *_ANALYSIS, "explain (why)", cue


def _algorithm_named(t: Turn, cues: Sequence[str]) -> bool:
    return t.algo and lx.CODE_WRITE not in t.kinds


def _write_algorithm(t: Turn, cue: str) -> Proposal:
    return 3.0, *_CODE, "write code", _first_cue(t.kinds, lx.ALGO)


def _code_write(t: Turn, cue: str) -> Proposal:
    level = 3.0 if t.algo else 2.0
    return level + min(0.4, 0.1 * max(0, t.constraints() - 2)), *_CODE, "write code", cue


def _code_context(t: Turn, cues: Sequence[str]) -> bool:
    return t.code_context()


def _review(t: Turn, cue: str) -> Proposal:
    if t.code_context():
        return 3.0, *_CODE, "review code", cue
    return 2.0, *_ANALYSIS, "review", cue


def _design(t: Turn, cue: str) -> Proposal:
    return 3.0 + min(1.0, 0.15 * t.scale() + 0.1 * max(0, t.constraints() - 2)), *_ANALYSIS, "design", cue


def _plan(t: Turn, cue: str) -> Proposal:
    scale = t.scale()
    # each comma-separated item in a plan is usually one more constraint
    items = t.constraints() + t.text.count(",") // 2
    return 2.0 + min(1.0, 0.25 * items) + min(0.6, 0.15 * scale), *_ANALYSIS, "plan", cue


def _analyze(t: Turn, cue: str) -> Proposal:
    return 3.0 if t.view.material_chars >= 300 else 2.0, *_ANALYSIS, "analyze", cue


def _counting_question(t: Turn, cues: Sequence[str]) -> bool:
    return not _COUNTING_QUESTIONS.isdisjoint(t.kinds.get(lx.FACT, ()))


def _math_in_sight(t: Turn, cues: Sequence[str]) -> bool:
    kinds, low = t.kinds, t.low
    return lx.MATH_OBJECT in kinds or lx.PRIME_WORD in kinds or (has_digit(low) and has_math_symbols(low))


def _code_or_proof_asked(t: Turn, cues: Sequence[str]) -> bool:
    return lx.CODE_WRITE in t.kinds or lx.PROOF in t.kinds


def _lone_algorithm(t: Turn, cues: Sequence[str]) -> bool:
    """No request to write code, ask a question or explain (with an algorithmic topic)."""
    kinds = t.kinds
    return lx.CODE_WRITE not in kinds and not (_QUESTION_KINDS & kinds.keys() or lx.EXPLAIN in kinds)


def _algorithm(t: Turn, cue: str) -> Proposal:
    return 3.0, *_CODE, "algorithm", _first_cue(t.kinds, lx.ALGO) if lx.ALGO in t.kinds else "big-O"


RULES: Final[tuple[Rule, ...]] = (
    # Rule(kind, when, effect)
    Rule(lx.FACT, None, (1.0, Task.FACT, "fact")),
    Rule(lx.REWRITE, None, (2.0, Task.WRITING, "rewrite")),
    Rule(lx.SUMMARIZE, None, (2.0, Task.SUMMARIZE, "summarize")),
    Rule(lx.EXTRACT, None, (2.0, Task.OTHER, "extract")),
    Rule(lx.CALCULUS, None, (2.0, Task.MATH, "algebra/calculus")),
    Rule(lx.COMPETITION, None, (3.0, Task.MATH, "competition math")),
    Rule(lx.PROOF, None, (4.0, Task.MATH, "proof")),
    Rule(lx.OLYMPIAD, None, (4.0, Task.MATH, "olympiad")),
    Rule(lx.DERIVE, None, (4.0, Task.MATH, "derivation")),
    Rule(lx.RESEARCH, None, (4.0, Task.ANALYSIS, "research")),
    Rule(lx.PUZZLE, None, (4.0, Task.OTHER, "search puzzle")),
    Rule(lx.LOOKUP, None, _lookup),
    Rule(lx.HOWTO, None, _howto),
    Rule(lx.TRANSLATE, None, _translate),
    Rule(lx.CONVERT, None, _convert),
    Rule(lx.EXPLAIN, _not_within_howto, _explain),
    Rule(lx.WHY, None, _why),
    Rule(lx.WRITE, None, (2.0, Task.WRITING, "write")),
    Rule(lx.WRITE, _algorithm_named, _write_algorithm),
    Rule(lx.CODE_WRITE, None, _code_write),
    Rule(lx.DEBUG, None, (3.0, Task.CODE, "debug")),
    Rule(lx.DEBUG_WEAK, _code_context, (3.0, Task.CODE, "debug")),
    Rule(lx.REVIEW, None, _review),
    Rule(lx.DESIGN, None, _design),
    Rule(lx.PLAN, None, _plan),
    Rule(lx.ANALYZE, None, _analyze),
    Rule(lx.MATH_OBJECT, _counting_question, (3.0, Task.MATH, "counting")),
    Rule(lx.PROOF_WEAK, _math_in_sight, (4.0, Task.MATH, "proof")),
    Rule(lx.HARD_CODE, _code_or_proof_asked, (4.0, Task.CODE, "hard concurrency/distributed code")),
    Rule(ALGORITHMIC, _lone_algorithm, _algorithm),
)


class Modifier(NamedTuple):
    """When ``kind`` matched and the level is at least ``at_least``, add ``raise_by`` and say why.

    A modifier's kind proposes nothing itself: it raises whatever won.
    """

    kind: str
    at_least: float
    raise_by: float
    reason: str  # formatted with the kind's first cue as {cue}


MODIFIERS: Final[tuple[Modifier, ...]] = (Modifier(lx.JUSTIFY, 1.0, 0.5, "asks for rigour ({cue})"),)

# the condition, the fixed proposal without its cue (it spares a call), and the effect
Compiled = tuple[When | None, tuple[float, int, Task, str] | None, Effect]


def _compiled_rule(rule: Rule) -> Compiled:
    effect = rule.effect
    if callable(effect):
        return rule.when, None, effect
    level, task, intent = effect
    fixed = (level, _PRIORITY[task], task, intent)
    return rule.when, fixed, lambda t, cue: (*fixed, cue)


def _compiled(rules: Sequence[Rule]) -> dict[str, tuple[Compiled, ...]]:
    """Rules by kind, in table order within a kind."""
    by_kind: dict[str, list[Compiled]] = {}
    for rule in rules:
        by_kind.setdefault(rule.kind, []).append(_compiled_rule(rule))
    return {kind: tuple(compiled) for kind, compiled in by_kind.items()}


_BY_KIND: Final = _compiled(RULES)


# ---------------------------------------------------------------------------------------- the verdict
Verdict = tuple[Proposal, bool]  # the winning proposal, and whether the turn is only chat


def _verdict(t: Turn, top: Proposal | None, math_level: float) -> Verdict:
    """The first of these decides the turn:

    1. a closing "thanks!" after pasted material: chat;
    2. greetings, thanks and filler, however they are phrased: chat;
    3. "say OK", "reply with just yes": echo;
    4. the highest proposal, ``top``;
    5. pasted material with no ask, symbols only, a question, or a plain request.
    """
    view, kinds, n_words = t.view, t.kinds, t.n_words
    if view.material_chars >= MATERIAL_FOR_CLOSING:
        ack = _closing_acknowledgement(t.text)
        if ack is not None:
            return (0.0, 0, _TASK_CHAT, "chat", ack), True
    if (
        lx.CHAT in kinds
        and not kinds.keys() - _NOT_A_REQUEST
        and math_level == 0
        and n_words <= 25
        and _few_content_words(t.words, 1 if "?" in t.text else 3)
    ):
        return (0.0, 0, _TASK_CHAT, "chat", kinds[lx.CHAT][0]), True
    if n_words <= 20 and not kinds.keys() - _NOT_A_REQUEST_OR_WRITE and _echo_request(t.words):
        return (0.0, 0, _TASK_OTHER, "echo", t.words[0]), True
    if top is not None:
        return top, False
    if view.material_chars >= MATERIAL_WITHOUT_ASK and n_words <= 12 and (view.code_blocks or view.sample.strip()):
        return _material_without_ask(view), False
    if not any(ch.isalnum() for ch in t.text[:200]):
        return (0.0, 0, _TASK_CHAT, "no words", "symbols only"), True
    return _no_cue(t), False


def _material_without_ask(view: TurnView) -> Proposal:
    """Pasted material with no request of its own ("any idea?", or nothing at all).

    The implied request is to make sense of it, and to debug it when it carries errors.
    """
    code_like, error_like = material_kind(view)
    if error_like:
        return 3.0, 0, _TASK_CODE, "material", "pasted errors, no ask: debugging implied"
    return 2.0, 0, _TASK_CODE if code_like else _TASK_OTHER, "material", "pasted material, no ask"


def _no_cue(t: Turn) -> Proposal:
    """No cue at all: a question, pasted material, or a plain request."""
    text, n_words = t.text, t.n_words
    if "?" in text or "？" in text or lx.FACT in t.kinds:
        return 1.0 if n_words <= 15 else 2.0, 0, _TASK_FACT, "question", "question"
    if t.view.material_chars >= 300:
        return 2.0, 0, _TASK_CODE if t.code_material() else _TASK_OTHER, "material", "pasted material"
    return 2.0 if n_words >= 6 else 1.0, 0, _TASK_OTHER, "request", "no cue"


def score_turn(view: TurnView, *, code_in_sight: bool = False) -> Judgement:
    """Judge one user turn from its ``TurnView``; ``code_in_sight`` adds code from context."""
    t = Turn(view, code_in_sight)
    kinds = t.kinds
    props: list[Proposal] = []
    # every rule of every matched kind, then of every derived kind
    for kind, cues in kinds.items():
        if kind in _BY_KIND:
            cue = cues[0] if cues else kind
            for when, fixed, propose in _BY_KIND[kind]:
                if when is None or when(t, cues):
                    props.append((*fixed, cue) if fixed is not None else propose(t, cue))
    for kind in t.derived:
        for when, _, propose in _BY_KIND[kind]:
            if when is None or when(t, ()):
                props.append(propose(t, kind))
    top = max(props) if props else None
    math_level, math_why = arithmetic_level(t.text, kinds, 0.0 if top is None else top[0], t.low)
    if math_level > 0:
        arithmetic: Proposal = (math_level, *_MATH, "arithmetic", math_why)
        top = arithmetic if top is None or arithmetic > top else top
    (level, _, task, intent, cue), chat_only = _verdict(t, top, math_level)
    reasons: tuple[str, ...] = (f"{intent}: {cue}",)
    for kind, at_least, raise_by, reason in MODIFIERS:
        if kind in kinds and level >= at_least:
            level += raise_by
            reasons = (*reasons, reason.format(cue=kinds[kind][0]))
    if view.material_chars >= 300:
        reasons = (*reasons, f"{view.material_chars} chars of pasted material")
    return _new(Judgement, (level, task, intent, reasons, t.words, t.n_words, chat_only, math_level, kinds, t.code))


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

"""Score one user turn: what is asked, and how much thinking it needs.

The result is a level on a 0-4 scale: 0 trivial, 1 simple, 2 moderate, 3 complex,
4 deep. The tier is the level rounded to the nearest step, with halves going up.

Each cue that matches proposes a level and a task, by the rules in ``RULES``: one row per
(cue kind, condition, effect), looked at by one generic loop. Some proposals depend on what
else is present:

- "fix" counts as debugging only when code or errors are in sight.
- Writing code rises to complex when an algorithmic topic is named.
- A design rises towards deep with each system-scale requirement.

The arithmetic in the turn proposes a level too (``arithmetic``). Then ``STEPS`` decide, in
order. The highest proposal wins, so extra words can raise a tier but never lower it. There
are two ways down. The chat step makes a turn of greetings, thanks and filler trivial however
it is phrased. The echo step does the same for "say OK" and "reply with just yes".
Last, ``MODIFIERS`` raise the winner ("justify each step").

Adding a cue kind takes its cues in the data files (see ``cuedata``), its name in
``lexicon.CUE_KINDS`` and a row here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final, NamedTuple

from thinkbudget_litellm.classify import lexicon as lx
from thinkbudget_litellm.classify.arithmetic import arithmetic_level, has_digit, has_math_symbols
from thinkbudget_litellm.classify.instruction import TurnView, bullets, material_kind
from thinkbudget_litellm.tiers import Task

_ECHO_VERBS: Final = lx.CUES.echo_verbs
_ECHO_LEAD: Final = lx.CUES.echo_leads
_REQUEST_OPENERS: Final = lx.CUES.request_openers
_COUNTING_QUESTIONS: Final = lx.CUES.counting_questions
_EXPLAIN_WITHIN_HOWTO: Final = lx.CUES.explain_within_howto
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
# looked up once here: an Enum member is a class attribute lookup through the metaclass
_MATH: Final = (_PRIORITY[Task.MATH], Task.MATH)
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


class Turn:
    """One turn as the rules see it: its words and cues, and evidence looked at once and only when asked."""

    __slots__ = (
        "algo",
        "code",
        "code_in_sight",
        "code_like",
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
        cjk = is_cjk(text)
        low = text.lower()
        words = lx.lowered_words(low)
        # Chinese and Japanese cues are substring checks, so they look at a shorter window.
        cjk_window = None
        if cjk:
            head, tail = CJK_WINDOW * 3 // 4, CJK_WINDOW // 4
            cjk_window = text if len(text) <= CJK_WINDOW else text[:head] + text[-tail:]
        self.view = view
        self.text = text
        self.low = low
        self.words = words
        self.kinds = lx.match_cues(words, cjk_window)
        self.n_words = max(len(words), len(text) // 3) if cjk else len(words)
        self.algo = ("o(" in low and _has_big_o(low)) or lx.ALGO in self.kinds
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
Level = Callable[[Turn], float]
Pick = Callable[[Turn], Task]
When = Callable[[Turn, Sequence[str]], bool]  # the turn, and the cues of the rule's kind
PER_TURN: Final = None  # the kind of a rule looked at once per turn, not once per matching kind


class Rule(NamedTuple):
    """When ``kind`` matched and ``when`` holds, propose ``level`` and ``task`` with ``intent``.

    ``kind`` ``PER_TURN`` (None) makes a rule that is looked at once per turn. ``level`` and
    ``task`` are fixed or computed from the turn. The proposal's cue is the kind's first cue,
    or what ``cue`` says.
    """

    kind: str | None
    intent: str
    level: float | Level
    task: Task | Pick
    when: When | None = None
    cue: Callable[[Turn], str] | None = None


def _code_or(other: Task) -> Pick:
    return lambda t: _TASK_CODE if t.code_material() else other


def _code_context_or(other: Task) -> Pick:
    return lambda t: _TASK_CODE if t.code_context() else other


def _code_in_view(t: Turn) -> bool:
    return bool(t.view.code_blocks) or t.code_listing()


def _has_kind(*kinds: str) -> When:
    return lambda t, _: any(kind in t.kinds for kind in kinds)


def _math_in_sight(t: Turn, _: Sequence[str]) -> bool:
    kinds, low = t.kinds, t.low
    return lx.MATH_OBJECT in kinds or lx.PRIME_WORD in kinds or (has_digit(low) and has_math_symbols(low))


def _lone_algorithm(t: Turn, _: Sequence[str]) -> bool:
    """An algorithmic topic with no request to write code, ask a question or explain."""
    kinds = t.kinds
    return t.algo and lx.CODE_WRITE not in kinds and not (_QUESTION_KINDS & kinds.keys() or lx.EXPLAIN in kinds)


RULES: Final[tuple[Rule, ...]] = (
    Rule(lx.FACT, "fact", 1.0, Task.FACT),
    Rule(lx.REWRITE, "rewrite", 2.0, Task.WRITING),
    Rule(lx.SUMMARIZE, "summarize", 2.0, Task.SUMMARIZE),
    Rule(lx.EXTRACT, "extract", 2.0, Task.OTHER),
    Rule(lx.CALCULUS, "algebra/calculus", 2.0, Task.MATH),
    Rule(lx.COMPETITION, "competition math", 3.0, Task.MATH),
    Rule(lx.PROOF, "proof", 4.0, Task.MATH),
    Rule(lx.OLYMPIAD, "olympiad", 4.0, Task.MATH),
    Rule(lx.DERIVE, "derivation", 4.0, Task.MATH),
    Rule(lx.RESEARCH, "research", 4.0, Task.ANALYSIS),
    Rule(lx.PUZZLE, "search puzzle", 4.0, Task.OTHER),
    Rule(lx.LOOKUP, "lookup", 1.0, _code_or(Task.OTHER)),
    Rule(
        lx.HOWTO, "howto", lambda t: 2.5 if t.algo else 1.6 if t.n_words >= 9 else 1.2, _code_context_or(Task.ANALYSIS)
    ),
    Rule(
        lx.TRANSLATE,
        "translate",
        lambda t: 1.0 if t.n_words <= 12 and t.view.material_chars < 200 else 2.0,
        Task.WRITING,
    ),
    Rule(lx.CONVERT, "convert code", 2.0, Task.CODE, when=lambda t, _: _code_in_view(t)),
    Rule(lx.CONVERT, "convert units", 1.0, Task.MATH, when=lambda t, _: not _code_in_view(t)),
    # "how do" alone is the start of a how-to ("how do I ..."), not a request to explain
    Rule(
        lx.EXPLAIN,
        "explain",
        2.0,
        _code_or(Task.ANALYSIS),
        when=lambda t, cues: not (lx.HOWTO in t.kinds and all(c in _EXPLAIN_WITHIN_HOWTO for c in cues)),
    ),
    Rule(lx.WHY, "debug (why)", 3.0, Task.CODE, when=lambda t, _: t.code_material()),
    Rule(lx.WHY, "explain (why)", 2.0, Task.ANALYSIS, when=lambda t, _: not t.code_material()),
    Rule(lx.WRITE, "write", 2.0, Task.WRITING),
    Rule(
        lx.WRITE,
        "write code",
        3.0,
        Task.CODE,
        when=lambda t, _: t.algo and lx.CODE_WRITE not in t.kinds,
        cue=lambda t: _first_cue(t.kinds, lx.ALGO),
    ),
    Rule(
        lx.CODE_WRITE,
        "write code",
        lambda t: (3.0 if t.algo else 2.0) + min(0.4, 0.1 * max(0, t.constraints() - 2)),
        Task.CODE,
    ),
    Rule(lx.DEBUG, "debug", 3.0, Task.CODE),
    Rule(lx.DEBUG_WEAK, "debug", 3.0, Task.CODE, when=lambda t, _: t.code_context()),
    Rule(lx.REVIEW, "review code", 3.0, Task.CODE, when=lambda t, _: t.code_context()),
    Rule(lx.REVIEW, "review", 2.0, Task.ANALYSIS, when=lambda t, _: not t.code_context()),
    Rule(
        lx.DESIGN,
        "design",
        lambda t: 3.0 + min(1.0, 0.15 * t.scale() + 0.1 * max(0, t.constraints() - 2)),
        Task.ANALYSIS,
    ),
    # each comma-separated item in a plan is usually one more constraint
    Rule(
        lx.PLAN,
        "plan",
        lambda t: 2.0 + min(1.0, 0.25 * (t.constraints() + t.text.count(",") // 2)) + min(0.6, 0.15 * t.scale()),
        Task.ANALYSIS,
    ),
    Rule(lx.ANALYZE, "analyze", lambda t: 3.0 if t.view.material_chars >= 300 else 2.0, Task.ANALYSIS),
    Rule(
        lx.MATH_OBJECT,
        "counting",
        3.0,
        Task.MATH,
        when=lambda t, _: not _COUNTING_QUESTIONS.isdisjoint(t.kinds.get(lx.FACT, ())),
    ),
    Rule(lx.PROOF_WEAK, "proof", 4.0, Task.MATH, when=_math_in_sight),
    Rule(lx.HARD_CODE, "hard concurrency/distributed code", 4.0, Task.CODE, when=_has_kind(lx.CODE_WRITE, lx.PROOF)),
    Rule(
        PER_TURN,
        "algorithm",
        3.0,
        Task.CODE,
        when=_lone_algorithm,
        cue=lambda t: _first_cue(t.kinds, lx.ALGO) if lx.ALGO in t.kinds else "big-O",
    ),
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

Propose = Callable[[Turn, str], Proposal]  # the turn and the cue -> the rule's proposal


def _proposer(rule: Rule) -> Propose:
    """The rule's effect as one call; fixed level and task are looked up once, here."""
    level, task, intent, cue_of = rule.level, rule.task, rule.intent, rule.cue
    if cue_of is None and not callable(level) and not callable(task):
        head = (level, _PRIORITY[task], task, intent)
        return lambda t, cue: (*head, cue)

    def propose(t: Turn, cue: str) -> Proposal:
        picked = task(t) if callable(task) else task
        return (
            level(t) if callable(level) else level,
            _PRIORITY[picked],
            picked,
            intent,
            cue_of(t) if cue_of is not None else cue,
        )

    return propose


Compiled = tuple[When | None, Propose]


def _compiled(rules: Sequence[Rule]) -> tuple[dict[str, tuple[Compiled, ...]], tuple[Compiled, ...]]:
    """Rules by kind (in table order within a kind), and the rules looked at once per turn."""
    by_kind: dict[str | None, list[Compiled]] = {}
    for rule in rules:
        by_kind.setdefault(rule.kind, []).append((rule.when, _proposer(rule)))
    per_turn = tuple(by_kind.pop(PER_TURN, ()))
    return {kind: tuple(compiled) for kind, compiled in by_kind.items() if kind is not None}, per_turn


_BY_KIND, _PER_TURN = _compiled(RULES)


def _proposals(t: Turn) -> list[Proposal]:
    """What every rule proposes for this turn: per matched kind, then once per turn."""
    props: list[Proposal] = []
    for kind, cues in t.kinds.items():
        rules = _BY_KIND.get(kind)
        if rules is not None:
            cue = cues[0] if cues else kind
            for when, propose in rules:
                if when is None or when(t, cues):
                    props.append(propose(t, cue))
    for when, propose in _PER_TURN:
        if when is None or when(t, ()):
            props.append(propose(t, ""))
    return props


# ---------------------------------------------------------------------------------------- the verdict
Verdict = tuple[Proposal, bool]  # the winning proposal, and whether the turn is only chat
# Each step decides the turn or passes (None); the first that decides wins, and a turn that no
# step decides is judged by ``_no_cue``. A step sees the turn, the proposals and the arithmetic level.
Step = Callable[[Turn, list[Proposal], float], Verdict | None]


def _closing_step(t: Turn, props: list[Proposal], math_level: float) -> Verdict | None:
    if t.view.material_chars < MATERIAL_FOR_CLOSING:
        return None
    ack = _closing_acknowledgement(t.text)
    return None if ack is None else ((0.0, 0, _TASK_CHAT, "chat", ack), True)


def _chat_step(t: Turn, props: list[Proposal], math_level: float) -> Verdict | None:
    """Greetings, thanks and filler are trivial however they are phrased."""
    kinds = t.kinds
    if (
        lx.CHAT in kinds
        and not kinds.keys() - _NOT_A_REQUEST
        and math_level == 0
        and t.n_words <= 25
        and _few_content_words(t.words, 1 if "?" in t.text else 3)
    ):
        return (0.0, 0, _TASK_CHAT, "chat", kinds[lx.CHAT][0]), True
    return None


def _echo_step(t: Turn, props: list[Proposal], math_level: float) -> Verdict | None:
    """ "Say OK", "reply with just yes": trivial."""
    if t.n_words <= 20 and not t.kinds.keys() - _NOT_A_REQUEST - {lx.WRITE} and _echo_request(t.words):
        return (0.0, 0, _TASK_OTHER, "echo", t.words[0]), True
    return None


def _best_proposal_step(t: Turn, props: list[Proposal], math_level: float) -> Verdict | None:
    return (max(props), False) if props else None


def _material_step(t: Turn, props: list[Proposal], math_level: float) -> Verdict | None:
    """Pasted material with no request of its own ("any idea?", or nothing at all).

    The implied request is to make sense of it, and to debug it when it carries errors.
    """
    view = t.view
    if not (
        view.material_chars >= MATERIAL_WITHOUT_ASK and t.n_words <= 12 and (view.code_blocks or view.sample.strip())
    ):
        return None
    code_like, error_like = material_kind(view)
    if error_like:
        return (3.0, 0, _TASK_CODE, "material", "pasted errors, no ask: debugging implied"), False
    return (2.0, 0, _TASK_CODE if code_like else _TASK_OTHER, "material", "pasted material, no ask"), False


def _symbols_step(t: Turn, props: list[Proposal], math_level: float) -> Verdict | None:
    if any(ch.isalnum() for ch in t.text[:200]):
        return None
    return (0.0, 0, _TASK_CHAT, "no words", "symbols only"), True


def _no_cue(t: Turn) -> Verdict:
    """No cue at all: a question, pasted material, or a plain request."""
    text, n_words = t.text, t.n_words
    if "?" in text or "？" in text or lx.FACT in t.kinds:
        return (1.0 if n_words <= 15 else 2.0, 0, _TASK_FACT, "question", "question"), False
    if t.view.material_chars >= 300:
        return (2.0, 0, _TASK_CODE if t.code_material() else _TASK_OTHER, "material", "pasted material"), False
    return (2.0 if n_words >= 6 else 1.0, 0, _TASK_OTHER, "request", "no cue"), False


STEPS: Final[tuple[Step, ...]] = (
    _closing_step,
    _chat_step,
    _echo_step,
    _best_proposal_step,
    _material_step,
    _symbols_step,
)


def _verdict(t: Turn, props: list[Proposal], math_level: float) -> Verdict:
    for step in STEPS:
        verdict = step(t, props, math_level)
        if verdict is not None:
            return verdict
    return _no_cue(t)


def score_turn(view: TurnView, *, code_in_sight: bool = False) -> Judgement:
    """Judge one user turn from its ``TurnView``; ``code_in_sight`` adds code from context."""
    t = Turn(view, code_in_sight)
    props = _proposals(t)
    math_level, math_why = arithmetic_level(t.text, t.kinds, max(props)[0] if props else 0.0, t.low)
    if math_level > 0:
        props.append((math_level, *_MATH, "arithmetic", math_why))
    (level, _, task, intent, cue), chat_only = _verdict(t, props, math_level)
    reasons = [f"{intent}: {cue}"]
    for modifier in MODIFIERS:
        cues = t.kinds.get(modifier.kind)
        if cues is not None and level >= modifier.at_least:
            level += modifier.raise_by
            reasons.append(modifier.reason.format(cue=cues[0]))
    if view.material_chars >= 300:
        reasons.append(f"{view.material_chars} chars of pasted material")
    return Judgement(level, task, intent, tuple(reasons), t.words, t.n_words, chat_only, math_level, t.kinds, t.code)


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

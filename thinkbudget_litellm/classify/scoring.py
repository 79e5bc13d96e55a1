"""Score one user turn: what is asked, and how much thinking it needs.

The result is a level on a 0-4 scale: 0 trivial, 1 simple, 2 moderate, 3 complex,
4 deep. The tier is the level rounded to the nearest step.

Each cue that matches proposes a level and a task. Some proposals depend on what else is
present:

- "fix" counts as debugging only when code or errors are in sight.
- Writing code rises to complex when an algorithmic topic is named.
- A design rises towards deep with each system-scale requirement.

The highest proposal wins, so extra words can raise a tier but never lower it. The only
way down is the chat rule: a turn made of greetings, thanks and filler is trivial however
it is phrased.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from thinkbudget_litellm.classify import lexicon as lx
from thinkbudget_litellm.classify.arithmetic import arithmetic_level, has_digit, has_math_symbols
from thinkbudget_litellm.classify.instruction import TurnView
from thinkbudget_litellm.tiers import Task

_ECHO_VERBS: Final = frozenset({"say", "reply", "respond", "repeat", "echo", "type", "print"})
_ECHO_LEAD: Final = frozenset({"please", "just", "can", "could", "you", "now", "pls", "only"})
_FOLLOW_LEADS: Final = frozenset(
    {"and", "also", "now", "what", "how", "then", "but", "ok", "okay", "so", "same", "instead", "continue",
     "more", "y", "et", "und", "и", "e", "а", "и", "can", "could", "make", "why", "is", "does", "do"}
)
_CJK_LEADS: Final = (b"\xe3", b"\xe4", b"\xe5", b"\xe6", b"\xe7", b"\xe8", b"\xe9")
# Kinds that are not a request in their own right: they never block the chat rule.
_NOT_A_REQUEST: Final = frozenset(
    {lx.CHAT, lx.STOP, lx.FOLLOW, lx.CONSTRAINT, lx.CODE_WORD, lx.SIMPLE_ASK, lx.FACT, lx.SCALE,
     lx.WORD_MATH, lx.MATH_OBJECT, lx.PROOF_WEAK, lx.DEBUG_WEAK, lx.ALGO, lx.PLAN, lx.WHY}
)
_QUESTION_KINDS: Final = frozenset({lx.FACT, lx.HOWTO, lx.LOOKUP})
_PRIORITY: Final = {
    Task.MATH: 9, Task.CODE: 8, Task.SUMMARIZE: 7, Task.ANALYSIS: 6, Task.OTHER: 6, Task.WRITING: 5,
    Task.FACT: 2, Task.CHAT: 1,
}


@dataclass(frozen=True, slots=True)
class Judgement:
    """The scorer's verdict on one turn."""

    level: float
    task: Task
    intent: str
    reasons: tuple[str, ...]
    words: int
    chat_only: bool
    follow_lead: bool  # reads like a follow-up ("and for n = 10^6?", "make it shorter")
    strong: bool  # names its own request (an intent cue, not only question words)
    math_level: float
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Proposal:
    level: float
    task: Task
    intent: str
    cue: str


def _is_cjk(text: str) -> bool:
    if text.isascii():
        return False
    raw = text.encode("utf-8", "surrogatepass")
    return any(lead in raw for lead in _CJK_LEADS)


def _cue(kinds: Mapping[str, Sequence[str]], kind: str) -> str:
    return kinds[kind][0]


def _has_big_o(low: str) -> bool:
    i = low.find("o(")
    while i >= 0:
        if i == 0 or not low[i - 1].isalnum():
            nxt = low[i + 2 : i + 3]
            if nxt in ("n", "1", "l", "m", "v", "e", "k"):
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


def _constraint_count(kinds: Mapping[str, Sequence[str]], text: str, view: TurnView) -> int:
    return len(set(kinds.get(lx.CONSTRAINT, ()))) + view.bullets + text.count(",") // 2 + text.count(";")


def score_turn(view: TurnView, *, code_in_sight: bool = False) -> Judgement:
    """Judge one user turn from its ``TurnView``; ``code_in_sight`` adds code from context."""
    text = view.instruction
    cjk = _is_cjk(text)
    words = lx.normalise_words(text)
    kinds = lx.match_cues(words, text if cjk else None)
    n_words = max(len(words), len(text) // 3) if cjk else len(words)
    low = text.lower()
    code_material = view.code_like or view.error_like or code_in_sight
    code_context = code_material or lx.CODE_WORD in kinds
    big_o = "o(" in low and _has_big_o(low)
    math_ctx = has_digit(low) and (has_math_symbols(low) or lx.MATH_OBJECT in kinds or lx.PRIME_WORD in kinds)
    math_ctx = math_ctx or lx.MATH_OBJECT in kinds and lx.PROOF_WEAK in kinds
    math_level, math_why = arithmetic_level(text, kinds)
    constraints = _constraint_count(kinds, text, view)
    scale = len(set(kinds.get(lx.SCALE, ())))
    question = "?" in text or "？" in text

    props: list[_Proposal] = []

    def propose(level: float, task: Task, intent: str, kind: str) -> None:
        props.append(_Proposal(level, task, intent, _cue(kinds, kind) if kind in kinds else kind))

    code_task = Task.CODE if code_material else Task.ANALYSIS
    if lx.FACT in kinds:
        propose(1.0, Task.FACT, "fact", lx.FACT)
    if lx.LOOKUP in kinds:
        propose(1.0, Task.CODE if code_material else Task.OTHER, "lookup", lx.LOOKUP)
    if lx.HOWTO in kinds:
        level = 1.2 + (0.4 if n_words >= 9 else 0.0)
        if lx.ALGO in kinds or big_o:
            level = 2.5
        propose(level, Task.CODE if code_context else Task.ANALYSIS, "howto", lx.HOWTO)
    if lx.TRANSLATE in kinds:
        short = n_words <= 12 and view.material_chars < 200
        propose(1.0 if short else 2.0, Task.WRITING, "translate", lx.TRANSLATE)
    if lx.CONVERT in kinds:
        if view.code_like:
            propose(2.0, Task.CODE, "convert code", lx.CONVERT)
        else:
            propose(1.0, Task.MATH, "convert units", lx.CONVERT)
    explain_cues = kinds.get(lx.EXPLAIN, ())
    if explain_cues and not (lx.HOWTO in kinds and all(c == "how do" for c in explain_cues)):
        propose(2.0, code_task, "explain", lx.EXPLAIN)
    if lx.WHY in kinds:
        if view.code_like or view.error_like or code_in_sight:
            propose(3.0, Task.CODE, "debug (why)", lx.WHY)
        else:
            propose(2.0, Task.ANALYSIS, "explain (why)", lx.WHY)
    if lx.WRITE in kinds:
        propose(2.0, Task.WRITING, "write", lx.WRITE)
    if lx.REWRITE in kinds:
        propose(2.0, Task.WRITING, "rewrite", lx.REWRITE)
    if lx.SUMMARIZE in kinds:
        propose(2.0, Task.SUMMARIZE, "summarize", lx.SUMMARIZE)
    if lx.EXTRACT in kinds:
        propose(2.0, Task.OTHER, "extract", lx.EXTRACT)
    if lx.CODE_WRITE in kinds or (lx.WRITE in kinds and (lx.ALGO in kinds or big_o)):
        level = 2.0
        if lx.ALGO in kinds or big_o:
            level = 3.0
        level += min(0.4, 0.1 * max(0, constraints - 2))
        propose(level, Task.CODE, "write code", lx.CODE_WRITE)
    elif (lx.ALGO in kinds or big_o) and not (_QUESTION_KINDS & kinds.keys() or lx.EXPLAIN in kinds):
        propose(3.0, Task.CODE, "algorithm", lx.ALGO if lx.ALGO in kinds else "big-O")
    if lx.DEBUG in kinds:
        propose(3.0, Task.CODE, "debug", lx.DEBUG)
    if lx.DEBUG_WEAK in kinds and code_context:
        propose(3.0, Task.CODE, "debug", lx.DEBUG_WEAK)
    if lx.REVIEW in kinds:
        if code_context:
            propose(3.0, Task.CODE, "review code", lx.REVIEW)
        else:
            propose(2.0, Task.ANALYSIS, "review", lx.REVIEW)
    if lx.DESIGN in kinds:
        level = 3.0 + min(1.0, 0.15 * scale + 0.1 * max(0, constraints - 2))
        propose(level, Task.ANALYSIS, "design", lx.DESIGN)
    if lx.PLAN in kinds:
        # each comma-separated item in a plan is usually one more constraint
        level = 2.0 + min(1.0, 0.25 * (constraints + text.count(",") // 2)) + min(0.6, 0.15 * scale)
        propose(level, Task.ANALYSIS, "plan", lx.PLAN)
    if lx.ANALYZE in kinds:
        propose(3.0 if view.material_chars >= 300 else 2.0, Task.ANALYSIS, "analyze", lx.ANALYZE)
    if lx.CALCULUS in kinds:
        propose(2.0, Task.MATH, "algebra/calculus", lx.CALCULUS)
    if lx.COMPETITION in kinds:
        propose(3.0, Task.MATH, "competition math", lx.COMPETITION)
    if lx.MATH_OBJECT in kinds and any(c == "how many" for c in kinds.get(lx.FACT, ())):
        propose(3.0, Task.MATH, "counting", lx.MATH_OBJECT)
    if lx.PROOF in kinds:
        propose(4.0, Task.MATH, "proof", lx.PROOF)
    if lx.PROOF_WEAK in kinds and math_ctx:
        propose(4.0, Task.MATH, "proof", lx.PROOF_WEAK)
    if lx.OLYMPIAD in kinds:
        propose(4.0, Task.MATH, "olympiad", lx.OLYMPIAD)
    if lx.DERIVE in kinds:
        propose(4.0, Task.MATH, "derivation", lx.DERIVE)
    if lx.RESEARCH in kinds:
        propose(4.0, Task.ANALYSIS, "research", lx.RESEARCH)
    if lx.PUZZLE in kinds:
        propose(4.0, Task.OTHER, "search puzzle", lx.PUZZLE)
    if lx.HARD_CODE in kinds and (lx.CODE_WRITE in kinds or lx.PROOF in kinds):
        propose(4.0, Task.CODE, "hard concurrency/distributed code", lx.HARD_CODE)
    if math_level > 0:
        props.append(_Proposal(math_level, Task.MATH, "arithmetic", math_why))

    strong = any(p.intent not in ("fact", "lookup") for p in props)
    first = words[0] if words else ""
    follow_lead = first in _FOLLOW_LEADS or lx.FOLLOW in kinds
    chat_only = False
    reasons: list[str] = []

    # With pasted material, only the closing remark counts as what the user says.
    closing = lx.normalise_words(text[text.rfind("\n\n") + 2 :]) if view.material_chars >= 300 else words
    content = [w for w in closing if w not in lx.CHAT_OR_STOP]
    requests = kinds.keys() - _NOT_A_REQUEST
    if lx.CHAT in kinds and not requests and len(content) <= 3 and math_level == 0 and n_words <= 25:
        best = _Proposal(0.0, Task.CHAT, "chat", _cue(kinds, lx.CHAT))
        chat_only = True
    elif _echo_request(words) and n_words <= 20 and not requests - {lx.WRITE}:
        best = _Proposal(0.0, Task.OTHER, "echo", words[0])
        chat_only = True
    elif props:
        best = max(props, key=lambda p: (p.level, _PRIORITY.get(p.task, 0)))
    elif not any(ch.isalnum() for ch in text[:200]):
        best = _Proposal(0.0, Task.CHAT, "no words", "symbols only")
        chat_only = True
    elif question or lx.FACT in kinds:
        best = _Proposal(1.0 if n_words <= 15 else 2.0, Task.FACT, "question", "question")
    elif view.material_chars >= 300:
        best = _Proposal(2.0, Task.CODE if code_material else Task.OTHER, "material", "pasted material")
    else:
        best = _Proposal(2.0 if n_words >= 6 else 1.0, Task.OTHER, "request", "no cue")

    level = best.level
    if lx.JUSTIFY in kinds and level >= 1.0:
        level += 0.5
        reasons.append(f"asks for rigour ({_cue(kinds, lx.JUSTIFY)})")
    reasons.insert(0, f"{best.intent}: {best.cue}")
    if scale and best.intent in ("design", "plan"):
        reasons.append(f"{scale} scale requirements")
    if view.material_chars >= 300:
        reasons.append(f"{view.material_chars} chars of pasted material")
    return Judgement(
        level=level,
        task=best.task,
        intent=best.intent,
        reasons=tuple(reasons),
        words=n_words,
        chat_only=chat_only,
        follow_lead=follow_lead,
        strong=strong,
        math_level=math_level,
        kinds=tuple(sorted(kinds)),
    )

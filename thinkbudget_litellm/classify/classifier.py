"""``classify``: the tier and task of a chat request, without calling any model.

Pure and deterministic: the same input always gives the same answer, and nothing is
read from the clock, the network or the environment.
"""

from __future__ import annotations

from typing import Final

from thinkbudget_litellm.classify import lexicon as lx
from thinkbudget_litellm.classify.classification import Classification
from thinkbudget_litellm.classify.conversation import Conversation, read_conversation
from thinkbudget_litellm.classify.features import Features
from thinkbudget_litellm.classify.instruction import view_turn
from thinkbudget_litellm.classify.learned import RulePass, decide_tier, shipped_model
from thinkbudget_litellm.classify.scoring import Judgement, score_turn
from thinkbudget_litellm.tiers import TIER_ORDER, Task, Tier

# builds a NamedTuple in C (the class's own __new__ is a Python function that calls it)
_new: Final = tuple.__new__

FOLLOW_UP_WORDS: Final = 20  # a turn this short can lean on the turns before it
CONTEXT_INSTRUCTION_LIMIT: Final = 400  # earlier turns are judged on a shorter instruction
# follow-up openings, from the cue data: connectors ("and for n = 10^6?", "now in Spanish"),
# two-word openings ("what about", "make it") and one-word probes ("why?", "really?")
_FOLLOW_LEADS: Final = lx.CUES.follow_leads
_FOLLOW_PAIRS: Final = lx.CUES.follow_pairs
_SHORT_PROBES: Final = lx.CUES.short_probes
_INHERIT_TASK_FROM: Final = frozenset({"fact", "lookup", "question", "request", "arithmetic", "translate", "rewrite"})


_LAST_TIER: Final = len(TIER_ORDER) - 1


def level_to_tier(level: float) -> Tier:
    """0-4 level to tier; a level halfway between two tiers goes up."""
    index = int(level + 0.5)
    if 0 <= index <= _LAST_TIER:
        return TIER_ORDER[index]
    return TIER_ORDER[0 if index < 0 else _LAST_TIER]


def _context_judgement(conv: Conversation) -> Judgement | None:
    """The thread's difficulty: the newest earlier turn that is not itself a follow-up.

    Short follow-ups met on the way ("and Chile?") are passed over, so a chain of them still
    leans on the question that started the thread.
    """
    best: Judgement | None = None
    for turn in conv.context:
        judged = score_turn(view_turn(turn, CONTEXT_INSTRUCTION_LIMIT))
        if best is None or judged.level > best.level:
            best = judged
        if not _is_follow_up(judged):
            break
    return best


def _is_follow_up(own: Judgement) -> bool:
    if own.chat_only or own.n_words > FOLLOW_UP_WORDS:
        return False
    words = own.words
    if not words:
        return False
    if words[0] in _FOLLOW_LEADS or tuple(words[:2]) in _FOLLOW_PAIRS:
        return True
    if len(words) <= 3 and words[0] in _SHORT_PROBES:
        return True
    return not lx.FOLLOW_WORDS.isdisjoint(words)


def rule_pass(messages_or_text: object) -> RulePass:
    """What the rules make of a prompt string or a list of OpenAI chat messages (see ``classify``)."""
    conv = read_conversation(messages_or_text)
    view = view_turn(conv.ask)
    own = score_turn(view, code_in_sight=conv.context_has_code or conv.tool_results > 0)
    level, task, reasons = own.level, own.task, own.reasons
    inherited = 0.0
    if conv.context and _is_follow_up(own):
        ctx = _context_judgement(conv)
        if ctx is not None and ctx.level > level:
            inherited = level = ctx.level
            if own.intent in _INHERIT_TASK_FROM or own.level < 1.0:
                task = ctx.task
            reasons = (*reasons, f"follow-up: inherits {ctx.intent} from an earlier turn")
    if conv.images and level < 1.0 and (not own.chat_only or own.intent == "no words"):
        level = 1.0
        reasons = (*reasons, "an image to look at")
    if not conv.images and not view.instruction.strip() and not view.material_chars:
        level, task, reasons = 0.0, Task.CHAT, ("empty prompt",)
    return _new(RulePass, (conv, view, own, level, inherited, task, reasons))


def classify_rules(messages_or_text: object) -> Classification:
    """The rule stage alone: the tier is the rules' level rounded to the nearest step. Its
    answers are pinned by the golden test; ``classify`` builds on them."""
    rp = rule_pass(messages_or_text)
    features = Features(rp)
    return Classification(level_to_tier(rp.level), rp.task, rp.level, features, rp.reasons)


def classify(messages_or_text: object, risk: float | None = None) -> Classification:
    """Classify a prompt string or a list of OpenAI chat messages.

    The rules read the request; the learned stage (``learned``), where the package ships one,
    turns what they found and the ask's words into per-tier probabilities, and the tier is the
    lowest whose chance of being too low is at most ``risk`` (the model's tuned default when
    None). An empty prompt is trivial whatever the model says.

    Raises ``TypeError`` for values that cannot be a prompt (``None``, numbers, bytes) and
    ``ValueError`` for a mapping that is neither a message nor a request body. Malformed
    messages inside a list are skipped.
    """
    rp = rule_pass(messages_or_text)
    features = Features(rp)
    rule_tier = level_to_tier(rp.level)
    model = shipped_model()
    if model is None or rp.reasons == ("empty prompt",):
        return Classification(rule_tier, rp.task, rp.level, features, rp.reasons)
    tiers, task = model.tiers_and_task(rp)
    tier = decide_tier(tiers, model.default_risk if risk is None else risk)
    reasons = rp.reasons
    if tier is not rule_tier:
        reasons = (*reasons, f"learned stage: {tier._value_} (rules: {rule_tier._value_})")
    return Classification(tier, task, rp.level, features, reasons, tiers, max(tiers.values()))

"""``classify``: the tier and task of a chat request, without calling any model.

Pure and deterministic: the same input always gives the same answer, and nothing is
read from the clock, the network or the environment.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from thinkbudget_litellm.classify.classification import Classification, FeatureValue
from thinkbudget_litellm.classify.conversation import Conversation, read_conversation
from thinkbudget_litellm.classify.instruction import view_turn
from thinkbudget_litellm.classify.scoring import Judgement, score_turn
from thinkbudget_litellm.tiers import TIER_ORDER, Task, Tier

FOLLOW_UP_WORDS: Final = 20  # a turn this short can lean on the turns before it
_WEAK_INTENTS: Final = frozenset({"fact", "lookup", "question", "request", "arithmetic", "translate", "rewrite"})


def level_to_tier(level: float) -> Tier:
    """0-4 level to tier; a level halfway between two tiers goes up."""
    index = int(level + 0.5)
    return TIER_ORDER[min(max(index, 0), len(TIER_ORDER) - 1)]


def _context_judgement(conv: Conversation) -> Judgement | None:
    best: Judgement | None = None
    for turn in conv.context:
        judged = score_turn(view_turn(turn))
        if best is None or judged.level > best.level:
            best = judged
    return best


def _is_follow_up(own: Judgement, conv: Conversation) -> bool:
    if not conv.context or own.chat_only or own.words > FOLLOW_UP_WORDS:
        return False
    return own.follow_lead or not own.strong


def classify(messages_or_text: object) -> Classification:
    """Classify a prompt string or a list of OpenAI chat messages.

    Raises ``TypeError`` for values that cannot be a prompt (``None``, numbers, bytes) and
    ``ValueError`` for a mapping that is neither a message nor a request body. Malformed
    messages inside a list are skipped.
    """
    conv = read_conversation(messages_or_text)
    view = view_turn(conv.ask)
    own = score_turn(view, code_in_sight=conv.context_has_code or conv.tool_results > 0)
    level, task, reasons = own.level, own.task, list(own.reasons)
    inherited = 0.0
    if _is_follow_up(own, conv):
        ctx = _context_judgement(conv)
        if ctx is not None and ctx.level > level:
            inherited = ctx.level
            level = ctx.level + (level - own.level if own.level < 1.0 else 0.0)
            if own.intent in _WEAK_INTENTS or own.level < 1.0:
                task = ctx.task
            reasons.append(f"follow-up inherits {ctx.intent} from an earlier turn")
    if conv.images and level < 1.0 and not own.chat_only:
        level = 1.0
        reasons.append("image to look at")
    if not conv.ask.strip() and not conv.images:
        level, task = 0.0, Task.CHAT
        reasons = ["empty prompt"]
    tier = level_to_tier(level)
    features: dict[str, FeatureValue] = {
        "intent": own.intent,
        "level": round(level, 3),
        "own_level": round(own.level, 3),
        "inherited_level": round(inherited, 3),
        "math_level": own.math_level,
        "words": own.words,
        "chars": view.chars,
        "instruction_chars": len(view.instruction),
        "material_chars": view.material_chars,
        "code_blocks": view.code_blocks,
        "code_like": view.code_like,
        "error_like": view.error_like,
        "context_turns": len(conv.context),
        "images": conv.images,
        "tool_results": conv.tool_results,
        "cues": ",".join(own.kinds),
    }
    return Classification(
        tier=tier, task=task, score=round(level, 3), features=MappingProxyType(features), reasons=tuple(reasons)
    )

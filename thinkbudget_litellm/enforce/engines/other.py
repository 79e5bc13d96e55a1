"""Any other engine: no native cap is known (use stream enforcement), no continuation flag.

Client budget fields: OpenRouter's ``reasoning`` object (``max_tokens``, ``effort``, ``enabled``),
which LiteLLM's ``openrouter/`` models (an ``other`` engine here) pass on.
"""

from __future__ import annotations

from thinkbudget_litellm.enforce.engine_adapter import (
    REASONING_OBJECT_EFFORT,
    EngineAdapter,
    FieldKind,
    budget_field,
)
from thinkbudget_litellm.enforce.engine_registry import register
from thinkbudget_litellm.settings import Engine


@register
class OtherAdapter(EngineAdapter):
    engine = Engine.OTHER
    budget_fields = (
        budget_field(FieldKind.TOKENS, "reasoning", "max_tokens"),
        REASONING_OBJECT_EFFORT,
        budget_field(FieldKind.SWITCH, "reasoning", "enabled"),
    )

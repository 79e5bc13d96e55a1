"""Anthropic (``anthropic/``, ``bedrock/`` Claude models, bare ``claude*``).

* Budget: ``thinking: {type: enabled, budget_tokens}`` with Anthropic's minimum of 1024 tokens;
  below ``DISABLE_BELOW`` that minimum would multiply the budget, so thinking is disabled instead.
* Continuation: no flag (a trailing assistant message is a prefill).
* Client budget fields: ``thinking``, ``reasoning_effort`` (LiteLLM maps each level to a
  ``thinking`` budget) and ``output_config.effort`` (the effort of adaptive-thinking models, which
  LiteLLM never overrides).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from thinkbudget_litellm.enforce.engine_adapter import Effort, FieldKind, LitellmThinkingAdapter, budget_field
from thinkbudget_litellm.enforce.engine_registry import register
from thinkbudget_litellm.settings import Engine

MIN_BUDGET = 1024
# Below this, Anthropic's 1024-token minimum would multiply the budget; thinking is disabled instead.
DISABLE_BELOW = 512


@register
class AnthropicAdapter(LitellmThinkingAdapter):
    engine = Engine.ANTHROPIC
    prefixes = ("anthropic/", "bedrock/", "claude")
    own_fields = (budget_field(FieldKind.EFFORT, "output_config", "effort", floor=Effort.LOW),)
    # LiteLLM 1.106.2 raises "minimal" to the minimum, and gives "xhigh" and "max" budgets too
    # (litellm.constants DEFAULT_REASONING_EFFORT_*_THINKING_BUDGET).
    minimal_budget = MIN_BUDGET
    higher_budgets = ((Effort.XHIGH, 8192), (Effort.MAX, 16384))

    def claim(self, model: str) -> int:
        # Bedrock serves many model families; only its Claude models are Anthropic's.
        if model.startswith("bedrock/") and "claude" not in model:
            return 0
        return super().claim(model)

    def cap_params(self, budget: int, request: Mapping[str, Any], off: bool) -> dict[str, Any]:
        if budget < DISABLE_BELOW:
            return {"thinking": {"type": "disabled"}}
        return {"thinking": {"type": "enabled", "budget_tokens": max(budget, MIN_BUDGET)}}

    def effective_budget(self, budget: int) -> int:
        return 0 if budget < DISABLE_BELOW else max(budget, MIN_BUDGET)

    def budget_within(self, limit: int) -> int:
        return limit if limit >= MIN_BUDGET else 0

"""Gemini (``gemini/``, ``vertex_ai/``, bare ``gemini*``).

* Budget: ``thinking: {type: enabled, budget_tokens}``, which LiteLLM turns into
  ``generationConfig.thinkingConfig.thinkingBudget`` (Gemini 3 models get a ``thinkingLevel``).
* Continuation: no flag.
* Client budget fields: ``thinking`` and ``reasoning_effort`` (LiteLLM maps both to a
  ``thinkingConfig``); ``thinkingConfig`` sent directly (LiteLLM copies it into the generation
  config, camelCase or snake_case); and the wire form ``generationConfig.thinkingConfig`` inside
  ``extra_body``, which LiteLLM merges into the body as it is. ``thinkingBudget: -1`` is
  Gemini's "dynamic" (unbounded).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from thinkbudget_litellm.enforce.engine_adapter import (
    REASONING_EFFORT,
    THINKING,
    Effort,
    EngineAdapter,
    FieldKind,
    budget_field,
    effort_within,
)
from thinkbudget_litellm.enforce.engine_registry import register
from thinkbudget_litellm.settings import Engine
from thinkbudget_litellm.tiers import Tier

_CONFIG = ("thinkingConfig", "thinking_config")
_GENERATION = ("generationConfig", "generation_config")
_BUDGET = ("thinkingBudget", "thinking_budget")
_LEVEL = ("thinkingLevel", "thinking_level")

# The thinkingBudget LiteLLM 1.106.2 gives each reasoning_effort level for Gemini 2.5
# (litellm.constants; "minimal" depends on the model: 1, 128 or 512, the largest is used here).
# LiteLLM rejects "xhigh" and "max" for Gemini.
LITELLM_EFFORT_BUDGETS: tuple[tuple[Effort, int], ...] = (
    (Effort.MINIMAL, 512),
    (Effort.LOW, 1024),
    (Effort.MEDIUM, 2048),
    (Effort.HIGH, 4096),
)


@register
class GeminiAdapter(EngineAdapter):
    engine = Engine.GEMINI
    prefixes = ("gemini/", "vertex_ai/", "gemini")
    budget_fields = (
        THINKING,
        REASONING_EFFORT,
        budget_field(FieldKind.TOKENS, _CONFIG, _BUDGET),
        budget_field(FieldKind.EFFORT, _CONFIG, _LEVEL, floor=Effort.LOW),
        budget_field(FieldKind.TOKENS, _GENERATION, _CONFIG, _BUDGET),
        budget_field(FieldKind.EFFORT, _GENERATION, _CONFIG, _LEVEL, floor=Effort.LOW),
    )

    def native_params(
        self,
        budget: int,
        tier: Tier,
        request: Mapping[str, Any],
        no_thinking_tiers: frozenset[Tier] = frozenset(),
    ) -> dict[str, Any]:
        return {"thinking": {"type": "enabled", "budget_tokens": budget}}

    def effort_cap(self, limit: int) -> Effort | None:
        return effort_within(LITELLM_EFFORT_BUDGETS, limit)

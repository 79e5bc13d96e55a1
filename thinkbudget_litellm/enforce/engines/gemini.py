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

from thinkbudget_litellm.enforce.engine_adapter import Effort, FieldKind, LitellmThinkingAdapter, budget_field
from thinkbudget_litellm.enforce.engine_registry import register
from thinkbudget_litellm.settings import Engine

_CONFIG = ("thinkingConfig", "thinking_config")
_GENERATION = ("generationConfig", "generation_config")
_BUDGET = ("thinkingBudget", "thinking_budget")
_LEVEL = ("thinkingLevel", "thinking_level")


@register
class GeminiAdapter(LitellmThinkingAdapter):
    engine = Engine.GEMINI
    prefixes = ("gemini/", "vertex_ai/", "gemini")
    own_fields = (
        budget_field(FieldKind.TOKENS, _CONFIG, _BUDGET),
        budget_field(FieldKind.EFFORT, _CONFIG, _LEVEL, floor=Effort.LOW),
        budget_field(FieldKind.TOKENS, _GENERATION, _CONFIG, _BUDGET),
        budget_field(FieldKind.EFFORT, _GENERATION, _CONFIG, _LEVEL, floor=Effort.LOW),
    )
    # LiteLLM 1.106.2's "minimal" for Gemini 2.5 depends on the model (1, 128 or 512; the largest is
    # used here); it rejects "xhigh" and "max" for Gemini.
    minimal_budget = 512

    def cap_params(self, budget: int, request: Mapping[str, Any], off: bool) -> dict[str, Any]:
        return {"thinking": {"type": "enabled", "budget_tokens": budget}}

"""SGLang (served through an OpenAI-compatible LiteLLM prefix; set ``engine: sglang``).

* Budget: ``custom_params.thinking_budget`` (``--enable-strict-thinking``), merged into the
  client's ``custom_params``.
* Qwen3-style templates: ``chat_template_kwargs.enable_thinking = false`` for no-thinking tiers.
* Continuation: ``continue_final_message: true``. SGLang renders the other messages with the
  generation prompt and appends the prefill, so with a template that pre-opens ``<think>`` the
  prefill must not repeat it.
* Client budget fields: its own, the chat-template ones, ``reasoning_effort`` (gpt-oss) and
  ``thinking`` (LiteLLM's OpenAI-compatible path turns it into a ``reasoning_effort``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from thinkbudget_litellm.enforce.engine_adapter import (
    REASONING_EFFORT,
    TEMPLATE_FIELDS,
    THINKING,
    EngineAdapter,
    FieldKind,
    budget_field,
    mapping,
    template_kwargs_off,
    thinking_off,
)
from thinkbudget_litellm.enforce.engine_registry import register
from thinkbudget_litellm.settings import Engine
from thinkbudget_litellm.tiers import Tier


@register
class SglangAdapter(EngineAdapter):
    engine = Engine.SGLANG
    budget_fields = (
        budget_field(FieldKind.TOKENS, "custom_params", "thinking_budget"),
        *TEMPLATE_FIELDS,
        REASONING_EFFORT,
        THINKING,
    )

    def native_params(
        self,
        budget: int,
        tier: Tier,
        request: Mapping[str, Any],
        no_thinking_tiers: frozenset[Tier] = frozenset(),
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"custom_params": {**mapping(request.get("custom_params")), "thinking_budget": budget}}
        if thinking_off(budget, tier, no_thinking_tiers):
            out["chat_template_kwargs"] = template_kwargs_off(request)
        return out

    def continuation_params(self) -> dict[str, Any]:
        return {"continue_final_message": True}

    def prefill_open_tag(self, template_preopens: bool) -> bool:
        return not template_preopens

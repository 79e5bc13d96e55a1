"""llama.cpp's server (served through an OpenAI-compatible LiteLLM prefix; set ``engine: llamacpp``).

* Budget: ``thinking_budget_tokens`` (the server's ``--reasoning-budget`` is a ceiling; -1 means
  unlimited).
* Qwen3-style templates: ``chat_template_kwargs.enable_thinking = false`` for no-thinking tiers.
* Continuation: a trailing assistant message is a prefill by default (unless the server runs with
  ``--no-prefill-assistant``), but the server refuses a prefill while thinking is enabled
  ("Assistant response prefill is incompatible with enable_thinking"), so
  ``chat_template_kwargs: {enable_thinking: false}``. The prefill is appended after the generation
  prompt: with a template that pre-opens ``<think>`` it must not repeat it.
* Client budget fields: its own, the chat-template ones, ``reasoning_effort`` and ``thinking``
  (LiteLLM's OpenAI-compatible path turns it into a ``reasoning_effort``).
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
    template_kwargs_off,
    thinking_off,
)
from thinkbudget_litellm.enforce.engine_registry import register
from thinkbudget_litellm.settings import Engine
from thinkbudget_litellm.tiers import Tier


@register
class LlamacppAdapter(EngineAdapter):
    engine = Engine.LLAMACPP
    budget_fields = (
        budget_field(FieldKind.TOKENS, "thinking_budget_tokens"),
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
        out: dict[str, Any] = {"thinking_budget_tokens": budget}
        if thinking_off(budget, tier, no_thinking_tiers):
            out["chat_template_kwargs"] = template_kwargs_off(request)
        return out

    def continuation_params(self) -> dict[str, Any]:
        return {"chat_template_kwargs": {"enable_thinking": False}}

    def prefill_open_tag(self, template_preopens: bool) -> bool:
        return not template_preopens

"""vLLM (``hosted_vllm/``, ``vllm/``).

* Budget: top-level ``thinking_token_budget``, honoured when the server runs a
  ``--reasoning-parser`` (research/real-vllm-cpu.md: without one vLLM answers HTTP 400).
* Qwen3-style templates: ``chat_template_kwargs.enable_thinking = false`` for no-thinking tiers.
* Continuation: ``continue_final_message: true, add_generation_prompt: false`` (vLLM refuses both
  true). The final message is rendered without the generation prompt, so a template that pre-opens
  ``<think>`` there does not pre-open it here: the prefill always carries ``<think>``.
* Client budget fields: its own, the chat-template ones, ``reasoning_effort`` (gpt-oss) and
  ``thinking`` (LiteLLM's hosted_vllm turns it into a ``reasoning_effort``).
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
class VllmAdapter(EngineAdapter):
    engine = Engine.VLLM
    prefixes = ("hosted_vllm/", "vllm/")
    budget_fields = (
        budget_field(FieldKind.TOKENS, "thinking_token_budget"),
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
        out: dict[str, Any] = {"thinking_token_budget": budget}
        if thinking_off(budget, tier, no_thinking_tiers):
            out["chat_template_kwargs"] = template_kwargs_off(request)
        return out

    def continuation_params(self) -> dict[str, Any]:
        return {"continue_final_message": True, "add_generation_prompt": False}

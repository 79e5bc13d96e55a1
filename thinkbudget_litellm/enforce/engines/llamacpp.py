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
  (see ``ChatTemplateAdapter``).
"""

from __future__ import annotations

from typing import Any

from thinkbudget_litellm.enforce.engine_adapter import ChatTemplateAdapter
from thinkbudget_litellm.enforce.engine_registry import register
from thinkbudget_litellm.settings import Engine


@register
class LlamacppAdapter(ChatTemplateAdapter):
    engine = Engine.LLAMACPP
    budget_path = ("thinking_budget_tokens",)
    prefill_follows_generation_prompt = True

    def continuation_params(self) -> dict[str, Any]:
        return {"chat_template_kwargs": {"enable_thinking": False}}

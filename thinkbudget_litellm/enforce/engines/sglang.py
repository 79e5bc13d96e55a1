"""SGLang (served through an OpenAI-compatible LiteLLM prefix; set ``engine: sglang``).

* Budget: ``custom_params.thinking_budget`` (``--enable-strict-thinking``), merged into the
  client's ``custom_params``.
* Qwen3-style templates: ``chat_template_kwargs.enable_thinking = false`` for no-thinking tiers.
* Continuation: ``continue_final_message: true``. SGLang renders the other messages with the
  generation prompt and appends the prefill, so with a template that pre-opens ``<think>`` the
  prefill must not repeat it.
* Client budget fields: its own, the chat-template ones, ``reasoning_effort`` (gpt-oss) and
  ``thinking`` (see ``ChatTemplateAdapter``).
"""

from __future__ import annotations

from typing import Any

from thinkbudget_litellm.enforce.engine_adapter import ChatTemplateAdapter
from thinkbudget_litellm.enforce.engine_registry import register
from thinkbudget_litellm.settings import Engine


@register
class SglangAdapter(ChatTemplateAdapter):
    engine = Engine.SGLANG
    budget_path = ("custom_params", "thinking_budget")
    prefill_follows_generation_prompt = True

    def continuation_params(self) -> dict[str, Any]:
        return {"continue_final_message": True}

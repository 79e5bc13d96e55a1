"""Which call continues a cut (or capped) request, and making it.

* ``Continuation.CHAT``: a router call to the request's model group that continues a prefilled
  assistant message (``continue_final_message``), as the engine's adapter says.
* ``Continuation.TOKEN_IDS``: where the chat template drops the prefill (DeepSeek-R1 and its
  distills strip everything up to ``</think>`` from assistant messages, and vLLM refuses the chat
  continuation), a ``/v1/completions`` call to the same deployment whose prompt is the request's
  own prompt ids (rendered by the engine's template) followed by the ids of the partial reasoning,
  the transition and the closing tag. Token ids, not text: a text prompt would get a second BOS.

Either way the call carries the caller's metadata and an id only we issued, so LiteLLM bills it to
the same key, team and user, and the request's lifecycle meters it as its continuation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from thinkbudget_litellm.handler.litellm_io import direct_completion, token_prompt_kwargs
from thinkbudget_litellm.handler.state import RequestContext
from thinkbudget_litellm.settings import Continuation


@dataclass(frozen=True)
class ContinuationCall:
    kwargs: dict[str, Any]
    mode: Continuation  # CHAT (through the router) or TOKEN_IDS (straight to the deployment)

    @property
    def call_id(self) -> str:
        return str(self.kwargs["litellm_call_id"])

    @property
    def messages(self) -> Any:
        return self.kwargs.get("messages")


async def choose_continuation(
    runtime: Any,
    ctx: RequestContext,
    client_messages: list[dict[str, Any]],
    chat_kwargs: dict[str, Any],
    *,
    reasoning: str,
    transition: str,
    answer_so_far: str = "",
) -> ContinuationCall:
    """The token-id call where the deployment needs it and its engine can build it, else the chat
    call ``chat_kwargs`` describes."""
    engines = runtime.engines
    mode = await engines.continuation_mode(ctx, chat_kwargs["messages"])
    if mode is Continuation.TOKEN_IDS and ctx.endpoint is not None:
        ids = await engines.continuation_prompt(ctx, client_messages, reasoning, transition, answer_so_far)
        if ids is not None:
            return ContinuationCall(token_prompt_kwargs(ctx.endpoint, chat_kwargs, ids), Continuation.TOKEN_IDS)
    return ContinuationCall(chat_kwargs, Continuation.CHAT)


async def start_continuation(runtime: Any, call: ContinuationCall) -> Any:
    if call.mode is Continuation.TOKEN_IDS:
        return await direct_completion(call.kwargs)
    return await runtime.router().acompletion(**call.kwargs)


def client_messages(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    messages = data.get("messages")
    return [dict(m) for m in messages if isinstance(m, Mapping)] if isinstance(messages, list) else []

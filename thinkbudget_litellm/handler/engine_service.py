"""What the proxy learns from a deployment's engine through its tokenizer endpoint, per process:
exact prompt counts (cached per prompt), the ids of the thinking tags (per deployment), and how a
cut stream can continue there (``continuation: auto``: probed once per deployment).

Every call is bounded by the client's timeout and never fails a request: an engine without the
endpoint, or one that is down, gives ``None`` and the caller falls back to what it did before.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from thinkbudget_litellm.enforce.continuation import prefill_text
from thinkbudget_litellm.enforce.engine_adapter import EngineAdapter
from thinkbudget_litellm.enforce.engine_client import EngineClient, EngineEndpoint, EngineError, HttpEngineClient
from thinkbudget_litellm.enforce.engine_registry import adapter_for
from thinkbudget_litellm.enforce.engine_tokens import TagIds, tag_ids
from thinkbudget_litellm.enforce.thinking_stream import CLOSE_TAG, OPEN_TAG
from thinkbudget_litellm.handler.state import RequestContext
from thinkbudget_litellm.settings import Continuation, Engine

log = logging.getLogger("thinkbudget_litellm")

_COUNT_CACHE_ENTRIES = 4096


def continuation_engine(ctx: RequestContext) -> Engine:
    """The engine family whose continuation rules apply (vLLM's for an unknown OpenAI-compatible one)."""
    return ctx.engine if ctx.engine is not Engine.OTHER else Engine.VLLM


def _digest(messages: Sequence[Mapping[str, Any]]) -> str:
    raw = json.dumps(list(messages), sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


class EngineService:
    def __init__(self, client: EngineClient | None = None) -> None:
        self.client: EngineClient = client or HttpEngineClient()
        self._modes: dict[str, Continuation] = {}
        self._tags: dict[str, TagIds | None] = {}
        self._counts: OrderedDict[tuple[str, str], int] = OrderedDict()

    def _tokenizer(self, ctx: RequestContext, engine: Engine | None = None) -> tuple[EngineEndpoint, str] | None:
        path = adapter_for(engine or ctx.engine).tokenize_path
        if ctx.endpoint is None or path is None:
            return None
        return ctx.endpoint, path

    # ------------------------------------------------------------------ counts
    async def prompt_tokens(self, ctx: RequestContext, messages: Sequence[Mapping[str, Any]]) -> int | None:
        """The engine's count of the rendered prompt (its own chat template), or None."""
        where = self._tokenizer(ctx)
        if where is None or not messages:
            return None
        key = (ctx.deployment_id or where[0].api_base, _digest(messages))
        cached = self._counts.get(key)
        if cached is not None:
            self._counts.move_to_end(key)
            return cached
        try:
            count = len((await self.client.tokenize_chat(where[0], where[1], messages)).ids)
        except EngineError as exc:
            log.info("thinkbudget: the engine's prompt count is unavailable (%s); using the approximation", exc)
            return None
        self._counts[key] = count
        while len(self._counts) > _COUNT_CACHE_ENTRIES:
            self._counts.popitem(last=False)
        return count

    async def tags(self, ctx: RequestContext) -> TagIds | None:
        """The thinking tags' ids in the engine's tokenizer (None: unknown, or not single tokens)."""
        where = self._tokenizer(ctx)
        if where is None:
            return None
        key = ctx.deployment_id or where[0].api_base
        if key in self._tags:
            return self._tags[key]
        try:
            found = tag_ids(
                (await self.client.tokenize_text(where[0], where[1], OPEN_TAG)).ids,
                (await self.client.tokenize_text(where[0], where[1], CLOSE_TAG)).ids,
            )
        except EngineError as exc:
            if exc.status is None:  # unreachable now: ask again next time
                return None
            found = None
        self._tags[key] = found
        return found

    # ------------------------------------------------------------------ continuation
    async def continuation_mode(self, ctx: RequestContext, chat_messages: Sequence[Mapping[str, Any]]) -> Continuation:
        """``CHAT`` or ``TOKEN_IDS`` for this deployment: as configured, else probed once with the
        chat continuation's own messages (the engine renders them as it would for the request)."""
        dep = ctx.deployment
        engine = continuation_engine(ctx)
        adapter = adapter_for(engine)
        configured = dep.continuation if dep is not None else Continuation.AUTO
        if not adapter.token_id_prompts or configured is Continuation.CHAT:
            return Continuation.CHAT
        if configured is Continuation.TOKEN_IDS:
            return Continuation.TOKEN_IDS
        where = self._tokenizer(ctx, engine)
        if where is None:
            return Continuation.CHAT
        key = ctx.deployment_id or where[0].api_base
        known = self._modes.get(key)
        if known is not None:
            return known
        mode = await self._probe(adapter, where, chat_messages)
        if mode is not None:
            self._modes[key] = mode
            log.info("thinkbudget: deployment %s continues cut streams by %s", key, mode.value)
        return mode or Continuation.CHAT

    async def _probe(
        self, adapter: EngineAdapter, where: tuple[EngineEndpoint, str], messages: Sequence[Mapping[str, Any]]
    ) -> Continuation | None:
        try:
            await self.client.tokenize_chat(where[0], where[1], messages, continue_final_message=True)
        except EngineError as exc:
            if adapter.refuses_prefill(exc.status, exc.message):
                return Continuation.TOKEN_IDS
            if exc.status is None:
                return None  # unreachable now: chat this time, probe again next time
            return Continuation.CHAT  # no usable tokenizer endpoint: what worked before
        return Continuation.CHAT

    async def continuation_prompt(
        self,
        ctx: RequestContext,
        messages: Sequence[Mapping[str, Any]],
        reasoning: str,
        transition: str,
        answer_so_far: str,
    ) -> list[int] | None:
        """The token-id prompt of a continuation: the request's prompt ids as the engine renders
        them, then the ids of the partial reasoning, the transition, the closing tag and any answer
        already written (raw text, no special tokens). None when the engine cannot say."""
        engine = continuation_engine(ctx)
        where = self._tokenizer(ctx, engine)
        if where is None or not messages:
            return None
        preopens = bool(ctx.deployment and ctx.deployment.template_preopens_think)
        client_prefill = messages[-1].get("role") == "assistant"
        # after the generation prompt; a template that pre-opened <think> there has written the tag
        text = raw_prefill(reasoning, transition, open_tag=not (preopens or client_prefill)) + answer_so_far
        try:
            prompt = await self.client.tokenize_chat(
                where[0], where[1], messages, continue_final_message=client_prefill
            )
            tail = await self.client.tokenize_text(where[0], where[1], text)
        except EngineError as exc:
            log.warning("thinkbudget: the token-id continuation cannot be built (%s); continuing by chat", exc)
            return None
        return prompt.ids + tail.ids


def raw_prefill(reasoning: str, transition: str, *, open_tag: bool) -> str:
    """What follows the generation prompt: the reasoning as the engine wrote it (its leading
    newlines kept), the transition and the closing tag; ``<think>\\n`` first when it was not
    pre-opened."""
    if open_tag:
        return prefill_text(reasoning, transition, open_tag=True)
    body = (reasoning + transition).rstrip("\n")
    return (body + "\n" if body.strip("\n") else "") + CLOSE_TAG + "\n\n"

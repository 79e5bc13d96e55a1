"""Stream enforcement through LiteLLM: drive ``ThinkingStream`` over the proxy's chunks and, at the
budget, close the upstream, bill what it generated, end the thinking in the client's style and
stream a continuation that answers from the partial reasoning.

LiteLLM specifics owned here (research notes §1.4, §10.4, §10.7):
- A stream that a hook stops early gets no success event, so the partial upstream is billed with
  ``stream_chunk_builder`` + ``logging_obj.dispatch_success_handlers`` (what LiteLLM itself does on
  a client disconnect). The dispatch is de-duplicated by LiteLLM.
- ``response.aclose()`` closes the upstream HTTP stream at once; engines abort on disconnect.
- The continuation is a separate router call whose metadata carries the caller's
  ``user_api_key_*`` fields, so LiteLLM bills it to the same key, team and user.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import litellm
from litellm.types.utils import Delta, ModelResponse, ModelResponseStream, StreamingChoices, Usage

from thinkbudget_litellm.enforce.continuation import (
    closing_output,
    continuation_messages,
    continuation_params,
    prefill_open_tag,
    prefill_text,
)
from thinkbudget_litellm.enforce.thinking_stream import StepResult, Style, ThinkingStream
from thinkbudget_litellm.enforce.token_count import count_tokens
from thinkbudget_litellm.handler.state import RequestState
from thinkbudget_litellm.settings import Enforcement, Engine

log = logging.getLogger("thinkbudget_litellm")

CONTINUATION_MARK = "thinkbudget_continuation_of"
UNLIMITED = 10**9

# Client body fields that are not resent with a continuation (everything else, e.g. sampling
# settings and engine-specific extras, is resent as the client sent it).
_NOT_RESENT = frozenset(
    {
        "model",
        "messages",
        "stream",
        "stream_options",
        "max_tokens",
        "max_completion_tokens",
        "metadata",
        "n",
        "thinkbudget",
        "user",
        "litellm_session_id",
        "litellm_trace_id",
        "thinking_token_budget",
        "continue_final_message",
        "add_generation_prompt",
        "reasoning_effort",
        "thinking",
    }
)


def new_thinking_stream(state: RequestState) -> ThinkingStream:
    """The state machine for one request: cuts at the budget for ``stream`` enforcement, at budget +
    slack for ``native`` (a safety net when the engine overshoots), never for ``off``."""
    dep = state.deployment
    hint = Style(dep.think_style) if dep is not None and dep.think_style else None
    if state.enforcement is Enforcement.STREAM:
        budget, slack = state.decision.budget, 0
    elif state.enforcement is Enforcement.NATIVE and dep is not None:
        budget, slack = state.decision.budget, dep.slack_tokens
    else:
        budget, slack = UNLIMITED, 0
    return ThinkingStream(budget=budget, counter=count_tokens, style_hint=hint, slack=slack)


def _delta_fields(chunk: Any) -> tuple[str | None, str | None] | None:
    choices = getattr(chunk, "choices", None)
    if not choices:
        return None
    delta = getattr(choices[0], "delta", None)
    if delta is None:
        return None
    return getattr(delta, "reasoning_content", None), getattr(delta, "content", None)


def _rewrite(chunk: ModelResponseStream, reasoning: str | None, content: str | None) -> ModelResponseStream:
    out = chunk.model_copy(deep=True)
    delta = out.choices[0].delta
    delta.reasoning_content = reasoning
    delta.content = content
    return out


def _text_chunk(
    template: ModelResponseStream | None, reasoning: str | None, content: str | None
) -> ModelResponseStream:
    delta = Delta(role="assistant", content=content, reasoning_content=reasoning)
    chunk = ModelResponseStream(choices=[StreamingChoices(index=0, delta=delta)])
    if template is not None:
        chunk.id = template.id
        chunk.model = template.model
        chunk.created = template.created
    return chunk


def _finish_chunk(template: ModelResponseStream | None, reason: str) -> ModelResponseStream:
    chunk = _text_chunk(template, None, None)
    chunk.choices[0].finish_reason = reason
    return chunk


async def _close(stream: Any) -> None:
    closer = getattr(stream, "aclose", None)
    if closer is not None:
        with contextlib.suppress(Exception):
            await closer()


async def bill_partial_stream(stream: Any, logging_obj: Any, messages: Any) -> Usage | None:
    """Dispatch LiteLLM's success logging for what a stopped stream generated; returns its usage."""
    chunks = getattr(stream, "chunks", None)
    if logging_obj is None or not isinstance(chunks, list) or not chunks:
        return None
    partial = litellm.stream_chunk_builder(
        chunks=chunks, messages=messages if isinstance(messages, list) else None, logging_obj=logging_obj
    )
    if partial is None:
        return None
    await logging_obj.dispatch_success_handlers(
        partial, cache_hit=False, start_time=None, end_time=None, prefer_async_handlers=True
    )
    usage = getattr(partial, "usage", None)
    return usage if isinstance(usage, Usage) else None


def continuation_engine(state: RequestState) -> Engine:
    """The engine family whose continuation flags to use (vLLM's for an unknown OpenAI-compatible one)."""
    return state.engine if state.engine is not Engine.OTHER else Engine.VLLM


def prefill_opens_think(state: RequestState) -> bool:
    dep = state.deployment
    return prefill_open_tag(continuation_engine(state).value, bool(dep and dep.template_preopens_think))


def continuation_request(
    state: RequestState, request_data: Mapping[str, Any], messages: list[dict[str, Any]], answer_room: int
) -> dict[str, Any]:
    """Router kwargs for the continuation of ``state``'s request."""
    engine = continuation_engine(state)
    body = (request_data.get("proxy_server_request") or {}).get("body") or {}
    resent = {k: v for k, v in body.items() if k not in _NOT_RESENT} if isinstance(body, Mapping) else {}
    metadata = dict(request_data.get("metadata") or {})
    slm = dict(metadata.get("spend_logs_metadata") or {})
    slm[CONTINUATION_MARK] = state.call_id
    metadata["spend_logs_metadata"] = slm
    for routed in ("model_info", "deployment", "api_base", "deployment_model_name"):
        metadata.pop(routed, None)
    kwargs: dict[str, Any] = {
        **resent,
        "model": state.model_group,
        "messages": messages,
        "metadata": metadata,
        "max_tokens": answer_room,
        "litellm_call_id": str(uuid.uuid4()),
        **continuation_params(engine.value),
    }
    for passthrough in ("user", "litellm_session_id", "litellm_trace_id"):
        if request_data.get(passthrough) is not None:
            kwargs[passthrough] = request_data[passthrough]
    return kwargs


def answer_room(request_data: Mapping[str, Any], reserve: int) -> int:
    """Tokens the client left for its answer (its own max_tokens), else the configured reserve."""
    body = (request_data.get("proxy_server_request") or {}).get("body") or {}
    for field in ("max_completion_tokens", "max_tokens"):
        asked = body.get(field) if isinstance(body, Mapping) else None
        if isinstance(asked, int) and not isinstance(asked, bool) and asked > 0:
            return asked
    return reserve


class StreamEnforcer:
    """One streaming request's pass through the iterator hook."""

    def __init__(self, runtime: Any, state: RequestState, request_data: dict[str, Any]) -> None:
        self.rt = runtime
        self.state = state
        self.data = request_data
        self.ts = new_thinking_stream(state)
        self.partial_usage: Usage | None = None

    async def run(self, response: AsyncIterator[Any]) -> AsyncGenerator[Any, None]:
        template: ModelResponseStream | None = None
        cut = False
        passthrough = False
        try:
            async for chunk in response:
                if passthrough or not isinstance(chunk, ModelResponseStream):
                    yield chunk
                    continue
                template = template or chunk
                try:
                    out, cut = self._observe(chunk)
                except Exception:  # our bug: the rest of the stream goes through untouched
                    self.rt.internal_error("stream_observe", self.state.call_id)
                    passthrough, out, cut = True, chunk, False
                if out is not None:
                    yield out
                if cut:
                    break
        except (asyncio.CancelledError, GeneratorExit):
            self.rt.client_left(self.state)  # LiteLLM bills what was generated, when anything was
            raise
        else:
            if not cut:
                if not passthrough:
                    tail = self.ts.finish()
                    self._sync_counts()
                    if tail.reasoning_out or tail.content_out:
                        yield _text_chunk(template, tail.reasoning_out, tail.content_out)
                self.rt.settle(self.state)
                return
        finally:
            if cut or not self.ts.finished:
                await _close(response)
        # ---- cut: the upstream is closed; bill it, end the thinking, continue for the answer
        state = self.state
        state.cut = True
        self._sync_counts()
        self.rt.settle(state)
        state.awaiting_continuation = True
        try:
            try:
                self.partial_usage = await bill_partial_stream(
                    response, self.data.get("litellm_logging_obj"), self.data.get("messages")
                )
            except Exception:
                log.exception("thinkbudget: billing the cut stream failed (litellm_call_id=%s)", state.call_id)
            try:
                style = self.ts.style or Style.PREOPENED
                reasoning_out, content_out = closing_output(style, self.rt.settings.transition)
                kwargs = self._continuation_kwargs()
            except Exception:  # our bug before the continuation: end the stream cleanly, keep the record
                self.rt.continuation_failed(state, None)
                self.rt.internal_error("stream_continuation", state.call_id)
                yield _finish_chunk(template, "length")
                return
            yield _text_chunk(template, reasoning_out, content_out)
            async with contextlib.aclosing(self._continue(template, kwargs)) as continued:
                async for chunk in continued:
                    yield chunk
        except (asyncio.CancelledError, GeneratorExit):
            if state.continuation is None:  # the client left before the continuation started
                self.rt.continuation_failed(state, None, status="cancelled")
            raise

    def _observe(self, chunk: ModelResponseStream) -> tuple[ModelResponseStream | None, bool]:
        fields = _delta_fields(chunk)
        if fields is None or (fields[0] is None and fields[1] is None):
            return chunk, False
        reasoning, content = fields
        step = self.ts.feed(reasoning, content)
        new_tokens = step.new_thinking_tokens + step.new_answer_tokens
        if new_tokens:
            self.rt.meter_tokens(self.state, new_tokens)
            self._sync_counts()  # current even when the client disconnects and LiteLLM bills early
            self.state.last_activity = time.monotonic()
        if step.reasoning_out == reasoning and step.content_out == content:
            return chunk, step.cut
        has_other = chunk.choices[0].finish_reason is not None or getattr(chunk, "usage", None) is not None
        if step.reasoning_out is None and step.content_out is None and not has_other:
            return None, step.cut
        return _rewrite(chunk, step.reasoning_out, step.content_out), step.cut

    def _sync_counts(self) -> None:
        self.state.thinking_tokens = self.ts.thinking_tokens
        self.state.answer_tokens = self.ts.answer_tokens

    def _continuation_kwargs(self) -> dict[str, Any]:
        state = self.state
        messages = continuation_messages(
            list(self.data.get("messages") or []),
            self.ts.reasoning_text,
            self.rt.settings.transition,
            open_tag=prefill_opens_think(state),
        )
        kwargs = continuation_request(
            state, self.data, messages, answer_room(self.data, self.rt.settings.answer_reserve_tokens)
        )
        kwargs["stream"] = True
        if self.data.get("stream_options"):
            kwargs["stream_options"] = self.data["stream_options"]
        return kwargs

    async def _continue(
        self, template: ModelResponseStream | None, kwargs: dict[str, Any]
    ) -> AsyncGenerator[Any, None]:
        state = self.state
        child = self.rt.begin_continuation(state, kwargs["litellm_call_id"])
        child.last_activity = state.last_activity
        stream: Any = None
        finished = False
        try:
            stream = await self.rt.router().acompletion(**kwargs)
            async for chunk in stream:
                if not isinstance(chunk, ModelResponseStream):
                    yield chunk
                    continue
                fields = _delta_fields(chunk)
                if fields is not None and (fields[0] is not None or fields[1] is not None):
                    step = self.ts.feed_continuation(*fields)
                    self.rt.meter_tokens(child, step.new_answer_tokens)
                    chunk.choices[0].delta.reasoning_content = None
                    chunk.choices[0].delta.content = step.content_out
                if template is not None:
                    chunk.id = template.id
                self._add_partial_usage(chunk)
                state.last_activity = child.last_activity = time.monotonic()
                yield chunk
            finished = True
            self.ts.finish()
            self._sync_counts()
        except Exception:
            self.rt.continuation_failed(state, child)
            raise
        finally:
            if not finished:  # the client went away (or the continuation failed): bill what it made
                self._sync_counts()
                if not state.finished:
                    state.status = "cancelled"
                # No await here: a client disconnect cancels this task's scope, and under anyio every
                # further await in it raises again, which used to abandon the request unrecorded.
                self.rt.background(self._abandon(stream, child, kwargs["messages"]))

    async def _abandon(self, stream: Any, child: RequestState, messages: Any) -> None:
        """Close and bill a continuation the client left; its success event completes the parent,
        else (nothing generated, or billing failed) the parent is closed as cancelled."""
        try:
            if stream is not None:
                await _close(stream)
                await bill_partial_stream(stream, getattr(stream, "logging_obj", None), messages)
        except Exception:
            log.exception("thinkbudget: billing the cancelled continuation failed (%s)", child.call_id)
        finally:
            self.rt.continuation_failed(self.state, child, status="cancelled")

    def _add_partial_usage(self, chunk: ModelResponseStream) -> None:
        usage = getattr(chunk, "usage", None)
        if self.partial_usage is None or not isinstance(usage, Usage):
            return
        p = self.partial_usage
        usage.prompt_tokens = (usage.prompt_tokens or 0) + (p.prompt_tokens or 0)
        usage.completion_tokens = (usage.completion_tokens or 0) + (p.completion_tokens or 0)
        usage.total_tokens = (usage.prompt_tokens or 0) + (usage.completion_tokens or 0)
        self.partial_usage = None


# ---------------------------------------------------------------------- non-streaming two-step


def _message_parts(response: ModelResponse) -> tuple[str | None, str | None, str | None]:
    choice = response.choices[0]
    message = getattr(choice, "message", None)
    return (
        getattr(message, "reasoning_content", None),
        getattr(message, "content", None),
        getattr(choice, "finish_reason", None),
    )


@dataclass(frozen=True, slots=True)
class FirstCall:
    """What the budget-capped first call of a non-streaming two-step request produced."""

    ts: ThinkingStream
    step: StepResult
    finish_reason: str | None

    @property
    def needs_continuation(self) -> bool:
        return self.finish_reason == "length" or self.step.cut


def read_first_call(state: RequestState, response: ModelResponse) -> FirstCall:
    """Run the first call's output through the state machine; sets the request's token counts."""
    reasoning, content, finish = _message_parts(response)
    ts = new_thinking_stream(state)
    step = ts.feed(reasoning, content)
    if not step.cut:
        ts.finish()
    state.thinking_tokens, state.answer_tokens = ts.thinking_tokens, ts.answer_tokens
    return FirstCall(ts, step, finish)


async def enforce_nonstream(
    runtime: Any, state: RequestState, data: Mapping[str, Any], response: ModelResponse
) -> ModelResponse | None:
    """The two-step recipe for a non-streaming request whose first call was capped at the budget
    (``max_tokens = budget``): if it stopped for length, continue from what it produced (thinking
    closed with the transition if it was still open) and merge the answer into one response."""
    first = state.extra.pop("first_call", None)
    if not isinstance(first, FirstCall):
        first = read_first_call(state, response)
    if not first.needs_continuation:
        return None  # the model answered within its budget
    ts, step = first.ts, first.step
    thinking_open = step.cut or not step.thinking_done
    transition = runtime.settings.transition if thinking_open else ""
    open_tag = prefill_opens_think(state)
    answer_so_far = "" if thinking_open else (step.content_out or "")
    prefill = prefill_text(ts.reasoning_text, transition, open_tag=open_tag) + answer_so_far
    messages = [*list(data.get("messages") or []), {"role": "assistant", "content": prefill}]
    room = max(answer_room(data, runtime.settings.answer_reserve_tokens) - ts.answer_tokens, 1)
    kwargs = continuation_request(state, data, messages, room)
    state.cut = thinking_open
    state.awaiting_continuation = True
    child = runtime.begin_continuation(state, kwargs["litellm_call_id"])
    message = response.choices[0].message
    try:
        cont = await runtime.router().acompletion(**kwargs)
    except Exception:
        # As a stream does: the client gets what there is, ended for length; the record says failure.
        log.warning("thinkbudget: the continuation of %s failed", state.call_id, exc_info=True)
        runtime.continuation_failed(state, child)
        message.reasoning_content = ts.reasoning_text
        message.content = answer_so_far or None
        response.choices[0].finish_reason = "length"
        return response
    except BaseException:
        runtime.continuation_failed(state, child)
        raise
    c_reasoning, c_content, c_finish = _message_parts(cont)
    answer = (c_content or "") if c_reasoning is None else (c_reasoning or "") + (c_content or "")
    message.reasoning_content = ts.reasoning_text + (transition if thinking_open else "")
    message.content = answer_so_far + answer
    response.choices[0].finish_reason = c_finish or "stop"
    state.answer_tokens += count_tokens(answer) if answer else 0
    usage, c_usage = getattr(response, "usage", None), getattr(cont, "usage", None)
    if isinstance(usage, Usage) and isinstance(c_usage, Usage):
        usage.prompt_tokens = (usage.prompt_tokens or 0) + (c_usage.prompt_tokens or 0)
        usage.completion_tokens = (usage.completion_tokens or 0) + (c_usage.completion_tokens or 0)
        usage.total_tokens = usage.prompt_tokens + usage.completion_tokens
    return response

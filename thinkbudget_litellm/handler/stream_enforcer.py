"""Stream enforcement through LiteLLM: drive ``ThinkingStream`` over the proxy's chunks and, at the
budget, close the upstream, bill what it generated, end the thinking in the client's style and
stream a continuation that answers from the partial reasoning.

LiteLLM specifics owned here (research notes §1.4, §10.4, §10.7):
- A stream that a hook stops early gets no success event, so the partial upstream is billed
  (``litellm_io.bill_partial_stream``: what LiteLLM itself does on a client disconnect).
- ``response.aclose()`` closes the upstream HTTP stream at once; engines abort on disconnect.
- The continuation is a separate router call whose metadata carries the caller's
  ``user_api_key_*`` fields, so LiteLLM bills it to the same key, team and user.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from litellm.types.utils import Delta, ModelResponse, ModelResponseStream, StreamingChoices, Usage

from thinkbudget_litellm.enforce.client_budget_fields import neutralise_client_budget_fields
from thinkbudget_litellm.enforce.continuation import (
    closing_output,
    continuation_messages,
    continuation_params,
    prefill_open_tag,
    prefill_text,
)
from thinkbudget_litellm.enforce.engine_tokens import TagIds, split_thinking
from thinkbudget_litellm.enforce.thinking_stream import StepResult, Style, ThinkingStream
from thinkbudget_litellm.enforce.token_count import count_tokens
from thinkbudget_litellm.handler.continuation_call import (
    ContinuationCall,
    choose_continuation,
    client_messages,
    start_continuation,
)
from thinkbudget_litellm.handler.engine_service import continuation_engine
from thinkbudget_litellm.handler.litellm_io import (
    bill_partial_stream,
    client_answer_room,
    client_body,
    close_stream,
    continuation_metadata,
    request_logging_obj,
    stream_logging_obj,
)
from thinkbudget_litellm.handler.state import RequestContext
from thinkbudget_litellm.settings import Enforcement

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


def new_thinking_stream(ctx: RequestContext, grace_share: float = 0.0) -> ThinkingStream:
    """The ctx machine for one request: cuts at the budget for ``stream`` enforcement (up to
    ``grace_share`` of it more to finish a sentence), at budget + slack for ``native`` (a safety net
    when the engine overshoots), never for ``off``."""
    dep = ctx.deployment
    hint = Style(dep.think_style) if dep is not None and dep.think_style else None
    grace = 0
    if ctx.enforcement is Enforcement.STREAM:
        budget, slack = ctx.decision.budget, 0
        grace = int(budget * grace_share)
    elif ctx.enforcement is Enforcement.NATIVE and dep is not None:
        budget, slack = ctx.decision.budget, dep.slack_tokens
    else:
        budget, slack = UNLIMITED, 0
    return ThinkingStream(budget=budget, counter=count_tokens, style_hint=hint, slack=slack, grace=grace)


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


def prefill_opens_think(ctx: RequestContext) -> bool:
    dep = ctx.deployment
    return prefill_open_tag(continuation_engine(ctx).value, bool(dep and dep.template_preopens_think))


def continuation_request(
    ctx: RequestContext, request_data: Mapping[str, Any], messages: list[dict[str, Any]], answer_room: int
) -> dict[str, Any]:
    """Router kwargs for the continuation of ``ctx``'s request."""
    engine = continuation_engine(ctx)
    resent = {k: v for k, v in client_body(request_data).items() if k not in _NOT_RESENT}
    kwargs: dict[str, Any] = {
        **resent,
        "model": ctx.model_group,
        "messages": messages,
        "metadata": continuation_metadata(request_data, {CONTINUATION_MARK: ctx.call_id}),
        "max_tokens": answer_room,
        "litellm_call_id": str(uuid.uuid4()),
        **continuation_params(engine.value),
    }
    for passthrough in ("user", "litellm_session_id", "litellm_trace_id"):
        if request_data.get(passthrough) is not None:
            kwargs[passthrough] = request_data[passthrough]
    # the client's own budget fields are resent only within the policy (any engine's, extra_body too)
    no_thinking = ctx.deployment.no_thinking_tiers if ctx.deployment is not None else ()
    return neutralise_client_budget_fields(
        kwargs, ctx.decision.budget, ctx.decision.tier, no_thinking, ctx.engine, Enforcement.STREAM
    ).request


def answer_room(request_data: Mapping[str, Any], reserve: int, thinking_tokens: int) -> int:
    """Tokens the client left for its answer after ``thinking_tokens`` (``client_answer_room``),
    else the configured reserve."""
    return client_answer_room(client_body(request_data), thinking_tokens) or reserve


class StreamEnforcer:
    """One streaming request's pass through the iterator hook: every count, cut, continuation and
    departure becomes an event on the request's lifecycle."""

    def __init__(self, runtime: Any, ctx: RequestContext, request_data: dict[str, Any]) -> None:
        self.rt = runtime
        self.ctx = ctx
        self.lc = ctx.lifecycle
        self.data = request_data
        self.ts = new_thinking_stream(ctx, runtime.settings.cut_grace_share)
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
                    self.rt.internal_error("stream_observe", self.ctx.call_id)
                    passthrough, out, cut = True, chunk, False
                if out is not None:
                    yield out
                if cut:
                    break
        except (asyncio.CancelledError, GeneratorExit):
            self._sync_counts()
            self.rt.end(self.ctx, self.lc.client_left())  # what was generated is billed
            raise
        else:
            if not cut:
                if not passthrough:
                    tail = self.ts.finish()
                    self._sync_counts()
                    if tail.reasoning_out or tail.content_out:
                        yield _text_chunk(template, tail.reasoning_out, tail.content_out)
                self.rt.completed(self.ctx, await self.lc.attempt_succeeded())
                return
        finally:
            if cut or not self.ts.finished:
                await close_stream(response)
        async with contextlib.aclosing(self._after_cut(response, template)) as after:
            async for chunk in after:
                yield chunk

    async def _after_cut(self, response: Any, template: ModelResponseStream | None) -> AsyncGenerator[Any, None]:
        """The upstream is closed: bill it, end the thinking in the client's style, continue."""
        ctx, lc = self.ctx, self.lc
        self._sync_counts()
        try:
            await lc.cut()
            try:
                self.partial_usage = await bill_partial_stream(
                    response, request_logging_obj(self.data), self.data.get("messages")
                )
            except Exception:
                log.exception("thinkbudget: billing the cut stream failed (litellm_call_id=%s)", ctx.call_id)
            try:
                style = self.ts.style or Style.PREOPENED
                reasoning_out, content_out = closing_output(style, self.rt.settings.transition)
                call = await self._continuation_kwargs()
            except Exception:  # our bug before the continuation: end the stream cleanly, keep the record
                self.rt.end(ctx, lc.continuation_ended(False))
                self.rt.internal_error("stream_continuation", ctx.call_id)
                yield _finish_chunk(template, "length")
                return
            yield _text_chunk(template, reasoning_out, content_out)
            async with contextlib.aclosing(self._continue(template, call)) as continued:
                async for chunk in continued:
                    yield chunk
        except (asyncio.CancelledError, GeneratorExit):
            if lc.continuation_call_id is None:  # the client left before the continuation started
                self.rt.end(ctx, lc.client_left())
            raise

    def _observe(self, chunk: ModelResponseStream) -> tuple[ModelResponseStream | None, bool]:
        fields = _delta_fields(chunk)
        if fields is None or (fields[0] is None and fields[1] is None):
            return chunk, False
        reasoning, content = fields
        step = self.ts.feed(reasoning, content)
        self.lc.tokens(step.new_thinking_tokens + step.new_answer_tokens)
        self._sync_counts()  # current even when the client disconnects and LiteLLM bills early
        if step.reasoning_out == reasoning and step.content_out == content:
            return chunk, step.cut
        has_other = chunk.choices[0].finish_reason is not None or getattr(chunk, "usage", None) is not None
        if step.reasoning_out is None and step.content_out is None and not has_other:
            return None, step.cut
        return _rewrite(chunk, step.reasoning_out, step.content_out), step.cut

    def _sync_counts(self) -> None:
        self.lc.thinking_counts(self.ts.thinking_tokens, self.ts.answer_tokens)
        self.ctx.grace_tokens = self.ts.grace_tokens

    async def _continuation_kwargs(self) -> ContinuationCall:
        ctx, transition = self.ctx, self.rt.settings.transition
        original = client_messages(self.data)
        messages = continuation_messages(
            original, self.ts.reasoning_text, transition, open_tag=prefill_opens_think(ctx)
        )
        kwargs = continuation_request(
            ctx,
            self.data,
            messages,
            answer_room(self.data, self.rt.settings.answer_reserve_tokens, self.ts.thinking_tokens),
        )
        kwargs["stream"] = True
        if self.data.get("stream_options"):
            kwargs["stream_options"] = self.data["stream_options"]
        return await choose_continuation(
            self.rt, ctx, original, kwargs, reasoning=self.ts.reasoning_text, transition=transition
        )

    async def _continue(
        self, template: ModelResponseStream | None, call: ContinuationCall
    ) -> AsyncGenerator[Any, None]:
        ctx, lc = self.ctx, self.lc
        issue_continuation(self.rt, ctx, call.call_id)
        stream: Any = None
        finished = False
        try:
            stream = await start_continuation(self.rt, call)
            async for chunk in stream:
                if not isinstance(chunk, ModelResponseStream):
                    yield chunk
                    continue
                fields = _delta_fields(chunk)
                if fields is not None and (fields[0] is not None or fields[1] is not None):
                    step = self.ts.feed_continuation(*fields)
                    lc.tokens(step.new_answer_tokens)
                    self._sync_counts()
                    chunk.choices[0].delta.reasoning_content = None
                    chunk.choices[0].delta.content = step.content_out
                if template is not None:
                    chunk.id = template.id
                self._add_partial_usage(chunk)
                yield chunk
            finished = True
            self.ts.finish()
            self._sync_counts()
            self.rt.completed(ctx, await lc.continuation_ended(True))
        except Exception:
            finished = True
            self.rt.end(ctx, lc.continuation_ended(False))
            raise
        finally:
            if not finished:  # the client went away: cancelled, with what the continuation made billed
                self._sync_counts()
                # No await here: a client disconnect cancels this task's scope, and under anyio every
                # further await in it raises again, which used to abandon the request unrecorded.
                self.rt.end(ctx, lc.client_left())
                self.rt.background(_close_and_bill(stream, call.messages, lc.continuation_call_id))

    def _add_partial_usage(self, chunk: ModelResponseStream) -> None:
        usage = getattr(chunk, "usage", None)
        if self.partial_usage is None or not isinstance(usage, Usage):
            return
        p = self.partial_usage
        usage.prompt_tokens = (usage.prompt_tokens or 0) + (p.prompt_tokens or 0)
        usage.completion_tokens = (usage.completion_tokens or 0) + (p.completion_tokens or 0)
        usage.total_tokens = (usage.prompt_tokens or 0) + (usage.completion_tokens or 0)
        self.partial_usage = None


def issue_continuation(runtime: Any, ctx: RequestContext, call_id: str) -> None:
    """The continuation call is ours: only its id, which we issued, ties it to the request."""
    ctx.lifecycle.continuation_issued(call_id)
    runtime.states.alias(call_id, ctx)


async def _close_and_bill(stream: Any, messages: Any, call_id: str | None) -> None:
    """Close a continuation the client left and dispatch LiteLLM's success logging for what it made."""
    if stream is None:
        return
    try:
        await close_stream(stream)
        await bill_partial_stream(stream, stream_logging_obj(stream), messages)
    except Exception:
        log.exception("thinkbudget: billing the cancelled continuation failed (%s)", call_id)


# ---------------------------------------------------------------------- non-streaming two-step


def _message_parts(response: ModelResponse) -> tuple[str | None, str | None, str | None]:
    choice = response.choices[0]
    message = getattr(choice, "message", None)
    return (
        getattr(message, "reasoning_content", None),
        getattr(message, "content", None),
        getattr(choice, "finish_reason", None),
    )


def count_full_response(response: Any, *, trust_engine: bool = True) -> tuple[int, int]:
    """(thinking, answer) tokens of a non-streamed response: the engine's reasoning count when it
    gives one and can be trusted, else counted from the text. A template that pre-opens ``<think>``
    makes vLLM count only from the last ``<think>`` in the output (0, or a fragment when the model
    writes the tag again), so ``trust_engine`` is False there; a text completion has no message, its
    thinking is inline in ``text``."""
    usage = getattr(response, "usage", None)
    details = getattr(usage, "completion_tokens_details", None)
    reasoning_tokens = getattr(details, "reasoning_tokens", None)
    completion = int(getattr(usage, "completion_tokens", None) or 0)
    if trust_engine and isinstance(reasoning_tokens, int) and reasoning_tokens > 0:
        return reasoning_tokens, max(completion - reasoning_tokens, 0)
    choices = getattr(response, "choices", None) or []
    message = getattr(choices[0], "message", None) if choices else None
    reasoning = getattr(message, "reasoning_content", None) or ""
    content = getattr(message, "content", None) or (getattr(choices[0], "text", None) if choices else None) or ""
    ts = ThinkingStream(budget=UNLIMITED, counter=count_tokens)
    ts.feed(reasoning or None, content or None)
    ts.finish()
    return ts.thinking_tokens, ts.answer_tokens


def engine_id_counts(response: Any, ids: list[int], tags: TagIds) -> tuple[int, int] | None:
    """(thinking, answer) of a non-streamed response from its generated token ``ids``."""
    reasoning, content, _ = _message_parts(response)
    return split_thinking(ids, tags, has_reasoning=bool(reasoning), has_content=bool(content))


@dataclass(frozen=True, slots=True)
class FirstCall:
    """What the budget-capped first call of a non-streaming two-step request produced."""

    ts: ThinkingStream
    step: StepResult
    finish_reason: str | None

    @property
    def needs_continuation(self) -> bool:
        return self.finish_reason == "length" or self.step.cut

    @property
    def thinking_open(self) -> bool:
        """It stopped inside its thinking: the continuation closes it with the transition."""
        return self.step.cut or not self.step.thinking_done


def read_first_call(ctx: RequestContext, response: ModelResponse) -> FirstCall:
    """Run the first call's output through the state machine."""
    reasoning, content, finish = _message_parts(response)
    ts = new_thinking_stream(ctx)
    step = ts.feed(reasoning, content)
    if not step.cut:
        ts.finish()
    return FirstCall(ts, step, finish)


async def enforce_nonstream(
    runtime: Any, ctx: RequestContext, data: Mapping[str, Any], response: ModelResponse
) -> ModelResponse | None:
    """The two-step recipe for a non-streaming request whose first call was capped at the budget
    (``max_tokens = budget``) and stopped for length: continue from what it produced (thinking
    closed with the transition if it was still open) and merge the answer into one response."""
    first = ctx.first_call
    if first is None or not first.needs_continuation:
        return None  # the model answered within its budget
    ts, lc = first.ts, ctx.lifecycle
    thinking_open = first.thinking_open
    transition = runtime.settings.transition if thinking_open else ""
    answer_so_far = "" if thinking_open else (first.step.content_out or "")
    prefill = prefill_text(ts.reasoning_text, transition, open_tag=prefill_opens_think(ctx)) + answer_so_far
    original = client_messages(data)
    messages = [*original, {"role": "assistant", "content": prefill}]
    room = max(answer_room(data, runtime.settings.answer_reserve_tokens, ts.thinking_tokens) - ts.answer_tokens, 1)
    message = response.choices[0].message
    try:
        call = await choose_continuation(
            runtime,
            ctx,
            original,
            continuation_request(ctx, data, messages, room),
            reasoning=ts.reasoning_text,
            transition=transition,
            answer_so_far=answer_so_far,
        )
        issue_continuation(runtime, ctx, call.call_id)
        cont = await start_continuation(runtime, call)
    except Exception:
        # As a stream does: the client gets what there is, ended for length; the record says failure.
        log.warning("thinkbudget: the continuation of %s failed", ctx.call_id, exc_info=True)
        runtime.end(ctx, lc.continuation_ended(False))
        message.reasoning_content = ts.reasoning_text
        message.content = answer_so_far or None
        response.choices[0].finish_reason = "length"
        return response
    except BaseException:
        runtime.end(ctx, lc.continuation_ended(False))
        raise
    c_reasoning, c_content, c_finish = _message_parts(cont)
    answer = (c_content or "") if c_reasoning is None else (c_reasoning or "") + (c_content or "")
    message.reasoning_content = ts.reasoning_text + transition
    message.content = answer_so_far + answer
    response.choices[0].finish_reason = c_finish or "stop"
    # its deployment hook completed the request already; this completes it when no hook ran (a cache hit)
    runtime.completed(ctx, await lc.continuation_ended(True, count_tokens(answer) if answer else 0))
    usage, c_usage = getattr(response, "usage", None), getattr(cont, "usage", None)
    if isinstance(usage, Usage) and isinstance(c_usage, Usage):
        usage.prompt_tokens = (usage.prompt_tokens or 0) + (c_usage.prompt_tokens or 0)
        usage.completion_tokens = (usage.completion_tokens or 0) + (c_usage.completion_tokens or 0)
        usage.total_tokens = usage.prompt_tokens + usage.completion_tokens
    return response

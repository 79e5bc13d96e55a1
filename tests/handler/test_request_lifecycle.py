"""The handler shell around the lifecycle: the context store, the sweep, and the stream enforcer's
events (cut, continuation, clients that leave, our own bugs), with a real meter hub and no proxy.
The lifecycle's own event sequences are tested in tests/lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import time

import anyio
from litellm.types.utils import Choices, Delta, Message, ModelResponse, ModelResponseStream, StreamingChoices
from request_states import make_context

from thinkbudget_litellm import metrics
from thinkbudget_litellm.handler.handler import ThinkBudgetHandler
from thinkbudget_litellm.handler.runtime import Runtime
from thinkbudget_litellm.handler.state import ContextStore, RequestContext
from thinkbudget_litellm.handler.stream_enforcer import StreamEnforcer
from thinkbudget_litellm.lifecycle import Phase
from thinkbudget_litellm.settings import DeploymentSettings, Enforcement, ThinkBudgetSettings

DEP = "dep-1"
PRICED = {"enforcement": "stream", "gpu": {"name": "g", "count": 1, "cost_per_hour": 3.6}}


class _Writer:
    def __init__(self) -> None:
        self.records: list = []

    def submit(self, record) -> None:
        self.records.append(record)


def _runtime() -> Runtime:
    rt = Runtime(ThinkBudgetSettings())
    rt.writer = _Writer()  # type: ignore[assignment]
    rt.deployment_settings(DEP, {"thinkbudget": PRICED})
    return rt


async def _admitted(rt: Runtime, call_id: str = "c1", *, budget: int = 4, stream: bool = True) -> RequestContext:
    """A request admitted and on its first attempt (budget 4 tokens by default)."""
    ctx = make_context(rt.meter, call_id, budget=budget, stream=stream)
    assert rt.states.put(ctx)
    ctx.deployment_id, ctx.deployment = DEP, DeploymentSettings.model_validate(PRICED)
    await ctx.lifecycle.attempt_started(DEP, 0, priced=True, enforcement=Enforcement.STREAM)
    return ctx


def _open_entries(rt: Runtime) -> int:
    return rt.meter.snapshot()[DEP].active_requests


async def _drain(rt: Runtime) -> None:
    while rt._tasks:
        await asyncio.gather(*rt._tasks)
        await asyncio.sleep(0)  # done callbacks drop finished tasks from the set


def _records(rt: Runtime) -> list:
    return rt.writer.records  # type: ignore[union-attr]


def _chunk(reasoning: str | None, content: str | None) -> ModelResponseStream:
    delta = Delta(role="assistant", reasoning_content=reasoning, content=content)
    return ModelResponseStream(choices=[StreamingChoices(index=0, delta=delta)])


async def _thinking(n: int = 20):
    for _ in range(n):
        yield _chunk("thinking hard about it ", None)


class _Continuation:
    """A continuation stream whose every step awaits (as a real one does)."""

    def __aiter__(self):
        return self

    async def __anext__(self):
        await anyio.sleep(0)
        return _chunk(None, "answer ")

    async def aclose(self) -> None:
        await anyio.sleep(0)


class _Router:
    def __init__(self, result=None, error: Exception | None = None) -> None:
        self.result, self.error, self.calls = result, error, []

    async def acompletion(self, **kwargs):
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error
        return self.result


# ---------------------------------------------------------------------------- context store
async def test_store_refuses_a_second_live_request_with_the_same_id():
    rt = _runtime()
    store = ContextStore()
    first, second = make_context(rt.meter, "same"), make_context(rt.meter, "same")
    assert store.put(first) and not store.put(second)
    assert store.get("same") is first


async def test_completed_requests_stay_findable_by_every_id_but_bounded():
    rt = _runtime()
    store = ContextStore(recent_max=3)
    ctxs = [make_context(rt.meter, f"c{i}") for i in range(3)]
    for ctx in ctxs:
        store.put(ctx)
    ctxs[2].lifecycle._phase = Phase.AWAITING_CONTINUATION  # as after a cut
    ctxs[2].lifecycle.continuation_issued("cont-of-c2")
    store.alias("cont-of-c2", ctxs[2])
    assert store.live("cont-of-c2") is ctxs[2] and len(store) == 3
    for ctx in ctxs:
        store.done(ctx)
    assert len(store) == 0 and store.live("c2") is None and store.live("cont-of-c2") is None
    assert store.get("c2") is store.get("cont-of-c2") is ctxs[2]
    assert store.get("c0") is None  # evicted from the bounded recent map


async def test_sweep_closes_abandoned_requests_with_a_record():
    rt = _runtime()
    rt.ttl_s, rt.failure_grace_s = 60.0, 5.0
    rt.states = ContextStore(sweep_interval_s=0)
    idle, failed = await _admitted(rt, "idle"), await _admitted(rt, "failed")
    idle.lifecycle.last_activity = time.monotonic() - 61
    await failed.lifecycle.attempt_failed("failed")
    failed.lifecycle._failed_at = time.monotonic() - 6  # the grace period has passed
    rt.sweep()
    await _drain(rt)
    by_id = {r.litellm_call_id: r for r in _records(rt)}
    assert by_id["idle"].extra["closed_by"] == "idle timeout" and by_id["idle"].status == "failure"
    assert by_id["failed"].extra["closed_by"] == "failed, no retry"
    assert len(rt.states) == 0 and _open_entries(rt) == 0


# ---------------------------------------------------------------------------- stream enforcer
async def test_a_stream_that_ends_is_recorded_at_its_end_not_at_litellm_s_success_event():
    """A proxy killed between the last chunk and LiteLLM's success logging used to lose the record."""
    rt = _runtime()
    ctx = await _admitted(rt, budget=10_000)
    out = [c async for c in StreamEnforcer(rt, ctx, {"messages": []}).run(_thinking(5))]
    assert len(out) >= 5
    [record] = _records(rt)
    assert record.status == "success" and record.thinking_tokens > 0 and record.gpu_seconds is not None
    assert len(rt.states) == 0 and _open_entries(rt) == 0


async def test_a_bug_while_observing_the_stream_lets_the_rest_through(monkeypatch):
    rt = _runtime()
    ctx = await _admitted(rt, budget=10_000)
    enforcer = StreamEnforcer(rt, ctx, {"messages": []})

    def boom(_chunk):
        raise RuntimeError("observer bug")

    monkeypatch.setattr(enforcer, "_observe", boom)

    async def upstream():
        for text in ("a", "b", "c"):
            yield _chunk(text, None)

    before = metrics.ERRORS.labels(hook="stream_observe")._value.get()
    out = [c async for c in enforcer.run(upstream())]
    assert [c.choices[0].delta.reasoning_content for c in out] == ["a", "b", "c"]
    assert metrics.ERRORS.labels(hook="stream_observe")._value.get() == before + 1
    assert len(_records(rt)) == 1


async def test_thinking_counts_are_current_mid_stream():
    rt = _runtime()
    ctx = await _admitted(rt, budget=10_000)
    gen = StreamEnforcer(rt, ctx, {"messages": []}).run(_thinking(5))
    for _ in range(3):
        await gen.__anext__()
    assert ctx.lifecycle.thinking_tokens > 0  # a disconnect now would bill and record these
    await gen.aclose()
    await _drain(rt)


async def test_a_bug_after_the_cut_ends_the_stream_cleanly_and_records(monkeypatch):
    rt = _runtime()
    ctx = await _admitted(rt)
    enforcer = StreamEnforcer(rt, ctx, {"messages": []})

    def boom():
        raise RuntimeError("continuation bug")

    monkeypatch.setattr(enforcer, "_continuation_kwargs", boom)
    out = [c async for c in enforcer.run(_thinking())]
    await _drain(rt)
    assert out[-1].choices[0].finish_reason == "length"
    [record] = _records(rt)
    assert record.cut and record.status == "failure" and record.thinking_tokens >= 4
    assert _open_entries(rt) == 0


async def test_client_leaving_before_the_cut_is_recorded_as_cancelled():
    rt = _runtime()
    ctx = await _admitted(rt, budget=10_000)
    gen = StreamEnforcer(rt, ctx, {"messages": []}).run(_thinking(5))
    await gen.__anext__()
    await gen.aclose()  # the client went away
    await _drain(rt)
    [record] = _records(rt)
    assert record.status == "cancelled" and record.thinking_tokens > 0 and record.gpu_seconds is not None
    assert _open_entries(rt) == 0 and len(rt.states) == 0


async def test_client_leaving_between_the_cut_and_the_continuation_is_recorded():
    rt = _runtime()
    ctx = await _admitted(rt)
    gen = StreamEnforcer(rt, ctx, {"messages": [{"role": "user", "content": "hi"}]}).run(_thinking())
    await gen.__anext__()
    while not ctx.lifecycle.cut_at_budget:
        await gen.__anext__()
    await gen.aclose()  # gone at the closing text, before the continuation call
    await _drain(rt)
    [record] = _records(rt)
    assert record.status == "cancelled" and record.cut and _open_entries(rt) == 0


async def test_a_cut_stream_continues_under_an_id_only_we_issued(monkeypatch):
    rt = _runtime()
    router = _Router(result=_ShortContinuation())
    monkeypatch.setattr(rt, "router", lambda: router)
    ctx = await _admitted(rt)
    out = [c async for c in StreamEnforcer(rt, ctx, {"messages": [{"role": "user", "content": "hi"}]}).run(_thinking())]
    assert any(c.choices and c.choices[0].delta.content == "answer " for c in out)
    [kwargs] = router.calls
    assert "thinkbudget_continuation_of" not in kwargs["metadata"]  # no marker in a client field
    assert ctx.lifecycle.continuation_call_id == kwargs["litellm_call_id"]
    [record] = _records(rt)
    assert record.status == "cut" and record.continuation_call_id == kwargs["litellm_call_id"]


class _ShortContinuation(_Continuation):
    def __init__(self) -> None:
        self.left = 3

    async def __anext__(self):
        if not self.left:
            raise StopAsyncIteration
        self.left -= 1
        return await super().__anext__()


async def test_client_leaving_during_the_continuation_under_a_cancelled_scope_is_recorded(monkeypatch):
    """Starlette cancels the response's anyio scope on a disconnect, and every later await in that
    scope raises again: the cleanup used to await before recording and so leaked both requests."""
    rt = _runtime()
    monkeypatch.setattr(rt, "router", lambda: _Router(result=_Continuation()))
    ctx = await _admitted(rt)
    gen = StreamEnforcer(rt, ctx, {"messages": [{"role": "user", "content": "hi"}]}).run(_thinking())
    with anyio.CancelScope() as scope:
        seen = 0
        async for _ in gen:
            seen += ctx.lifecycle.continuation_call_id is not None
            if seen == 3:
                break
        scope.cancel()
        with contextlib.suppress(anyio.get_cancelled_exc_class()):
            await gen.aclose()
    await _drain(rt)
    [record] = _records(rt)
    assert record.status == "cancelled" and record.cut
    assert len(rt.states) == 0 and _open_entries(rt) == 0


# ---------------------------------------------------------------------------- non-streaming two-step
def _capped() -> ModelResponse:
    message = Message(role="assistant", content="<think>hmm hmm")
    return ModelResponse(choices=[Choices(index=0, finish_reason="length", message=message)])


async def test_nonstream_continuation_is_decided_before_the_success_event():
    """LiteLLM schedules its success event before the proxy's post-call hook continues the request."""
    rt = _runtime()
    handler = ThinkBudgetHandler(rt)
    ctx = await _admitted(rt, stream=False)
    await handler.async_post_call_success_deployment_hook({"litellm_call_id": "c1"}, _capped(), "acompletion")
    assert ctx.first_call is not None and ctx.first_call.needs_continuation
    await handler.async_log_success_event({"litellm_call_id": "c1"}, None, None, None)  # the first call's event
    assert _records(rt) == [] and rt.states.live("c1") is ctx


async def test_nonstream_continuation_that_fails_returns_the_partial_ended_for_length(monkeypatch):
    """It used to answer 200 with the capped first call as if complete while the record said failure."""
    rt = _runtime()
    monkeypatch.setattr(rt, "router", lambda: _Router(error=RuntimeError("upstream down")))
    handler = ThinkBudgetHandler(rt)
    await _admitted(rt, stream=False)
    data = {"litellm_call_id": "c1", "messages": [{"role": "user", "content": "hi"}]}
    capped = _capped()
    await handler.async_post_call_success_deployment_hook(data, capped, "acompletion")
    before = metrics.ERRORS.labels(hook="nonstream_enforce")._value.get()
    out = await handler.async_post_call_success_hook(data, None, capped)
    await _drain(rt)
    assert out is capped and out.choices[0].finish_reason == "length"
    assert metrics.ERRORS.labels(hook="nonstream_enforce")._value.get() == before
    [record] = _records(rt)
    assert record.status == "failure" and record.cut

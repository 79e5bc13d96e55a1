"""Request state through retries, fallbacks, failures, cancellations and the sweep (no proxy)."""

from __future__ import annotations

import contextlib
import time

from litellm.types.utils import Delta, ModelResponseStream, StreamingChoices
from request_states import make_state

from thinkbudget_litellm import metrics
from thinkbudget_litellm.handler.runtime import Runtime
from thinkbudget_litellm.handler.state import RequestState, StateStore
from thinkbudget_litellm.handler.stream_enforcer import StreamEnforcer
from thinkbudget_litellm.policy.budget import BudgetDecision
from thinkbudget_litellm.settings import DeploymentSettings, Enforcement, ThinkBudgetSettings
from thinkbudget_litellm.tiers import Tier

DEP = "dep-1"
PRICED = {"enforcement": "stream", "gpu": {"name": "g", "count": 1, "cost_per_hour": 3.6}}


class _Writer:
    def __init__(self) -> None:
        self.records: list = []

    def submit(self, record) -> None:
        self.records.append(record)


def _runtime(**store) -> Runtime:
    rt = Runtime(ThinkBudgetSettings())
    rt.states = StateStore(**store)
    rt.writer = _Writer()  # type: ignore[assignment]
    rt.deployment_settings(DEP, {"thinkbudget": PRICED})
    return rt


def _state(call_id: str = "c1", stream: bool = True, now: float | None = None) -> RequestState:
    return make_state(call_id, budget=4, started=now, stream=stream, enforcement=Enforcement.STREAM)


def _attempt(rt: Runtime, state: RequestState) -> None:
    state.deployment_id = DEP
    state.deployment = DeploymentSettings.model_validate(PRICED)
    rt.attempt_started(state)


def _open_entries(rt: Runtime) -> int:
    return rt.meter.snapshot()[DEP].active_requests


async def _drain(rt: Runtime) -> None:
    for task in list(rt._tasks):
        await task


# ---------------------------------------------------------------------------- state store
def test_store_refuses_a_second_live_request_with_the_same_id():
    store = StateStore()
    first, second = _state("same"), _state("same")
    assert store.put(first) and not store.put(second)
    assert store.get("same") is first


def test_finished_requests_stay_findable_for_late_hooks_but_bounded():
    store = StateStore(recent_max=2)
    for i in range(3):
        store.put(_state(f"c{i}"))
        store.pop(f"c{i}")
    assert len(store) == 0 and store.live("c2") is None
    assert store.get("c2") is not None and store.get("c1") is not None
    assert store.get("c0") is None  # evicted from the bounded recent map


def test_stale_after_ttl_or_after_a_failed_attempt_that_nobody_retries():
    store = StateStore(ttl_s=100, failure_grace_s=10)
    now = 1_000.0
    idle, failed, retrying, fresh = (_state(n, now=now - 50) for n in ("idle", "failed", "retrying", "fresh"))
    idle.last_activity = now - 101
    failed.failed_at = now - 11
    retrying.failed_at, retrying.attempt_open = now - 11, True
    for s in (idle, failed, retrying, fresh):
        store.put(s)
    assert {s.call_id for s in store.stale(now)} == {"idle", "failed"}


# ---------------------------------------------------------------------------- runtime lifecycle
async def test_failed_attempt_then_fallback_success_is_one_success_record():
    rt = _runtime()
    state = _state()
    rt.states.put(state)
    _attempt(rt, state)
    await rt.attempt_failed(state)  # LiteLLM's deployment failure hook; the router will retry
    await rt.attempt_failed(state)  # counted once per attempt
    await rt.finish(state, {}, "failure")  # the request-level failure event is not final
    assert rt.states.live("c1") is state and not state.finished
    assert _open_entries(rt) == 0 and state.failed_attempts == 1
    _attempt(rt, state)  # the retry
    assert _open_entries(rt) == 1 and state.failed_at is None
    await rt.finish(state, {}, "success")
    [record] = rt.writer.records  # type: ignore[union-attr]
    assert record.status == "success" and record.extra["failed_attempts"] == 1
    assert _open_entries(rt) == 0 and rt.states.live("c1") is None


async def test_final_failure_closes_the_meter_entry_and_writes_one_record():
    rt = _runtime()
    state = _state()
    rt.states.put(state)
    _attempt(rt, state)
    await rt.request_failed(state)  # the proxy answered the client with an error
    await rt.request_failed(state)
    await rt.attempt_failed(state)  # a late attempt event changes nothing
    [record] = rt.writer.records  # type: ignore[union-attr]
    assert record.status == "failure"
    assert _open_entries(rt) == 0


async def test_sweep_closes_abandoned_requests_with_a_record():
    rt = _runtime(ttl_s=60, failure_grace_s=5, sweep_interval_s=0)
    idle, failed = _state("idle", now=time.monotonic() - 120), _state("failed")
    for s in (idle, failed):
        rt.states.put(s)
        _attempt(rt, s)
    idle.last_activity = time.monotonic() - 61
    await rt.attempt_failed(failed)
    failed.failed_at = time.monotonic() - 6
    rt.sweep()
    await _drain(rt)
    by_id = {r.litellm_call_id: r for r in rt.writer.records}  # type: ignore[union-attr]
    assert by_id["idle"].extra["closed_by"] == "idle timeout" and by_id["idle"].status == "failure"
    assert by_id["failed"].extra["closed_by"] == "failed, no retry"
    assert len(rt.states) == 0 and _open_entries(rt) == 0


async def test_cancelled_continuation_completes_the_parent():
    rt = _runtime()
    parent = _state()
    rt.states.put(parent)
    _attempt(rt, parent)
    parent.energy = await rt.meter_finished(parent)
    parent.awaiting_continuation = True
    child = rt.begin_continuation(parent, "child-1")
    _attempt(rt, child)
    rt.continuation_failed(parent, child, status="cancelled")
    await _drain(rt)
    [record] = rt.writer.records  # type: ignore[union-attr]
    assert record.status == "cancelled" and record.continuation_call_id == "child-1"
    assert _open_entries(rt) == 0 and len(rt.states) == 0
    await rt.finish(child, {}, "success")  # a late event for the child writes nothing more
    assert len(rt.writer.records) == 1  # type: ignore[union-attr]


# ---------------------------------------------------------------------------- stream enforcer fail-open
def _chunk(reasoning: str | None, content: str | None) -> ModelResponseStream:
    delta = Delta(role="assistant", reasoning_content=reasoning, content=content)
    return ModelResponseStream(choices=[StreamingChoices(index=0, delta=delta)])


async def test_a_bug_while_observing_the_stream_lets_the_rest_through(monkeypatch):
    rt = _runtime()
    state = _state()
    state.deployment = DeploymentSettings.model_validate(PRICED)
    enforcer = StreamEnforcer(rt, state, {"messages": []})

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


async def test_thinking_counts_are_current_mid_stream():
    rt = _runtime()
    state = _state()
    state.decision = BudgetDecision(Tier.DEEP, 10_000, "tier", None)
    state.deployment = DeploymentSettings.model_validate(PRICED)
    enforcer = StreamEnforcer(rt, state, {"messages": []})

    async def upstream():
        for _ in range(5):
            yield _chunk("thinking hard ", None)

    gen = enforcer.run(upstream())
    for _ in range(3):
        await gen.__anext__()
    assert state.thinking_tokens > 0  # a disconnect now would bill and record these
    await gen.aclose()


async def test_a_bug_after_the_cut_ends_the_stream_cleanly_and_records(monkeypatch):
    rt = _runtime()
    state = _state()  # budget 4 tokens
    rt.states.put(state)
    _attempt(rt, state)
    enforcer = StreamEnforcer(rt, state, {"messages": []})

    def boom():
        raise RuntimeError("continuation bug")

    monkeypatch.setattr(enforcer, "_continuation_kwargs", boom)

    async def upstream():
        for _ in range(20):
            yield _chunk("thinking hard about it ", None)

    out = [c async for c in enforcer.run(upstream())]
    await _drain(rt)
    assert out[-1].choices[0].finish_reason == "length"
    [record] = rt.writer.records  # type: ignore[union-attr]
    assert record.cut and record.status == "failure" and record.thinking_tokens >= 4
    assert _open_entries(rt) == 0


async def test_nonstream_continuation_is_decided_before_the_success_event():
    """LiteLLM schedules its success event before the proxy's post-call hook continues the request."""
    from litellm.types.utils import Choices, Message, ModelResponse

    from thinkbudget_litellm.handler.handler import ThinkBudgetHandler

    rt = _runtime()
    handler = ThinkBudgetHandler(rt)
    state = _state(stream=False)
    rt.states.put(state)
    _attempt(rt, state)
    capped = ModelResponse(
        choices=[Choices(index=0, finish_reason="length", message=Message(role="assistant", content="<think>hmm hmm"))]
    )
    await handler.async_post_call_success_deployment_hook({"litellm_call_id": "c1"}, capped, "acompletion")
    assert state.awaiting_continuation
    await rt.finish(state, {}, "success")  # the first call's success event
    assert rt.writer.records == [] and rt.states.live("c1") is state  # type: ignore[union-attr]


async def test_an_attempt_left_open_is_closed_as_failed_before_the_next_one():
    """A stream that broke before its first chunk goes to a fallback with no deployment failure hook."""
    rt = _runtime()
    state = _state()
    rt.states.put(state)
    _attempt(rt, state)
    await rt.end_open_attempt(state)
    _attempt(rt, state)
    assert state.failed_attempts == 1 and _open_entries(rt) == 1
    await rt.finish(state, {}, "success")
    assert _open_entries(rt) == 0 and rt.writer.records[0].extra["failed_attempts"] == 1  # type: ignore[union-attr]


async def test_concurrent_closers_share_one_meter_result(monkeypatch):
    import asyncio

    rt = _runtime()
    real_finish = rt.meter.request_finished

    async def slow_finish(call_id, completion_tokens=None):
        await asyncio.sleep(0.01)  # a fresh meter sample is awaited
        return await real_finish(call_id, completion_tokens)

    monkeypatch.setattr(rt.meter, "request_finished", slow_finish)
    state = _state()
    rt.states.put(state)
    _attempt(rt, state)
    a, b = await asyncio.gather(rt.meter_finished(state), rt.meter_finished(state))
    assert a is not None and a is b and _open_entries(rt) == 0


async def test_client_leaving_before_the_cut_is_recorded_as_cancelled():
    rt = _runtime()
    state = _state()
    state.decision = BudgetDecision(Tier.DEEP, 10_000, "tier", None)
    rt.states.put(state)
    _attempt(rt, state)
    enforcer = StreamEnforcer(rt, state, {"messages": []})

    async def upstream():
        for _ in range(5):
            yield _chunk("thinking hard ", None)

    gen = enforcer.run(upstream())
    await gen.__anext__()
    await gen.aclose()  # the client went away
    assert state.status == "cancelled" and not state.finished
    rt._tasks.clear()  # no success event came: close it now instead of after the grace period
    await rt._close_if_silent(state, 0)
    [record] = rt.writer.records  # type: ignore[union-attr]
    assert record.status == "cancelled" and record.thinking_tokens > 0 and _open_entries(rt) == 0


async def test_client_leaving_between_the_cut_and_the_continuation_is_recorded():
    rt = _runtime()
    state = _state()  # budget 4 tokens
    rt.states.put(state)
    _attempt(rt, state)
    enforcer = StreamEnforcer(rt, state, {"messages": []})

    async def upstream():
        for _ in range(20):
            yield _chunk("thinking hard about it ", None)

    gen = enforcer.run(upstream())
    out = [await gen.__anext__()]
    while not state.cut:
        out.append(await gen.__anext__())
    await gen.aclose()  # gone at the closing text, before the continuation call
    await _drain(rt)
    [record] = rt.writer.records  # type: ignore[union-attr]
    assert record.status == "cancelled" and record.cut and _open_entries(rt) == 0


async def test_client_leaving_during_the_continuation_under_a_cancelled_scope_is_recorded(monkeypatch):
    """Starlette cancels the response's anyio scope on a disconnect, and every later await in that
    scope raises again: the cleanup used to await before recording and so leaked both requests."""
    import anyio

    rt = _runtime()
    state = _state()  # budget 4 tokens
    rt.states.put(state)
    _attempt(rt, state)

    class _Continuation:
        def __init__(self) -> None:
            self.n = 0

        def __aiter__(self):
            return self

        async def __anext__(self):
            self.n += 1
            await anyio.sleep(0)
            return _chunk(None, "answer ")

        async def aclose(self) -> None:
            await anyio.sleep(0)

    class _Router:
        async def acompletion(self, **kwargs):
            return _Continuation()

    monkeypatch.setattr(rt, "router", lambda: _Router())
    enforcer = StreamEnforcer(rt, state, {"messages": [{"role": "user", "content": "hi"}]})

    async def upstream():
        for _ in range(20):
            yield _chunk("thinking hard about it ", None)

    gen = enforcer.run(upstream())
    with anyio.CancelScope() as scope:
        seen = 0
        async for _ in gen:
            seen += state.continuation is not None
            if seen == 3:
                break
        scope.cancel()
        with contextlib.suppress(anyio.get_cancelled_exc_class()):
            await gen.aclose()
    await _drain(rt)
    await _drain(rt)
    [record] = rt.writer.records  # type: ignore[union-attr]
    assert record.status == "cancelled" and record.cut
    assert len(rt.states) == 0 and _open_entries(rt) == 0


async def test_nonstream_continuation_that_fails_returns_the_partial_ended_for_length(monkeypatch):
    """It used to answer 200 with the capped first call as if complete while the record said failure."""
    from litellm.types.utils import Choices, Message, ModelResponse

    from thinkbudget_litellm.handler.handler import ThinkBudgetHandler

    class _Router:
        async def acompletion(self, **kwargs):
            raise RuntimeError("upstream down")

    rt = _runtime()
    monkeypatch.setattr(rt, "router", lambda: _Router())
    handler = ThinkBudgetHandler(rt)
    state = _state(stream=False)
    rt.states.put(state)
    _attempt(rt, state)
    capped = ModelResponse(
        choices=[Choices(index=0, finish_reason="length", message=Message(role="assistant", content="<think>hmm hmm"))]
    )
    data = {"litellm_call_id": "c1", "messages": [{"role": "user", "content": "hi"}]}
    await handler.async_post_call_success_deployment_hook(data, capped, "acompletion")
    out = await handler.async_post_call_success_hook(data, None, capped)
    await _drain(rt)
    assert out is capped and out.choices[0].finish_reason == "length"
    assert metrics.ERRORS.labels(hook="nonstream_enforce")._value.get() == 0
    [record] = rt.writer.records  # type: ignore[union-attr]
    assert record.status == "failure" and record.cut

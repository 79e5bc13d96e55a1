"""The lifecycle's edges: meter errors, cancelled callers, the views the shell reads before the
request completes, the outcome's derived fields, and the real meter hub behind the port."""

from __future__ import annotations

import asyncio

import pytest
from lifecycle_fakes import CALL, CONT, FakeClock, FakeMeter, admission

from thinkbudget_litellm.lifecycle import (
    AttemptEnd,
    AttemptKind,
    Event,
    MeterPort,
    Phase,
    RequestLifecycle,
    SweepReason,
    deployment_priced,
)
from thinkbudget_litellm.meter.hub import MeterHub
from thinkbudget_litellm.record.request_record import RequestStatus
from thinkbudget_litellm.settings import DeploymentSettings, Enforcement


def _lifecycle(
    meter: MeterPort | None = None, enforcement: Enforcement = Enforcement.STREAM
) -> tuple[RequestLifecycle, FakeClock]:
    clock = FakeClock()
    return RequestLifecycle(admission(enforcement=enforcement), meter or FakeMeter(), clock), clock


async def test_a_meter_that_fails_to_close_gives_an_unmetered_figure_not_an_error() -> None:
    lc, _ = _lifecycle(FakeMeter(fail_closes=True))
    await lc.attempt_started("dep-a", 10, priced=True)
    lc.tokens(3)
    step = await lc.attempt_succeeded(3, 0)
    assert step.outcome is not None and step.outcome.status is RequestStatus.SUCCESS
    [attempt] = step.outcome.attempts
    assert attempt.energy is not None and attempt.energy.source == "none(meter error)"
    assert step.outcome.bill.energy_source == "none(meter error)" and step.outcome.bill.cost_usd is None
    assert lc.meter_errors == 1 and lc.last_meter_error == "RuntimeError('meter down')"


async def test_a_meter_that_fails_to_open_leaves_the_attempt_unmetered() -> None:
    class Refusing(FakeMeter):
        def request_started(
            self, entry_id: str, deployment_id: str, prompt_tokens: int, /, *, streaming: bool | None = None
        ) -> None:
            raise RuntimeError("no such deployment")

    meter = Refusing()
    lc, _ = _lifecycle(meter)
    await lc.attempt_started("dep-a", 10, priced=True)
    assert lc.tokens(2)  # accepted, but nothing reaches the meter
    outcome = (await lc.attempt_succeeded()).outcome
    assert outcome is not None and outcome.attempts[0].energy is None and outcome.bill.joules is None
    assert lc.meter_errors == 1 and meter.closed == [] and meter.violations == []


async def test_a_caller_cancelled_mid_close_does_not_lose_the_close() -> None:
    meter = FakeMeter(yields=5)
    lc, _ = _lifecycle(meter)
    await lc.attempt_started("dep-a", 10, priced=True)
    lc.tokens(4)
    failing = asyncio.ensure_future(lc.attempt_failed(CALL))
    await asyncio.sleep(0)
    failing.cancel()  # the hook's task goes away while the meter is closing the entry
    with pytest.raises(asyncio.CancelledError):
        await failing
    outcome = (await lc.request_failed()).outcome
    assert outcome is not None
    [attempt] = outcome.attempts
    assert attempt.end is AttemptEnd.FAILED and attempt.energy is meter.closed[0][2]
    assert outcome.bill.failed_joules == 12.0 and meter.open == {}


async def test_a_cancelled_completing_caller_still_completes_the_request() -> None:
    meter = FakeMeter(yields=5)
    lc, _ = _lifecycle(meter)
    await lc.attempt_started("dep-a", 10, priced=True)
    lc.tokens(1)
    leaving = asyncio.ensure_future(lc.client_left())
    await asyncio.sleep(0)
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    await lc.settled()
    assert lc.outcome is not None and lc.outcome.status is RequestStatus.CANCELLED
    assert lc.outcome.bill.joules == 9.0 and meter.open == {}


async def test_views_before_completion_give_each_litellm_call_its_own_cost() -> None:
    lc, _ = _lifecycle()
    await lc.attempt_started("dep-a", 10, priced=True)
    lc.tokens(4)
    assert lc.current_attempt is not None and lc.current_attempt.kind is AttemptKind.PRIMARY
    assert lc.bill_so_far().joules is None  # nothing ended yet
    await lc.cut()
    assert lc.current_attempt is None and lc.phase is Phase.AWAITING_CONTINUATION
    assert lc.bill_for(CALL).cost_usd == 12.0 / 64  # the cut stream's response_cost
    await lc.continuation_started(CONT, "dep-a", 20, priced=True)
    lc.tokens(3)
    assert lc.bill_for(CONT).joules is None and lc.bill_so_far().joules == 12.0
    outcome = (await lc.attempt_succeeded(call_id=CONT)).outcome  # the continuation's logging hook
    assert outcome is not None and outcome.status is RequestStatus.CUT
    assert outcome.bill_for(CONT).cost_usd == 11.0 / 64 and outcome.bill.joules == 23.0
    assert outcome.attempts_of(AttemptKind.CONTINUATION)[0].generated_tokens == 3


async def test_the_outcome_carries_the_admission_and_its_derived_fields() -> None:
    lc, clock = _lifecycle(enforcement=Enforcement.OFF)
    clock.t += 2.0
    await lc.attempt_started("dep-a", 10, priced=True, enforcement=Enforcement.NATIVE)
    clock.t += 1.5
    outcome = (await lc.attempt_succeeded(4, 1)).outcome
    assert outcome is not None
    assert (outcome.call_id, outcome.tier, outcome.task, outcome.budget) == (CALL, "simple", "math", 4)
    assert outcome.budget_scope == "tier" and outcome.enforcement is Enforcement.NATIVE
    assert outcome.engine_capped  # native, and the engine stopped at the budget (4 >= 4)
    assert outcome.latency_ms == 3500.0 and outcome.completed_by is Event.ATTEMPT_SUCCEEDED
    assert outcome.attempts[0].started_at == 1002.0 and outcome.attempts[0].ended_at == 1003.5


async def test_a_retry_resets_the_failure_clock_and_an_ignored_event_says_so() -> None:
    lc, clock = _lifecycle()
    await lc.attempt_started("dep-a", 10, priced=True)
    await lc.attempt_failed()
    clock.t += 200
    await lc.attempt_started("dep-b", 10, priced=True)  # the router's retry, after its backoff
    clock.t += 301
    assert lc.stale(clock(), 7200.0, 300.0) is None  # retrying, not abandoned
    clock.t += 7200
    assert lc.stale(clock(), 7200.0, 300.0) is SweepReason.IDLE_TIMEOUT
    step = await lc.continuation_ended(True)
    assert not step.accepted and step.phase is Phase.ATTEMPTING and step.outcome is None
    assert lc.ignored[Event.CONTINUATION_ENDED] == 1


async def test_the_real_meter_hub_is_a_meter_port() -> None:
    clock = FakeClock()
    hub = MeterHub(clock)
    hub.configure("dep-a", DeploymentSettings.model_validate({"gpu": {"count": 1, "cost_per_hour": 3.6}}))
    port: MeterPort = hub
    lc = RequestLifecycle(admission(), port, clock)
    await lc.attempt_started("dep-a", 0, priced=True)
    clock.t += 1.0
    lc.tokens(5)
    await lc.attempt_failed(CALL)
    await lc.attempt_started("dep-a", 0, priced=True)  # the retry reopens the same entry id
    clock.t += 2.0
    lc.tokens(5)
    outcome = (await lc.attempt_succeeded()).outcome
    assert outcome is not None and hub.snapshot()["dep-a"].active_requests == 0
    assert outcome.bill.gpu_seconds == pytest.approx(2.0) and outcome.bill.cost_usd == pytest.approx(0.002)
    assert outcome.bill.failed_cost_usd == pytest.approx(0.001) and outcome.bill.energy_source == "none"
    assert hub.stray_calls == 0


@pytest.mark.parametrize(
    ("settings", "priced"),
    [
        (None, False),
        ({}, False),
        ({"gpu": {"cost_per_hour": 3.6}}, True),
        ({"energy": {"price_per_kwh": 0.2}}, True),
    ],
)
def test_a_deployment_is_priced_by_a_gpu_or_an_energy_price(settings: dict[str, object] | None, priced: bool) -> None:
    dep = None if settings is None else DeploymentSettings.model_validate(settings)
    assert deployment_priced(dep) is priced

"""A request LiteLLM answers from its response cache: the deployment hook had opened an attempt (it
runs before LiteLLM's cache lookup), the cache answered, nothing ran on the GPU. Table-driven."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from lifecycle_fakes import CALL, LEFT, REQ_FAIL, Ev, advance, ev, fail, ok, run, start, tok

from thinkbudget_litellm.lifecycle import AttemptEnd, Event, Phase
from thinkbudget_litellm.meter.hub import CACHE_HIT_REASON
from thinkbudget_litellm.meter.provenance import EnergyLabel
from thinkbudget_litellm.record.request_record import RequestStatus

HIT = ev("cache_hit")


@dataclass(frozen=True)
class Row:
    name: str
    events: tuple[Ev, ...]
    stream: bool = True
    discarded: tuple[str, ...] = (CALL,)
    closed: int = 0  # meter entries closed (with a share)
    ignored: tuple[Event, ...] = ()
    attempts: tuple[AttemptEnd, ...] = (AttemptEnd.CACHE_HIT,)


ROWS = (
    Row("stream hit", (start(), HIT)),
    Row("non-stream hit", (start(), HIT), stream=False),
    Row("hit after time passed", (start(), advance(3.0), HIT)),
    Row("success logged after the hit is ignored", (start(), HIT, ok(5, 5)), ignored=(Event.ATTEMPT_SUCCEEDED,)),
    Row("hit delivered twice", (start(), HIT, HIT), ignored=(Event.CACHE_HIT,)),
    Row("failure hook after the hit is ignored", (start(), HIT, REQ_FAIL), ignored=(Event.REQUEST_FAILED,)),
    Row("client left after the hit", (start(), HIT, LEFT), ignored=(Event.CLIENT_LEFT,)),
    Row(
        "retry hits the cache",
        (start(), tok(3), fail(), start(), HIT),
        closed=1,
        attempts=(AttemptEnd.FAILED, AttemptEnd.CACHE_HIT),
    ),
    Row("no attempt started", (HIT,), discarded=()),
)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
async def test_cache_hit(row: Row) -> None:
    lc, meter, _steps = await run(row.events, stream=row.stream)
    outcome = lc.outcome
    assert outcome is not None and lc.phase is Phase.COMPLETED
    assert outcome.status is RequestStatus.CACHE_HIT
    assert outcome.completed_by is Event.CACHE_HIT
    assert tuple(a.end for a in outcome.attempts) == row.attempts
    bill = outcome.bill
    assert bill.joules == 0.0 and bill.gpu_seconds == 0.0 and bill.cost_usd == 0.0
    assert bill.energy_source == EnergyLabel.none(CACHE_HIT_REASON).text
    assert outcome.thinking_tokens == 0 and outcome.answer_tokens == 0
    assert tuple(meter.discarded) == row.discarded
    assert len(meter.closed) == row.closed
    assert meter.open == {} and meter.violations == []
    assert {e for e, n in lc.ignored.items() if n} == set(row.ignored)


async def test_a_completed_request_ignores_a_late_cache_hit() -> None:
    lc, meter, steps = await run((start(), tok(4), ok(2, 2), HIT))
    assert lc.outcome is not None and lc.outcome.status is RequestStatus.SUCCESS
    assert not steps[-1].accepted and meter.discarded == []

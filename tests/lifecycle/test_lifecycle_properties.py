"""Random event sequences (some delivered concurrently) through one request's lifecycle: it never
raises, never closes a meter entry twice or leaves one open, produces exactly one outcome, and bills
exactly the non-failed attempts' energy (their cost where their deployment is priced)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable

from hypothesis import given, settings
from hypothesis import strategies as st
from lifecycle_fakes import (
    CALL,
    CONT,
    CUT,
    LEFT,
    REQ_FAIL,
    SWEEP,
    Ev,
    FakeMeter,
    advance,
    cend,
    check_metered_once,
    counts,
    cstart,
    fail,
    issue,
    ok,
    run,
    start,
    swept,
    together,
    tok,
)

from thinkbudget_litellm.lifecycle import Attempt, AttemptEnd, Phase, RequestLifecycle, RequestOutcome, SweepReason

DEPLOYMENTS = st.sampled_from(["dep-a", "dep-b", None])
CALL_IDS = st.sampled_from([None, CALL, CONT, "other"])
COUNTS = st.none() | st.integers(0, 20)


def _succeeded(thinking: int | None, answer: int | None, call_id: str | None, continues: bool, cut: bool) -> Ev:
    return ok(thinking, answer, call_id=call_id, continues=continues, cut=cut)


def _continuation(dep: str | None, prompt: int, priced: bool, call_id: str) -> Ev:
    return cstart(dep, prompt, priced, call_id=call_id)


STARTS = st.builds(start, DEPLOYMENTS, st.integers(0, 50), st.booleans(), st.booleans())
STREAMING = st.one_of(st.builds(tok, st.integers(-1, 5)), st.builds(counts, st.integers(-1, 20), st.integers(0, 20)))
SUCCEEDED = st.builds(_succeeded, COUNTS, COUNTS, CALL_IDS, st.booleans(), st.booleans())
CONTINUES = st.builds(_succeeded, COUNTS, COUNTS, st.just(None), st.just(True), st.booleans())
CONTINUATION = st.one_of(
    st.builds(issue, st.sampled_from([CONT, CALL, "cont-2", ""])),
    st.builds(_continuation, DEPLOYMENTS, st.integers(0, 50), st.booleans(), st.sampled_from([CONT, CONT, "cont-2"])),
)
TERMINAL = st.one_of(
    st.sampled_from([REQ_FAIL, LEFT, swept(SweepReason.IDLE_TIMEOUT), swept(SweepReason.FAILED_NO_RETRY)]),
    st.builds(cend, st.booleans(), st.integers(0, 10)),
    SUCCEEDED,
)
TIME = st.one_of(st.builds(advance, st.sampled_from([0.0, 1.0, 299.0, 301.0, 7201.0])), st.just(SWEEP))
# weighted by repetition: mostly events that move a request along, now and then one that ends it
ONE = st.one_of(
    STARTS,
    STARTS,
    STREAMING,
    STREAMING,
    STREAMING,
    st.just(CUT),
    st.just(CUT),
    CONTINUES,
    st.builds(fail, CALL_IDS),
    CONTINUATION,
    CONTINUATION,
    CONTINUATION,
    TERMINAL,
    TIME,
)
SOME = st.lists(st.one_of(ONE, ONE, ONE, st.builds(together, ONE, ONE)), max_size=40)
# most requests begin with a deployment attempt; some get anything first (a cache hit, a stray event)
STARTED = st.builds(lambda first, rest: [first, *rest], STARTS, SOME)
TOKENS = st.lists(STREAMING, max_size=3)


@st.composite
def _attempts(draw: st.DrawFn, first: st.SearchStrategy[Ev], failure: st.SearchStrategy[Ev]) -> list[Ev]:
    """Failed attempts (some without a failure hook), then one that is still open."""
    events: list[Ev] = []
    for _ in range(draw(st.integers(0, 2))):
        events += [draw(first), *draw(TOKENS)]
        if draw(st.booleans()):
            events.append(draw(failure))
    return [*events, draw(first), *draw(TOKENS)]


@st.composite
def _flow(draw: st.DrawFn) -> list[Ev]:
    """A plausible request (retries, a cut or two-step continuation with its own retries, an end),
    with random events inserted and some neighbours delivered together."""
    events = draw(_attempts(STARTS, st.sampled_from([fail(), fail(CALL)])))
    if draw(st.booleans()):
        events.append(draw(st.one_of(st.just(CUT), CONTINUES)))
        if draw(st.booleans()):
            events.append(issue())
        cstarts = st.builds(_continuation, DEPLOYMENTS, st.integers(0, 50), st.booleans(), st.just(CONT))
        events += draw(_attempts(cstarts, st.sampled_from([fail(), fail(CONT)])))
    events.append(draw(TERMINAL))
    for position, noise in draw(st.lists(st.tuples(st.integers(0, len(events)), ONE), max_size=4)):
        events.insert(position, noise)
    for i in sorted(draw(st.sets(st.integers(0, len(events) - 2), max_size=3)), reverse=True):
        events[i : i + 2] = [together(events[i], events[i + 1])]
    return events


EVENTS = st.one_of(_flow(), _flow(), STARTED, SOME)


def _sum(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _priced_cost(attempts: Iterable[Attempt]) -> float | None:
    return _sum(
        a.energy.total_cost_usd
        for a in attempts
        if a.priced and a.energy is not None and a.energy.gpu_seconds is not None
    )


async def _run(events: list[Ev], stream: bool, yields: int) -> tuple[RequestLifecycle, FakeMeter, RequestOutcome]:
    lc, meter, steps = await run(events, stream=stream, yields=yields)
    steps.append(await lc.request_failed())  # whatever is still live ends now
    outcomes = [s.outcome for s in steps if s.outcome is not None]
    assert len(outcomes) == 1 and outcomes[0] is lc.outcome
    return lc, meter, outcomes[0]


def _check_meter(meter: FakeMeter, outcome: RequestOutcome) -> None:
    metered = check_metered_once(meter, outcome)
    closes = {energy.duration_s: energy for _, _, energy in meter.closed}
    assert sorted(a.energy.duration_s for a in metered if a.energy is not None) == sorted(closes)
    for a in metered:
        assert a.energy is not None
        source = closes[a.energy.duration_s].source
        assert a.energy.source == (f"simulated({source})" if a.simulated else source)


def _check_bill(lc: RequestLifecycle, outcome: RequestOutcome) -> None:
    attempts = outcome.attempts
    assert all(a.end is not None for a in attempts)
    billed = [a for a in attempts if a.end is not AttemptEnd.FAILED]
    failed = [a for a in attempts if a.end is AttemptEnd.FAILED]
    bill = outcome.bill
    assert bill.joules == _sum(a.energy.joules for a in billed if a.energy is not None)
    assert bill.gpu_seconds == _sum(a.energy.gpu_seconds for a in billed if a.energy is not None)
    assert bill.cost_usd == _priced_cost(billed)
    assert bill.failed_attempts == len(failed)
    assert bill.failed_joules == _sum(a.energy.joules for a in failed if a.energy is not None)
    assert bill.failed_cost_usd == _priced_cost(failed)
    assert bill == lc.bill_so_far()
    cont = outcome.continuation_call_id
    parts = [outcome.bill_for(CALL)] + ([outcome.bill_for(cont)] if cont is not None else [])
    assert _sum(p.joules for p in parts) == bill.joules


@settings(max_examples=300, deadline=None)
@given(events=EVENTS, stream=st.booleans(), yields=st.integers(0, 3))
def test_random_event_sequences_keep_the_invariants(events: list[Ev], stream: bool, yields: int) -> None:
    lc, meter, outcome = asyncio.run(_run(events, stream, yields))
    phases = lc.phases
    assert phases[0] is Phase.ADMITTED and phases[-1] is Phase.COMPLETED
    assert phases.count(Phase.COMPLETED) == 1
    assert all(a is not b for a, b in itertools.pairwise(phases))
    assert lc.stale(10**9, 0.0, 0.0) is None and lc.meter_errors == 0
    _check_meter(meter, outcome)
    _check_bill(lc, outcome)

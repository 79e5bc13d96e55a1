"""Table-driven event sequences through one request's lifecycle (no LiteLLM, no network).

Each row: the events the hooks deliver, then the phases the request went through, its one outcome
(status, tokens, the bill to the joule and cent) and the meter entries it opened and closed.
Joules are the fake meter's: 8 + the tokens an entry saw (see ``lifecycle_fakes``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from lifecycle_fakes import (
    CALL,
    CONT,
    CUT,
    LEFT,
    REQ_FAIL,
    SWEEP,
    Ev,
    advance,
    cend,
    check_metered_once,
    counts,
    cstart,
    fail,
    fake_bill,
    issue,
    ok,
    run,
    start,
    swept,
    together,
    tok,
)

from thinkbudget_litellm.lifecycle import (
    AttemptEnd,
    AttemptKind,
    Bill,
    Event,
    Phase,
    SweepReason,
)
from thinkbudget_litellm.record.request_record import RequestStatus

A, T, B, W, C, D = (
    Phase.ADMITTED,
    Phase.ATTEMPTING,
    Phase.BETWEEN_ATTEMPTS,
    Phase.AWAITING_CONTINUATION,
    Phase.CONTINUING,
    Phase.COMPLETED,
)
P, K = AttemptKind.PRIMARY, AttemptKind.CONTINUATION
OK_, FAILED, CANCELLED = AttemptEnd.SUCCEEDED, AttemptEnd.FAILED, AttemptEnd.CANCELLED
NOTHING = fake_bill(None, 0)


@dataclass(frozen=True)
class Row:
    """One sequence, then what it comes to; what a row leaves out is a plain success: phases (A, T, D),
    one primary attempt that succeeded on dep-a, streamed, no cut, nothing ignored."""

    name: str
    events: tuple[Ev, ...]
    counts: tuple[int, int, int]  # thinking, answer, prompt
    bill: Bill
    phases: tuple[Phase, ...] = (A, T, D)
    status: RequestStatus = RequestStatus.SUCCESS
    attempts: tuple[tuple[AttemptKind, AttemptEnd], ...] = ((P, OK_),)
    stream: bool = True
    cut: bool = False
    continuation: str | None = None
    closed_by: SweepReason | None = None
    deployment: str | None = "dep-a"
    ignored: Mapping[Event, int] = field(default_factory=dict)


def retried(name: str, events: tuple[Ev, ...], counts: tuple[int, int, int], bill: Bill, **expected: Any) -> Row:
    """A row whose first attempt failed and a second one succeeded: phases (A, T, B, T, D)."""
    row = Row(name, events, counts, bill, phases=(A, T, B, T, D), attempts=((P, FAILED), (P, OK_)))
    return replace(row, **expected)


def continued(name: str, events: tuple[Ev, ...], counts: tuple[int, int, int], bill: Bill, **expected: Any) -> Row:
    """A row whose first attempt was cut and continued as ``CONT``; what it leaves out is both
    attempts succeeding: phases (A, T, W, C, D), status cut."""
    row = Row(
        name,
        events,
        counts,
        bill,
        phases=(A, T, W, C, D),
        status=RequestStatus.CUT,
        attempts=((P, OK_), (K, OK_)),
        cut=True,
        continuation=CONT,
    )
    return replace(row, **expected)


ROWS = [
    Row("success", (start(), tok(5), tok(3), counts(6, 2), ok()), (6, 2, 10), fake_bill(16.0, 1)),
    Row(
        "non-stream success: the close reports the completion tokens",
        (start(), ok(7, 3)),
        (7, 3, 10),
        fake_bill(18.0, 1),
        stream=False,
    ),
    retried(
        "retry then success: the failed attempt is kept apart, not billed",
        (start(), tok(2), fail(CALL), start(), tok(4), counts(3, 1), ok()),
        (3, 1, 10),
        fake_bill(12.0, 1, failed=1, failed_joules=10.0),
    ),
    retried(
        "fallback to another deployment: each attempt priced by its own deployment",
        (start("dep-a", priced=False), fail(), start("dep-b", prompt=12), tok(4), ok(3, 1)),
        (3, 1, 12),
        fake_bill(12.0, 1, failed=1, failed_joules=8.0, failed_priced=False),
        deployment="dep-b",
    ),
    Row(
        "all attempts fail, then the proxy's failure hook",
        (start(), tok(1), fail(), start("dep-b"), fail(), REQ_FAIL),
        (0, 0, 10),
        fake_bill(None, 0, failed=2, failed_joules=17.0),
        phases=(A, T, B, T, B, D),
        status=RequestStatus.FAILURE,
        attempts=((P, FAILED), (P, FAILED)),
        deployment="dep-b",
    ),
    Row(
        "the proxy fails a stream mid-way: the open attempt fails with it, unbilled",
        (start(), tok(3), REQ_FAIL),
        (0, 0, 10),
        fake_bill(None, 0, failed=1, failed_joules=11.0),
        status=RequestStatus.FAILURE,
        attempts=((P, FAILED),),
    ),
    Row(
        "failed with no retry: swept once the grace has passed",
        (start(), tok(1), fail(), advance(300), SWEEP, advance(1), SWEEP),
        (0, 0, 10),
        fake_bill(None, 0, failed=1, failed_joules=9.0),
        phases=(A, T, B, D),
        status=RequestStatus.FAILURE,
        attempts=((P, FAILED),),
        closed_by=SweepReason.FAILED_NO_RETRY,
    ),
    Row(
        "idle past the TTL: swept, the open attempt failed with it",
        (start(), tok(2), advance(7200), SWEEP, advance(1), SWEEP),
        (0, 0, 10),
        fake_bill(None, 0, failed=1, failed_joules=10.0),
        status=RequestStatus.FAILURE,
        attempts=((P, FAILED),),
        closed_by=SweepReason.IDLE_TIMEOUT,
    ),
    continued(
        "stream cut, continuation succeeds: status cut, both billed",
        (start(), tok(4), counts(4, 0), CUT, issue(), cstart(), tok(3), counts(4, 3), cend(True)),
        (4, 3, 10),
        fake_bill(23.0, 2),
    ),
    continued(
        "stream cut, the continuation's first deployment fails, a fallback answers",
        (start(), tok(4), counts(4, 0), CUT, cstart(), tok(1), fail(CONT), cstart("dep-b"), tok(2), cend(True, 2)),
        (4, 2, 10),
        fake_bill(22.0, 2, failed=1, failed_joules=9.0),
        attempts=((P, OK_), (K, FAILED), (K, OK_)),
    ),
    continued(
        "cut, then the continuation fails",
        (start(), tok(4), counts(4, 0), CUT, issue(), cstart(), fail(CONT), cend(False)),
        (4, 0, 10),
        fake_bill(12.0, 1, failed=1, failed_joules=8.0),
        status=RequestStatus.FAILURE,
        attempts=((P, OK_), (K, FAILED)),
    ),
    continued(
        "cut, then the continuation's stream breaks: what it streamed stays billed",
        (start(), tok(4), CUT, issue(), cstart(), tok(2), cend(False)),
        (0, 0, 10),
        fake_bill(22.0, 2),
        status=RequestStatus.FAILURE,
        attempts=((P, OK_), (K, CANCELLED)),
    ),
    continued(
        "cut, the continuation fails and nobody retries it: swept after the grace",
        (start(), tok(4), CUT, cstart(), fail(CONT), advance(301), SWEEP),
        (0, 0, 10),
        fake_bill(12.0, 1, failed=1, failed_joules=8.0),
        status=RequestStatus.FAILURE,
        attempts=((P, OK_), (K, FAILED)),
        closed_by=SweepReason.FAILED_NO_RETRY,
    ),
    Row(
        "cut, the client leaves before the continuation: cancelled, the cut part billed",
        (start(), tok(4), counts(4, 0), CUT, LEFT),
        (4, 0, 10),
        fake_bill(12.0, 1),
        phases=(A, T, W, D),
        status=RequestStatus.CANCELLED,
        cut=True,
    ),
    continued(
        "cut, the client leaves during the continuation: both billed",
        (start(), tok(4), counts(4, 0), CUT, issue(), cstart(), tok(2), counts(4, 2), LEFT),
        (4, 2, 10),
        fake_bill(22.0, 2),
        status=RequestStatus.CANCELLED,
        attempts=((P, OK_), (K, CANCELLED)),
    ),
    Row(
        "the client leaves before any cut: cancelled, what was generated billed",
        (start(), tok(3), counts(3, 0), LEFT),
        (3, 0, 10),
        fake_bill(11.0, 1),
        status=RequestStatus.CANCELLED,
        attempts=((P, CANCELLED),),
    ),
    continued(
        "non-stream two-step, thinking cut: each close reports its own completion tokens",
        (start(), ok(4, 0, continues=True, cut=True), issue(), cstart(prompt=30), cend(True, 5)),
        (4, 5, 10),
        fake_bill(25.0, 2),
        stream=False,
    ),
    continued(
        "non-stream two-step, only the answer was capped: success, not cut",
        (start(), ok(3, 2, continues=True), issue(), cstart(), cend(True, 4)),
        (3, 6, 10),
        fake_bill(25.0, 2),
        status=RequestStatus.SUCCESS,
        stream=False,
        cut=False,
    ),
    Row(
        "two success events (the stream's end and LiteLLM's logging): the first decides",
        (start(), tok(2), counts(2, 0), ok(), ok(), ok(call_id=CALL)),
        (2, 0, 10),
        fake_bill(10.0, 1),
        ignored={Event.ATTEMPT_SUCCEEDED: 2},
    ),
    Row(
        "the success event and the logging hook race: one close, shared",
        (start(), tok(2), together(ok(), ok(call_id=CALL))),
        (0, 0, 10),
        fake_bill(10.0, 1),
        ignored={Event.ATTEMPT_SUCCEEDED: 1},
    ),
    retried(
        "the deployment failure hook twice for one attempt: counted once",
        (start(), fail(), fail(), fail(CALL), start(), tok(1), ok(1, 0)),
        (1, 0, 10),
        fake_bill(9.0, 1, failed=1, failed_joules=8.0),
        ignored={Event.ATTEMPT_FAILED: 2},
    ),
    continued(
        "a failure hook after a cut ends nothing, so the sweep leaves the continuation alone",
        (start(), tok(4), counts(4, 0), CUT, issue(), fail(CALL), advance(301), SWEEP, cstart(), tok(2), cend(True, 2)),
        (4, 2, 10),
        fake_bill(22.0, 2),
        ignored={Event.ATTEMPT_FAILED: 1},
    ),
    Row(
        "a sweep while the cut attempt's entry is closing: it waits for that close",
        (start(), tok(2), together(CUT, swept(SweepReason.IDLE_TIMEOUT))),
        (0, 0, 10),
        fake_bill(10.0, 1),
        phases=(A, T, W, D),
        status=RequestStatus.FAILURE,
        cut=True,
        closed_by=SweepReason.IDLE_TIMEOUT,
    ),
    retried(
        "a retry starts while the failed attempt's entry is still closing: reopened after the close",
        (start(), tok(2), together(fail(CALL), start("dep-b")), tok(1), ok(1, 0)),
        (1, 0, 10),
        fake_bill(9.0, 1, failed=1, failed_joules=10.0),
        deployment="dep-b",
    ),
    retried(
        "an attempt still open when the next starts (a stream broke before its first chunk)",
        (start("dep-a"), tok(2), start("dep-b"), tok(1), counts(1, 0), ok()),
        (1, 0, 10),
        fake_bill(9.0, 1, failed=1, failed_joules=10.0),
        deployment="dep-b",
    ),
    Row(
        "events after completion are ignored",
        (
            start(),
            tok(1),
            ok(1, 0),
            fail(),
            start(),
            tok(3),
            counts(9, 9),
            CUT,
            issue(),
            cstart(),
            cend(True),
            REQ_FAIL,
            LEFT,
            advance(10_000),
            SWEEP,
            swept(SweepReason.IDLE_TIMEOUT),
        ),
        (1, 0, 10),
        fake_bill(9.0, 1),
        ignored={
            Event.ATTEMPT_FAILED: 1,
            Event.ATTEMPT_STARTED: 1,
            Event.TOKENS: 1,
            Event.THINKING_COUNTS: 1,
            Event.CUT: 1,
            Event.CONTINUATION_ISSUED: 1,
            Event.CONTINUATION_STARTED: 1,
            Event.CONTINUATION_ENDED: 1,
            Event.REQUEST_FAILED: 1,
            Event.CLIENT_LEFT: 1,
            Event.SWEPT: 1,
        },
    ),
    Row(
        "a cache hit: success without any deployment attempt",
        (ok(),),
        (0, 0, 0),
        NOTHING,
        (A, D),
        attempts=(),
        deployment=None,
    ),
    Row(
        "a simulated deployment's energy says so",
        (start(simulated=True), tok(1), ok()),
        (0, 0, 10),
        fake_bill(9.0, 1, source="simulated(measured:dcgm)"),
    ),
    Row(
        "an unknown deployment: the attempt counts, nothing is metered",
        (start(None), tok(3), ok(3, 0)),
        (3, 0, 10),
        NOTHING,
        deployment=None,
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
async def test_event_sequence(row: Row) -> None:
    lc, meter, steps = await run(row.events, stream=row.stream)

    assert lc.phases == row.phases
    [outcome] = [s.outcome for s in steps if s.outcome is not None]  # exactly one, on one step
    assert outcome is lc.outcome
    assert outcome.status is row.status
    assert (outcome.thinking_tokens, outcome.answer_tokens, outcome.prompt_tokens) == row.counts
    assert outcome.bill == row.bill
    assert [(a.kind, a.end) for a in outcome.attempts] == list(row.attempts)
    assert (outcome.cut, outcome.continuation_call_id, outcome.closed_by) == (row.cut, row.continuation, row.closed_by)
    assert outcome.deployment_id == row.deployment
    assert dict(lc.ignored) == dict(row.ignored)
    assert lc.meter_errors == 0
    metered = check_metered_once(meter, outcome)
    assert [a.llm_call_id for a in metered] == [entry for entry, _, _ in meter.closed]

"""Escalation through one request's lifecycle, table-driven: the primary answered emptily (or cut),
one retry on a larger model under the escalation's own call id; one outcome, both attempts billed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest
from lifecycle_fakes import CALL, Ev, check_metered_once, ev, fail, fake_bill, ok, run, start

from thinkbudget_litellm.lifecycle import AttemptEnd, AttemptKind, Bill, Event, Phase
from thinkbudget_litellm.record.request_record import RequestStatus

ESC = "esc-1"
A, T, WE, E, D = Phase.ADMITTED, Phase.ATTEMPTING, Phase.AWAITING_ESCALATION, Phase.ESCALATING, Phase.COMPLETED
P, X = AttemptKind.PRIMARY, AttemptKind.ESCALATION
OK_, FAILED = AttemptEnd.SUCCEEDED, AttemptEnd.FAILED


def escalates(thinking: int, answer: int) -> Ev:
    return ok(thinking, answer, escalates=True)


def issue(call_id: str = ESC) -> Ev:
    return ev("escalation_issued", call_id)


def xstart(dep: str = "dep-large", prompt: int = 10, call_id: str = ESC) -> Ev:
    return ev("escalation_started", call_id, dep, prompt, priced=True)


def xend(succeeded: bool, thinking: int | None = None, answer: int | None = None) -> Ev:
    return ev("escalation_ended", succeeded, thinking, answer)


@dataclass(frozen=True)
class Row:
    name: str
    events: tuple[Ev, ...]
    counts: tuple[int, int]
    bill: Bill
    phases: tuple[Phase, ...] = (A, T, WE, E, D)
    attempts: tuple[tuple[AttemptKind, AttemptEnd], ...] = ((P, OK_), (X, OK_))
    status: RequestStatus = RequestStatus.SUCCESS
    deployment: str = "dep-large"
    escalation: str | None = ESC
    ignored: Mapping[Event, int] = field(default_factory=dict)


# the fake meter: an entry closed with n completion tokens is 8 + n joules
ROWS = [
    Row(
        "escalated: both attempts billed, the escalation's counts and deployment",
        (start(), escalates(4, 0), issue(), xstart(), ok(6, 9, call_id=ESC)),
        (6, 9),
        fake_bill((8 + 4) + (8 + 15), 2),
    ),
    Row(
        "escalated, ended by the shell's escalation_ended",
        (start(), escalates(4, 0), issue(), xstart(), xend(True, 5, 5)),
        (5, 5),
        fake_bill(12 + 18, 2),
    ),
    Row(
        "the escalation's call failed: the primary's answer, its attempt kept apart",
        (start(), escalates(4, 1), issue(), xstart(), fail(ESC), xend(False)),
        (4, 1),
        fake_bill(13, 1, failed=1, failed_joules=8 + 5),
        attempts=((P, OK_), (X, FAILED)),
        deployment="dep-a",
    ),
    Row(
        "the escalation could not be issued",
        (start(), escalates(4, 0), xend(False)),
        (4, 0),
        fake_bill(12, 1),
        phases=(A, T, WE, D),
        attempts=((P, OK_),),
        deployment="dep-a",
        escalation=None,
    ),
    Row(
        "late primary events and a foreign id are ignored",
        (start(), escalates(4, 0), ok(9, 9), issue(CALL), issue(), xstart(call_id="other"), xstart(), ok(call_id=ESC)),
        (4, 0),
        fake_bill(12 + 12, 2),
        ignored={Event.ATTEMPT_SUCCEEDED: 1, Event.ESCALATION_ISSUED: 1, Event.ESCALATION_STARTED: 1},
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
async def test_escalation(row: Row) -> None:
    lc, meter, steps = await run(row.events, stream=False)

    assert lc.phases == row.phases
    [outcome] = [s.outcome for s in steps if s.outcome is not None]
    assert outcome.status is row.status
    assert (outcome.thinking_tokens, outcome.answer_tokens) == row.counts
    assert outcome.bill == row.bill
    assert [(a.kind, a.end) for a in outcome.attempts] == list(row.attempts)
    assert outcome.deployment_id == row.deployment
    assert outcome.escalation_call_id == row.escalation
    assert dict(lc.ignored) == dict(row.ignored)
    check_metered_once(meter, outcome)
    assert outcome.bill_for(CALL).cost_usd == (8 + row.events[1].args[0] + row.events[1].args[1]) / 64

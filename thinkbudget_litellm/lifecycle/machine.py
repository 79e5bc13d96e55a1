"""One client request's lifecycle as an explicit state machine, free of LiteLLM.

Each LiteLLM hook becomes one event (a method here). The lifecycle alone opens and closes the meter
entries of the request's attempts, and it produces the request's one ``RequestOutcome``.

Semantics (what the handler's hooks implement with LiteLLM 1.106.2):
- Retries and fallbacks run under the client's call id; each is an attempt with its own meter entry
  (the entry id is the call id, reopened only after the previous attempt's entry is closed). An
  attempt ends in LiteLLM's deployment failure hook (``attempt_failed``), when its response is
  complete (``attempt_succeeded``), at a cut (``cut``), or with its request. An attempt still open
  when the next starts broke without a failure hook (a stream that failed before its first chunk
  and went to a fallback): it ends as failed first.
- The request ends on a success (``attempt_succeeded`` / ``continuation_ended(True)``), on the
  proxy's failure hook (``request_failed``), when the client leaves (``client_left``) or at a sweep
  (``swept``): it is then COMPLETED and every later event is ignored.
- A cut (or capped two-step) request is complete once its continuation is; the continuation's
  attempts run under the continuation's own call id.
- An escalation (``attempt_succeeded(escalates=True)``) ends the primary attempt, billed, and waits for
  the one retry on a larger model, whose attempts run under the escalation's own call id; its success
  completes the request with its counts, its failure with the primary's answer.
- Failed attempts are not billed (LiteLLM records no spend for them); their joules and cost are kept
  apart in the bill. A client that leaves gets ``cancelled`` with what was generated billed.
- Each entry is closed once whatever the order of events; concurrent closers share the result, and
  every ``async`` event returns only after the closes started so far have finished, so
  ``bill_for``/``bill_so_far`` read right after an awaited event are final for ended attempts.
- An event that cannot happen in the current phase is ignored: its ``Step`` says
  ``accepted=False`` and ``ignored`` counts it. Nothing raises into the shell (meter errors are
  counted in ``meter_errors`` and give an unmetered energy).

Deliver the terminal events (``request_failed``, ``client_left``, ``swept``, ``continuation_ended``)
from a task that is not being cancelled (the shell's background tasks): a cancelled caller does not
stop the completion, but it does not receive the ``Step`` that carries the outcome either (the
outcome is then only on ``outcome``).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from thinkbudget_litellm.lifecycle.bill import Bill
from thinkbudget_litellm.lifecycle.meter_port import MeterPort
from thinkbudget_litellm.lifecycle.model import (
    Admission,
    Attempt,
    AttemptEnd,
    AttemptKind,
    Event,
    Phase,
    Step,
    SweepReason,
)
from thinkbudget_litellm.lifecycle.outcome import RequestOutcome
from thinkbudget_litellm.meter.hub import RequestEnergy
from thinkbudget_litellm.record.request_record import RequestStatus
from thinkbudget_litellm.settings import Enforcement

_T = TypeVar("_T")

_PRIMARY_PHASES = frozenset({Phase.ADMITTED, Phase.ATTEMPTING, Phase.BETWEEN_ATTEMPTS})
_CONTINUATION_PHASES = frozenset({Phase.AWAITING_CONTINUATION, Phase.CONTINUING})
_ESCALATION_PHASES = frozenset({Phase.AWAITING_ESCALATION, Phase.ESCALATING})


class _Entry(Enum):
    """An attempt's meter entry."""

    NONE = "none"  # not metered: unknown deployment, or the attempt ended before its entry opened
    OPENING = "opening"  # waiting for the previous close of the same entry id
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


@dataclass(slots=True)
class _Slot:
    """An attempt while the lifecycle owns it (``Attempt`` is its frozen view)."""

    number: int
    kind: AttemptKind
    llm_call_id: str
    deployment_id: str | None
    prompt_tokens: int
    priced: bool
    simulated: bool
    started_at: float
    end: AttemptEnd | None = None
    ended_at: float | None = None
    energy: RequestEnergy | None = None
    generated: int = 0
    completion_tokens: int | None = None  # what its close reports (None: streamed, counted per token)
    entry: _Entry = _Entry.NONE
    closing: asyncio.Task[None] | None = None

    def view(self) -> Attempt:
        return Attempt(
            number=self.number,
            kind=self.kind,
            llm_call_id=self.llm_call_id,
            deployment_id=self.deployment_id,
            prompt_tokens=self.prompt_tokens,
            priced=self.priced,
            simulated=self.simulated,
            started_at=self.started_at,
            ended_at=self.ended_at,
            end=self.end,
            energy=self.energy,
            generated_tokens=self.generated,
        )


@dataclass(frozen=True, slots=True)
class _Final:
    event: Event
    status: RequestStatus
    closed_by: SweepReason | None
    at: float


class RequestLifecycle:
    """One per client request; ``clock`` is monotonic seconds (the sweep's ``now`` uses the same)."""

    def __init__(self, admission: Admission, meter: MeterPort, clock: Callable[[], float]) -> None:
        self.admission = admission
        self._meter = meter
        self._clock = clock
        self.admitted_at = clock()
        self.last_activity = self.admitted_at
        self._failed_at: float | None = None  # the last attempt failure, until an attempt starts
        self._phase = Phase.ADMITTED
        self._history = [Phase.ADMITTED]
        self._slots: list[_Slot] = []
        self._enforcement = admission.enforcement
        self._thinking = 0
        self._answer = 0
        self._answer_at_continuation = 0
        self._cut = False
        self._continuation_call_id: str | None = None
        self._escalation_call_id: str | None = None
        self._before_escalation: tuple[int, int] = (0, 0)  # the primary's (thinking, answer)
        self._final: _Final | None = None
        self._completion: asyncio.Task[RequestOutcome] | None = None
        self._outcome: RequestOutcome | None = None
        self.ignored: Counter[Event] = Counter()  # events ignored as impossible in their phase
        self.meter_errors = 0  # meter port calls that raised
        self.last_meter_error: str | None = None

    # ------------------------------------------------------------------ views
    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def phases(self) -> tuple[Phase, ...]:
        """Every phase the request has been in, in order."""
        return tuple(self._history)

    @property
    def attempts(self) -> tuple[Attempt, ...]:
        return tuple(s.view() for s in self._slots)

    @property
    def current_attempt(self) -> Attempt | None:
        slot = self._open_slot()
        return slot.view() if slot is not None else None

    @property
    def enforcement(self) -> Enforcement:
        return self._enforcement

    @property
    def thinking_tokens(self) -> int:
        return self._thinking

    @property
    def answer_tokens(self) -> int:
        return self._answer

    @property
    def cut_at_budget(self) -> bool:
        return self._cut

    @property
    def continuation_call_id(self) -> str | None:
        return self._continuation_call_id

    @property
    def escalation_call_id(self) -> str | None:
        return self._escalation_call_id

    @property
    def outcome(self) -> RequestOutcome | None:
        """The outcome once the request completed (a view: the record is written from the ``Step``
        that carried it)."""
        return self._outcome

    def bill_so_far(self) -> Bill:
        """The bill of the attempts ended so far (the outcome's bill once completed)."""
        return Bill.of(self.attempts)

    def bill_for(self, call_id: str) -> Bill:
        """The part billed under one LiteLLM call id so far: that call's ``response_cost`` and
        spend-log figures (await the event that ended its attempt, or ``settled``, first)."""
        return Bill.of(a for a in self.attempts if a.llm_call_id == call_id)

    def stale(self, now: float, ttl_s: float, failure_grace_s: float) -> SweepReason | None:
        """Why the sweep should close it now: its last attempt failed over ``failure_grace_s`` ago
        with no retry, or nothing happened for ``ttl_s``; None when it is live (or completed)."""
        if self._phase is Phase.COMPLETED:
            return None
        failed_at = self._failed_at
        if failed_at is not None and self._open_slot() is None and now - failed_at > failure_grace_s:
            return SweepReason.FAILED_NO_RETRY
        if now - self.last_activity > ttl_s:
            return SweepReason.IDLE_TIMEOUT
        return None

    async def settled(self) -> None:
        """Returns once every meter close started so far, and the completion, have finished."""
        await self._closes_done()
        if self._completion is not None:
            await _join(self._completion)

    # ------------------------------------------------------------------ primary attempts
    async def attempt_started(
        self,
        deployment_id: str | None,
        prompt_tokens: int,
        *,
        priced: bool,
        simulated: bool = False,
        enforcement: Enforcement | None = None,
    ) -> Step:
        """A deployment call under the client's call id starts (the first, a retry or a fallback).
        ``priced``: its deployment has a GPU or energy price; ``simulated``: its meter is the
        simulated backend's; ``enforcement``: its deployment's enforcement."""
        if self._phase not in _PRIMARY_PHASES:
            return await self._ignored(Event.ATTEMPT_STARTED)
        if enforcement is not None:
            self._enforcement = enforcement
        return await self._start(
            Event.ATTEMPT_STARTED,
            AttemptKind.PRIMARY,
            self.admission.call_id,
            deployment_id,
            prompt_tokens,
            priced,
            simulated,
        )

    def tokens(self, n: int) -> bool:
        """``n`` tokens of the open attempt arrived (a stream chunk; 0 only marks activity)."""
        slot = self._open_slot()
        if slot is None or n < 0:
            self.ignored[Event.TOKENS] += 1
            return False
        self._touch()
        if n:
            slot.generated += n
            if slot.entry is _Entry.OPEN:
                try:
                    self._meter.tokens_generated(slot.llm_call_id, n)
                except Exception as exc:
                    self._meter_error(exc)
        return True

    def thinking_counts(self, thinking: int, answer: int) -> bool:
        """The request's thinking and answer tokens so far (cumulative, continuation included)."""
        if self._phase is Phase.COMPLETED or thinking < 0 or answer < 0:
            self.ignored[Event.THINKING_COUNTS] += 1
            return False
        self._thinking, self._answer = thinking, answer
        return True

    async def cut(self) -> Step:
        """The proxy cut the stream's thinking at the budget and closed the upstream: the attempt
        ends (billed: LiteLLM bills what it generated) and the request awaits its continuation."""
        slot = self._open_slot()
        if self._phase is not Phase.ATTEMPTING or slot is None:
            return await self._ignored(Event.CUT)
        self._cut = True
        self._touch()
        self._end(slot, AttemptEnd.SUCCEEDED)
        self._await_continuation()
        return await self._accepted(Event.CUT)

    async def attempt_succeeded(
        self,
        thinking: int | None = None,
        answer: int | None = None,
        *,
        call_id: str | None = None,
        continues: bool = False,
        cut: bool = False,
        escalates: bool = False,
    ) -> Step:
        """The open attempt's response is complete (the stream ended, the non-streamed response
        arrived, or LiteLLM logs its success: whichever comes first; later ones are ignored).
        ``thinking``/``answer``: the request's counts (None keeps them). Without an open attempt
        (a cache hit) it completes the request all the same. ``continues``: a two-step first call
        that needs a continuation (``cut``: its thinking was still open). With ``call_id`` the
        continuation's id, it is the continuation's success (``continuation_ended(True)``).
        ``escalates``: the primary's answer calls for the retry on a larger model (not with
        ``continues``); with ``call_id`` the escalation's id, it is the escalation's success and the
        counts are the escalated response's."""
        event = Event.ATTEMPT_SUCCEEDED
        if self._phase in _CONTINUATION_PHASES and call_id is not None and call_id == self._continuation_call_id:
            self._set_counts(thinking, answer)
            return await self._continuation_succeeded(event, 0)
        if self._phase is Phase.ESCALATING and call_id is not None and call_id == self._escalation_call_id:
            self._set_counts(thinking, answer)
            self._touch()
            return await self._complete(event, self._answered_status(), AttemptEnd.SUCCEEDED)
        if self._phase not in _PRIMARY_PHASES or call_id not in (None, self.admission.call_id):
            return await self._ignored(event)
        self._set_counts(thinking, answer)
        self._touch()
        slot = self._open_slot()
        if slot is not None:
            self._end(slot, AttemptEnd.SUCCEEDED)
        if escalates and not continues:
            self._before_escalation = (self._thinking, self._answer)
            self._move(Phase.AWAITING_ESCALATION)
            return await self._accepted(event)
        if not continues:
            return await self._complete(event, self._answered_status(), AttemptEnd.SUCCEEDED)
        self._cut = cut
        self._await_continuation()
        return await self._accepted(event)

    async def attempt_failed(self, call_id: str | None = None) -> Step:
        """The open attempt failed (LiteLLM's deployment failure hook). Pass the hook's call id so a
        late failure of the primary never ends the continuation's attempt. Once per attempt."""
        slot = self._open_slot()
        if slot is None or call_id not in (None, slot.llm_call_id):
            return await self._ignored(Event.ATTEMPT_FAILED)
        self._end(slot, AttemptEnd.FAILED)
        self._touch()
        if slot.kind is AttemptKind.PRIMARY:
            self._move(Phase.BETWEEN_ATTEMPTS)
        return await self._accepted(Event.ATTEMPT_FAILED)

    async def cache_hit(self) -> Step:
        """LiteLLM answered the request from its response cache (its deployment hook had already
        opened an attempt): nothing ran on the GPU. The attempt's meter entry is discarded, so it
        takes no share of any tick; it is billed 0 J and $0 and the request completes as
        ``cache_hit``. Idempotent: later events, this one included, are ignored."""
        event = Event.CACHE_HIT
        if self._phase not in _PRIMARY_PHASES:
            return await self._ignored(event)
        now = self._touch()
        slot = self._open_slot()
        if slot is None:  # no deployment call was started (a cache in front of the router)
            slot = _Slot(
                number=len(self._slots) + 1,
                kind=AttemptKind.PRIMARY,
                llm_call_id=self.admission.call_id,
                deployment_id=None,
                prompt_tokens=0,
                priced=False,
                simulated=False,
                started_at=now,
            )
            self._slots.append(slot)
        if slot.entry is _Entry.OPEN:
            try:
                self._meter.request_discarded(slot.llm_call_id)
            except Exception as exc:
                self._meter_error(exc)
        slot.entry = _Entry.CLOSED if slot.entry is _Entry.OPEN else _Entry.NONE
        slot.energy = RequestEnergy.cache_hit(slot.llm_call_id, slot.deployment_id)
        slot.end, slot.ended_at = AttemptEnd.CACHE_HIT, now
        self._thinking = self._answer = 0  # generated by nobody: the cache served them
        return await self._complete(event, RequestStatus.CACHE_HIT, AttemptEnd.CACHE_HIT)

    # ------------------------------------------------------------------ continuation
    def continuation_issued(self, call_id: str) -> Step:
        """The continuation call was issued under ``call_id`` (before any deployment is chosen)."""
        if self._phase is not Phase.AWAITING_CONTINUATION or not call_id or call_id == self.admission.call_id:
            self.ignored[Event.CONTINUATION_ISSUED] += 1
            return Step(Event.CONTINUATION_ISSUED, False, self._phase)
        self._issue(call_id)
        return Step(Event.CONTINUATION_ISSUED, True, self._phase)

    async def continuation_started(
        self, call_id: str, deployment_id: str | None, prompt_tokens: int, *, priced: bool, simulated: bool = False
    ) -> Step:
        """A deployment call of the continuation starts (its first, a retry or a fallback); it issues
        the continuation when ``continuation_issued`` did not."""
        event = Event.CONTINUATION_STARTED
        if self._phase is Phase.AWAITING_CONTINUATION and call_id and call_id != self.admission.call_id:
            self._issue(call_id)
        if self._phase is not Phase.CONTINUING or call_id != self._continuation_call_id:
            return await self._ignored(event)
        return await self._start(
            event, AttemptKind.CONTINUATION, call_id, deployment_id, prompt_tokens, priced, simulated
        )

    async def continuation_ended(self, succeeded: bool, answer_tokens: int = 0) -> Step:
        """The continuation finished (``answer_tokens``: its own answer tokens; the request's answer
        becomes at least its answer at the cut plus these) or could not run or finish
        (``succeeded`` False: the request fails; an attempt still open is billed, since what it
        streamed was billed to LiteLLM)."""
        event = Event.CONTINUATION_ENDED
        if self._phase not in _CONTINUATION_PHASES:
            return await self._ignored(event)
        if succeeded:
            return await self._continuation_succeeded(event, answer_tokens)
        return await self._complete(event, RequestStatus.FAILURE, AttemptEnd.CANCELLED)

    # ------------------------------------------------------------------ escalation
    def escalation_issued(self, call_id: str) -> Step:
        """The escalation call was issued under ``call_id`` (an id we made, before any deployment)."""
        if self._phase is not Phase.AWAITING_ESCALATION or not call_id or call_id == self.admission.call_id:
            self.ignored[Event.ESCALATION_ISSUED] += 1
            return Step(Event.ESCALATION_ISSUED, False, self._phase)
        self._escalation_call_id = call_id
        self._touch()
        self._move(Phase.ESCALATING)
        return Step(Event.ESCALATION_ISSUED, True, self._phase)

    async def escalation_started(
        self,
        call_id: str,
        deployment_id: str | None,
        prompt_tokens: int,
        *,
        priced: bool,
        simulated: bool = False,
        enforcement: Enforcement | None = None,
    ) -> Step:
        """A deployment call of the escalation starts (its first, a retry or a fallback)."""
        event = Event.ESCALATION_STARTED
        if self._phase is not Phase.ESCALATING or call_id != self._escalation_call_id:
            return await self._ignored(event)
        if enforcement is not None:
            self._enforcement = enforcement
        return await self._start(
            event, AttemptKind.ESCALATION, call_id, deployment_id, prompt_tokens, priced, simulated
        )

    async def escalation_ended(self, succeeded: bool, thinking: int | None = None, answer: int | None = None) -> Step:
        """The escalation finished (its counts replace the primary's) or could not run or finish
        (``succeeded`` False: the request completes with the primary's answer; an attempt still open
        failed, not billed)."""
        event = Event.ESCALATION_ENDED
        if self._phase not in _ESCALATION_PHASES:
            return await self._ignored(event)
        self._touch()
        if succeeded:
            self._set_counts(thinking, answer)
            return await self._complete(event, self._answered_status(), AttemptEnd.SUCCEEDED)
        self._thinking, self._answer = self._before_escalation
        return await self._complete(event, self._answered_status(), AttemptEnd.FAILED)

    # ------------------------------------------------------------------ request ends
    async def request_failed(self) -> Step:
        """The proxy answered the client with an error (its failure hook): final. An attempt still
        open failed with it (not billed)."""
        if self._phase is Phase.COMPLETED:
            return await self._ignored(Event.REQUEST_FAILED)
        return await self._complete(Event.REQUEST_FAILED, RequestStatus.FAILURE, AttemptEnd.FAILED)

    async def client_left(self) -> Step:
        """The client disconnected: ``cancelled``, with what the open attempt generated billed."""
        if self._phase is Phase.COMPLETED:
            return await self._ignored(Event.CLIENT_LEFT)
        return await self._complete(Event.CLIENT_LEFT, RequestStatus.CANCELLED, AttemptEnd.CANCELLED)

    async def swept(self, reason: SweepReason) -> Step:
        """The sweep closes it (see ``stale``): a failure; an attempt still open failed with it."""
        if self._phase is Phase.COMPLETED:
            return await self._ignored(Event.SWEPT)
        return await self._complete(Event.SWEPT, RequestStatus.FAILURE, AttemptEnd.FAILED, reason)

    # ------------------------------------------------------------------ internals
    def _open_slot(self) -> _Slot | None:
        slot = self._slots[-1] if self._slots else None
        return slot if slot is not None and slot.end is None else None

    def _touch(self) -> float:
        self.last_activity = self._clock()
        return self.last_activity

    def _move(self, phase: Phase) -> None:
        if phase is not self._phase:
            self._phase = phase
            self._history.append(phase)

    def _set_counts(self, thinking: int | None, answer: int | None) -> None:
        if thinking is not None and thinking >= 0:
            self._thinking = thinking
        if answer is not None and answer >= 0:
            self._answer = answer

    def _answered_status(self) -> RequestStatus:
        return RequestStatus.CUT if self._cut else RequestStatus.SUCCESS

    def _await_continuation(self) -> None:
        self._answer_at_continuation = self._answer
        self._move(Phase.AWAITING_CONTINUATION)

    def _issue(self, call_id: str) -> None:
        self._continuation_call_id = call_id
        self._touch()
        self._move(Phase.CONTINUING)

    def _meter_error(self, exc: Exception) -> None:
        self.meter_errors += 1
        self.last_meter_error = repr(exc)

    async def _start(
        self,
        event: Event,
        kind: AttemptKind,
        call_id: str,
        deployment_id: str | None,
        prompt_tokens: int,
        priced: bool,
        simulated: bool,
    ) -> Step:
        previous = self._open_slot()
        if previous is not None:  # it broke without a failure hook
            self._end(previous, AttemptEnd.FAILED)
            if kind is AttemptKind.PRIMARY:
                self._move(Phase.BETWEEN_ATTEMPTS)
        slot = _Slot(
            number=len(self._slots) + 1,
            kind=kind,
            llm_call_id=call_id,
            deployment_id=deployment_id,
            prompt_tokens=max(prompt_tokens, 0),
            priced=priced,
            simulated=simulated,
            started_at=self._touch(),
            entry=_Entry.OPENING if deployment_id is not None else _Entry.NONE,
        )
        self._slots.append(slot)
        self._failed_at = None
        if kind is AttemptKind.PRIMARY:
            self._move(Phase.ATTEMPTING)
        await self._open(slot)
        return await self._accepted(event)

    async def _open(self, slot: _Slot) -> None:
        """Open ``slot``'s entry once every earlier close of the same entry id has returned."""
        for other in self._slots:
            if other is not slot and other.llm_call_id == slot.llm_call_id and other.closing is not None:
                await _join(other.closing)
        if slot.entry is not _Entry.OPENING or slot.deployment_id is None:
            return  # not metered, or it ended while it waited
        try:
            self._meter.request_started(
                slot.llm_call_id, slot.deployment_id, slot.prompt_tokens, streaming=self.admission.stream
            )
        except Exception as exc:
            self._meter_error(exc)
            slot.entry = _Entry.NONE
            return
        slot.entry = _Entry.OPEN

    def _end(self, slot: _Slot, end: AttemptEnd) -> None:
        """End ``slot`` now (the first event to end an attempt decides how) and start its close."""
        now = self._clock()
        slot.end, slot.ended_at = end, now
        if end is AttemptEnd.FAILED:
            self._failed_at = now
        if slot.entry is _Entry.OPENING:
            slot.entry = _Entry.NONE
        elif slot.entry is _Entry.OPEN:
            slot.completion_tokens = self._completion_tokens(slot)
            slot.entry = _Entry.CLOSING
            slot.closing = asyncio.ensure_future(self._close(slot))

    def _completion_tokens(self, slot: _Slot) -> int | None:
        if self.admission.stream:
            return None  # counted with tokens()
        if slot.kind is not AttemptKind.CONTINUATION:
            return self._thinking + self._answer
        return max(self._answer - self._answer_at_continuation, 0)

    async def _close(self, slot: _Slot) -> None:
        energy = RequestEnergy.unmetered(slot.llm_call_id, slot.deployment_id, "close cancelled")
        try:
            energy = await self._meter.request_finished(slot.llm_call_id, slot.completion_tokens)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._meter_error(exc)
            energy = RequestEnergy.unmetered(slot.llm_call_id, slot.deployment_id, "meter error")
        finally:
            slot.energy = _relabel(energy) if slot.simulated else energy
            slot.entry = _Entry.CLOSED

    async def _accepted(self, event: Event) -> Step:
        await self.settled()
        return Step(event, True, self._phase)

    async def _ignored(self, event: Event) -> Step:
        self.ignored[event] += 1
        await self.settled()
        return Step(event, False, self._phase)

    async def _continuation_succeeded(self, event: Event, own_answer: int) -> Step:
        self._answer = max(self._answer, self._answer_at_continuation + max(own_answer, 0))
        self._touch()
        return await self._complete(event, self._answered_status(), AttemptEnd.SUCCEEDED)

    async def _complete(
        self, event: Event, status: RequestStatus, open_end: AttemptEnd, closed_by: SweepReason | None = None
    ) -> Step:
        """The request ends now: the open attempt ends as ``open_end``, then (once every close has
        returned) the outcome is built, in a task the caller's cancellation does not stop."""
        slot = self._open_slot()
        if slot is not None:
            self._end(slot, open_end)
        self._final = _Final(event, status, closed_by, self._clock())
        self._move(Phase.COMPLETED)
        completion = asyncio.ensure_future(self._seal())
        self._completion = completion
        outcome = await _join(completion)
        return Step(event, True, Phase.COMPLETED, outcome)

    async def _seal(self) -> RequestOutcome:
        await self._closes_done()
        outcome = self._build_outcome()
        self._outcome = outcome
        return outcome

    async def _closes_done(self) -> None:
        """Returns once every meter close started so far has finished."""
        while True:
            pending = [s.closing for s in self._slots if s.closing is not None and not s.closing.done()]
            if not pending:
                return
            for task in pending:
                await _join(task)

    def _build_outcome(self) -> RequestOutcome:
        final = self._final
        if final is None:  # pragma: no cover - _seal runs only after _complete set it
            raise RuntimeError("the request has not completed")
        attempts = self.attempts
        primary = [a for a in attempts if a.kind is AttemptKind.PRIMARY]
        escalated = [a for a in attempts if a.kind is AttemptKind.ESCALATION and a.end is AttemptEnd.SUCCEEDED]
        last = escalated[-1] if escalated else primary[-1] if primary else None
        return RequestOutcome(
            admission=self.admission,
            status=final.status,
            enforcement=self._enforcement,
            deployment_id=last.deployment_id if last is not None else None,
            thinking_tokens=self._thinking,
            answer_tokens=self._answer,
            prompt_tokens=last.prompt_tokens if last is not None else 0,
            cut=self._cut,
            continuation_call_id=self._continuation_call_id,
            attempts=attempts,
            bill=Bill.of(attempts),
            latency_ms=(final.at - self.admitted_at) * 1000.0,
            completed_by=final.event,
            closed_by=final.closed_by,
            escalation_call_id=self._escalation_call_id,
        )


def _relabel(energy: RequestEnergy) -> RequestEnergy:
    """A simulated deployment's figures say so (as ``Runtime.meter_finished`` labels them)."""
    if energy.joules is None:
        return energy
    return energy.as_simulated()


async def _join(task: asyncio.Future[_T]) -> _T | None:
    """Await ``task`` without cancelling it when the caller is cancelled (the caller's cancellation
    still propagates); None when ``task`` itself was cancelled."""
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if task.cancelled():
            return None
        raise

"""The request lifecycle's vocabulary: phases, events, attempts and the admission facts.

Plain values only (no LiteLLM, no I/O); ``machine.RequestLifecycle`` moves between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from thinkbudget_litellm.meter.hub import RequestEnergy
from thinkbudget_litellm.policy.budget import BudgetDecision
from thinkbudget_litellm.settings import Enforcement
from thinkbudget_litellm.tiers import Task

if TYPE_CHECKING:
    from thinkbudget_litellm.lifecycle.outcome import RequestOutcome


class Phase(StrEnum):
    """Where one client request stands."""

    ADMITTED = "admitted"  # classified and budgeted; no deployment call yet
    ATTEMPTING = "attempting"  # a primary deployment call (first, retry or fallback) is open
    BETWEEN_ATTEMPTS = "between_attempts"  # the last primary attempt failed; a retry may come
    AWAITING_CONTINUATION = "awaiting_continuation"  # the primary ended for a continuation (cut or capped)
    CONTINUING = "continuing"  # the continuation call was issued (its attempts open, failed or done)
    AWAITING_ESCALATION = "awaiting_escalation"  # the primary answered emptily or cut: a retry on a larger model
    ESCALATING = "escalating"  # the escalation call was issued (its attempts open, failed or done)
    COMPLETED = "completed"  # the outcome is final; every later event is ignored


class AttemptKind(StrEnum):
    PRIMARY = "primary"  # a deployment call under the client's call id
    CONTINUATION = "continuation"  # a deployment call under the continuation's own call id
    ESCALATION = "escalation"  # a deployment call of the one retry on a larger model, under its own call id


class AttemptEnd(StrEnum):
    SUCCEEDED = "succeeded"  # its response is complete (or it was cut at the budget): billed
    FAILED = "failed"  # it errored or was abandoned with its request: not billed, its energy kept apart
    CANCELLED = "cancelled"  # stopped before it completed (client left, stream given up): billed
    CACHE_HIT = "cache_hit"  # LiteLLM answered from its response cache: nothing ran, billed at 0 J and $0


class SweepReason(StrEnum):
    """Why the sweep closed a request that would get no further event (the record's ``closed_by``)."""

    FAILED_NO_RETRY = "failed, no retry"
    IDLE_TIMEOUT = "idle timeout"


class Event(StrEnum):
    """One transition method of ``RequestLifecycle`` each."""

    ATTEMPT_STARTED = "attempt_started"
    TOKENS = "tokens"
    THINKING_COUNTS = "thinking_counts"
    CUT = "cut"
    ATTEMPT_SUCCEEDED = "attempt_succeeded"
    ATTEMPT_FAILED = "attempt_failed"
    CONTINUATION_ISSUED = "continuation_issued"
    CONTINUATION_STARTED = "continuation_started"
    CONTINUATION_ENDED = "continuation_ended"
    ESCALATION_ISSUED = "escalation_issued"
    ESCALATION_STARTED = "escalation_started"
    ESCALATION_ENDED = "escalation_ended"
    REQUEST_FAILED = "request_failed"
    CLIENT_LEFT = "client_left"
    SWEPT = "swept"
    CACHE_HIT = "cache_hit"


BILLED_ENDS = frozenset({AttemptEnd.SUCCEEDED, AttemptEnd.CANCELLED, AttemptEnd.CACHE_HIT})


@dataclass(frozen=True, slots=True)
class Admission:
    """What the pre-call hook decided about a client request."""

    call_id: str
    decision: BudgetDecision
    task: Task
    score: float
    model_group: str | None
    stream: bool
    enforcement: Enforcement = Enforcement.OFF  # until a deployment's own setting is known


@dataclass(frozen=True, slots=True)
class Attempt:
    """One deployment call of a request, as it stands (``end`` None: still open)."""

    number: int  # 1, 2, ... over the whole request (primary and continuation attempts)
    kind: AttemptKind
    llm_call_id: str  # the LiteLLM call id it runs under, also its meter entry id
    deployment_id: str | None  # None: the deployment is unknown, so it is not metered
    prompt_tokens: int
    priced: bool  # its deployment has a GPU or energy price
    simulated: bool  # its deployment's meter is the simulated backend's
    started_at: float
    ended_at: float | None
    end: AttemptEnd | None
    energy: RequestEnergy | None  # None until its meter entry is closed, or when it was not metered
    generated_tokens: int  # tokens reported with ``tokens`` while it was open

    @property
    def billed(self) -> bool:
        return self.end in BILLED_ENDS

    @property
    def cost_usd(self) -> float | None:
        """Its GPU cost, or None when its deployment has no price or it was not metered (never a
        silent zero); $0 for a cache hit, whatever its deployment's price."""
        if self.end is AttemptEnd.CACHE_HIT:
            return 0.0
        energy = self.energy
        if not self.priced or energy is None or energy.gpu_seconds is None:
            return None
        return energy.total_cost_usd


@dataclass(frozen=True, slots=True)
class Step:
    """What one event did. ``accepted`` False: it could not happen in ``phase`` and was ignored
    (counted in ``RequestLifecycle.ignored``). ``outcome`` is set on the one event that completed
    the request, and only there: the shell writes the record from it."""

    event: Event
    accepted: bool
    phase: Phase  # after the event
    outcome: RequestOutcome | None = None

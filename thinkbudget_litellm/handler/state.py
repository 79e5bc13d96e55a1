"""Per-request state shared between LiteLLM's hooks, keyed by ``litellm_call_id``."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from thinkbudget_litellm.handler.request_view import Caller
from thinkbudget_litellm.policy.budget import BudgetDecision
from thinkbudget_litellm.settings import DeploymentSettings, Enforcement, Engine
from thinkbudget_litellm.tiers import Task


@dataclass(slots=True)
class RequestState:
    call_id: str
    caller: Caller
    decision: BudgetDecision
    task: Task
    score: float
    model_group: str | None
    stream: bool
    started_monotonic: float
    enforcement: Enforcement = Enforcement.OFF
    engine: Engine = Engine.OTHER
    deployment_id: str | None = None
    deployment_model: str | None = None
    deployment: DeploymentSettings | None = None
    prompt_tokens: int = 0
    thinking_tokens: int = 0
    answer_tokens: int = 0
    cut: bool = False
    continuation_call_id: str | None = None
    energy: Any = None  # meter.RequestEnergy once known
    finished: bool = False
    settled: bool = False  # thinking tokens counted into the session ledger
    awaiting_continuation: bool = False
    parent: RequestState | None = None  # set on a continuation call's state
    continuation: RequestState | None = None  # set on a cut request's state
    status: str = "success"
    attempts: int = 0  # deployment calls started (retries and fallbacks included)
    attempt_open: bool = False  # a deployment call is metered and has not finished yet
    closing: Any = None  # asyncio.Future of the meter entry being closed (shared by concurrent closers)
    failed_attempts: int = 0
    last_failed_attempt: int = 0  # attempt number last marked failed (a failure is counted once)
    failed_at: float | None = None  # monotonic time of the last failed attempt
    attempt_energies: list[Any] = field(default_factory=list)  # meter.RequestEnergy of failed attempts
    last_activity: float = 0.0  # monotonic; hooks and stream chunks move it on
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.last_activity:
            self.last_activity = self.started_monotonic


class StateStore:
    """In-process map of live requests, keyed by ``litellm_call_id``.

    A finished request moves to a small bounded "recent" map, so hooks LiteLLM runs after its
    logging event (response headers, the non-streaming success hook) still find it. Live entries
    that saw no activity for ``ttl_s``, or whose last attempt failed ``failure_grace_s`` ago with no
    retry and no final event, are handed out by ``stale`` so the runtime can close them with a
    record (nothing is dropped silently).
    """

    def __init__(
        self,
        ttl_s: float = 7200.0,  # longer than LiteLLM's default request timeout (6000 s)
        failure_grace_s: float = 300.0,
        recent_max: int = 4096,
        sweep_interval_s: float = 5.0,
    ) -> None:
        self._live: dict[str, RequestState] = {}
        self._recent: OrderedDict[str, RequestState] = OrderedDict()
        self._ttl_s = ttl_s
        self._failure_grace_s = failure_grace_s
        self._recent_max = recent_max
        self._sweep_interval_s = sweep_interval_s
        self._next_sweep = 0.0

    def put(self, state: RequestState) -> bool:
        """Track ``state``; False (and nothing changes) when a live request already has its id."""
        if state.call_id in self._live:
            return False
        self._recent.pop(state.call_id, None)
        self._live[state.call_id] = state
        return True

    def get(self, call_id: str | None) -> RequestState | None:
        """A live request, else a recently finished one."""
        if not call_id:
            return None
        state = self._live.get(call_id)
        return state if state is not None else self._recent.get(call_id)

    def live(self, call_id: str | None) -> RequestState | None:
        return self._live.get(call_id) if call_id else None

    def pop(self, call_id: str | None) -> RequestState | None:
        """Stop tracking a finished request (it stays findable among the recent ones)."""
        state = self._live.pop(call_id, None) if call_id else None
        if state is not None:
            self._recent[state.call_id] = state
            while len(self._recent) > self._recent_max:
                self._recent.popitem(last=False)
        return state

    def sweep_due(self, now: float) -> bool:
        if now < self._next_sweep:
            return False
        self._next_sweep = now + self._sweep_interval_s
        return True

    def stale(self, now: float) -> list[RequestState]:
        """Live requests that will get no further event: idle past the TTL, or failed and not retried."""
        return [s for s in self._live.values() if self._is_stale(s, now)]

    def _is_stale(self, state: RequestState, now: float) -> bool:
        if now - state.last_activity > self._ttl_s:
            return True
        failed_at = state.failed_at
        return failed_at is not None and not state.attempt_open and now - failed_at > self._failure_grace_s

    def __len__(self) -> int:
        return len(self._live)

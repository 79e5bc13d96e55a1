"""Per-request state shared between LiteLLM's hooks, keyed by ``litellm_call_id``."""

from __future__ import annotations

import time
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
    status: str = "success"
    extra: dict[str, Any] = field(default_factory=dict)


class StateStore:
    """In-process map of live requests. Entries are dropped when logged, or after ``ttl_s``."""

    def __init__(self, ttl_s: float = 3600.0, max_entries: int = 100_000) -> None:
        self._items: dict[str, RequestState] = {}
        self._ttl_s = ttl_s
        self._max = max_entries

    def put(self, state: RequestState) -> None:
        if len(self._items) >= self._max:
            self.sweep(time.monotonic())
        self._items[state.call_id] = state

    def get(self, call_id: str | None) -> RequestState | None:
        return self._items.get(call_id) if call_id else None

    def pop(self, call_id: str | None) -> RequestState | None:
        return self._items.pop(call_id, None) if call_id else None

    def sweep(self, now: float) -> int:
        stale = [k for k, v in self._items.items() if now - v.started_monotonic > self._ttl_s]
        for k in stale:
            del self._items[k]
        if len(self._items) >= self._max:  # still full: drop the oldest half
            for k in sorted(self._items, key=lambda k: self._items[k].started_monotonic)[: self._max // 2]:
                del self._items[k]
        return len(stale)

    def __len__(self) -> int:
        return len(self._items)

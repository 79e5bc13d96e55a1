"""One client request's spend/energy record: the value the handler hands to the writer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class RequestStatus(StrEnum):
    """How a client request ended: exactly the values the ``status`` column holds."""

    SUCCESS = "success"  # answered within its budget (or unenforced)
    CUT = "cut"  # answered after the proxy cut the thinking at the budget
    FAILURE = "failure"  # the client got an error (or the request was swept after failing)
    CANCELLED = "cancelled"  # the client left before the answer was complete


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One row of ``thinkbudget.request_records``; ``litellm_call_id`` is unique."""

    litellm_call_id: str
    created_at: datetime  # timezone-aware UTC, when the request finished
    api_key_hash: str | None = None
    key_alias: str | None = None
    team_id: str | None = None
    user_id: str | None = None
    end_user: str | None = None
    session_id: str | None = None
    model_group: str | None = None
    deployment: str | None = None  # litellm model id of the deployment
    tier: str | None = None
    task: str | None = None
    budget: int | None = None
    budget_scope: str | None = None  # tier|team|key|user|end_user|session|request
    enforcement: str | None = None  # native|stream|off
    status: RequestStatus = RequestStatus.SUCCESS
    thinking_tokens: int = 0
    answer_tokens: int = 0
    prompt_tokens: int = 0
    cut: bool = False
    continuation_call_id: str | None = None
    energy_j: float | None = None
    energy_source: str | None = None  # measured:nvml|measured:dcgm|estimated|simulated|none
    gpu_seconds: float | None = None
    cost_usd: float | None = None
    baseline_thinking_tokens: int | None = None  # estimated unbudgeted thinking
    latency_ms: float | None = None
    prompt_text: str | None = None  # only when the operator opted in
    extra: dict[str, Any] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        return asdict(self)

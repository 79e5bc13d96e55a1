"""A request's state as the pre-call hook would build it, for the handler's unit tests."""

from __future__ import annotations

import time
from typing import Any

from thinkbudget_litellm.handler.request_view import Caller
from thinkbudget_litellm.handler.state import RequestState
from thinkbudget_litellm.policy.budget import BudgetDecision
from thinkbudget_litellm.tiers import Task, Tier

CALLER = Caller("hash", "alias", "team", "user", None, None, {}, {})


def make_state(
    call_id: str = "c1",
    *,
    budget: int = 128,
    tier: Tier = Tier.SIMPLE,
    started: float | None = None,
    stream: bool = True,
    **fields: Any,
) -> RequestState:
    return RequestState(
        call_id=call_id,
        caller=CALLER,
        decision=BudgetDecision(tier, budget, "tier", None),
        task=Task.FACT,
        score=1.0,
        model_group="r1",
        stream=stream,
        started_monotonic=time.monotonic() if started is None else started,
        **fields,
    )

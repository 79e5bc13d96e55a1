"""The caller and request contexts the handler's unit tests start from."""

from __future__ import annotations

import time

from thinkbudget_litellm.handler.litellm_io import Caller
from thinkbudget_litellm.handler.state import RequestContext
from thinkbudget_litellm.lifecycle import Admission, MeterPort, RequestLifecycle
from thinkbudget_litellm.policy.budget import BudgetDecision, BudgetScope
from thinkbudget_litellm.settings import Enforcement
from thinkbudget_litellm.tiers import Task, Tier

CALLER = Caller("hash", "alias", "team", "user", None, None, {}, {})


def make_context(
    meter: MeterPort,
    call_id: str = "c1",
    *,
    budget: int = 128,
    tier: Tier = Tier.SIMPLE,
    stream: bool = True,
    enforcement: Enforcement = Enforcement.STREAM,
) -> RequestContext:
    admission = Admission(
        call_id=call_id,
        decision=BudgetDecision(tier, budget, BudgetScope.TIER, None),
        task=Task.FACT,
        score=1.0,
        model_group="r1",
        stream=stream,
        enforcement=enforcement,
    )
    return RequestContext(caller=CALLER, lifecycle=RequestLifecycle(admission, meter, time.monotonic))

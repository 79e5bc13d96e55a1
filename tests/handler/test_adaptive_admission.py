"""Admission with adaptive budgets, without a proxy: the cell's calibrated budget and scope, a
key's budget over it, exploration in the decision, spend-log figures and the record."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from litellm.proxy._types import UserAPIKeyAuth
from request_states import CALLER

from tests.lifecycle.lifecycle_fakes import FakeClock, FakeMeter, admission
from thinkbudget_litellm.calibrate.budgets import BudgetTable
from thinkbudget_litellm.calibrate.explore import explores
from thinkbudget_litellm.calibrate.proposal import CellKey
from thinkbudget_litellm.handler.handler import ThinkBudgetHandler
from thinkbudget_litellm.handler.records import build_record
from thinkbudget_litellm.handler.runtime import Runtime
from thinkbudget_litellm.lifecycle import RequestLifecycle
from thinkbudget_litellm.policy.budget import BudgetDecision, BudgetScope
from thinkbudget_litellm.settings import AdaptiveSettings, Enforcement, ThinkBudgetSettings
from thinkbudget_litellm.tiers import Task, Tier

PROMPT = "Prove that there are infinitely many primes of the form 4k+3."  # deep / math


class _NoRouterRuntime(Runtime):
    async def ensure_started(self, cache):  # no meter, no writer, no refresher in unit tests
        self.sessions.bind(cache, 60)


def _handler(share: float = 0.0) -> ThinkBudgetHandler:
    adaptive = AdaptiveSettings(enabled=True, explore_share=share, explore_seed="seed", bounds={"min": 1, "max": 5000})
    h = ThinkBudgetHandler(_NoRouterRuntime(ThinkBudgetSettings(adaptive=adaptive)))
    now = datetime.now(UTC)
    h.rt.adaptive.table = BudgetTable({CellKey("r1", Tier.DEEP, Task.MATH): 3000}, now, now)
    return h


async def _admit(h: ThinkBudgetHandler, call_id: str, **auth) -> BudgetDecision:
    data = {"model": "r1", "messages": [{"role": "user", "content": PROMPT}], "litellm_call_id": call_id}
    data["metadata"] = {}
    await h.async_pre_call_hook(UserAPIKeyAuth(api_key="sk-x", **auth), None, data, "acompletion")
    ctx = h.rt.states.get(call_id)
    assert ctx is not None
    assert data["metadata"]["spend_logs_metadata"]["thinkbudget_budget_scope"] == ctx.decision.scope.value
    return ctx.decision


async def test_the_cell_s_calibrated_budget_applies_with_scope_adaptive():
    d = await _admit(_handler(), "c-1")
    assert (d.budget, d.scope, d.exploration) == (3000, BudgetScope.ADAPTIVE, False)


async def test_a_key_budget_still_wins_over_the_adaptive_one():
    d = await _admit(_handler(), "c-2", metadata={"thinkbudget": {"budgets": {"deep": 700}}})
    assert (d.budget, d.scope) == (700, BudgetScope.KEY)


async def test_exploration_follows_the_seeded_hash_and_is_marked():
    h = _handler(share=0.5)
    seen = set()
    for i in range(8):
        call_id = f"x-{i}"
        d = await _admit(h, call_id)
        if explores("seed", call_id, 0.5):
            assert (d.budget, d.explore_base, d.scope) == (5000, 3000, BudgetScope.ADAPTIVE)
        else:
            assert (d.budget, d.explore_base) == (3000, None)
        seen.add(d.exploration)
    assert seen == {True, False}


async def test_the_record_carries_exploration_and_grace_tokens():
    a = admission()
    a = replace(a, decision=BudgetDecision(Tier.SIMPLE, 8, BudgetScope.ADAPTIVE, None, explore_base=4))
    lc = RequestLifecycle(a, FakeMeter(), FakeClock())
    await lc.attempt_started("dep", 10, priced=True, enforcement=Enforcement.STREAM)
    lc.thinking_counts(6, 2)
    step = await lc.attempt_succeeded()
    assert step.outcome is not None
    rec = build_record(step.outcome, CALLER, ThinkBudgetSettings(), grace_tokens=3)
    assert (rec.budget_scope, rec.exploration, rec.grace_tokens) == ("adaptive", True, 3)
    assert rec.extra["explore_base_budget"] == 4
    assert build_record(step.outcome, CALLER, ThinkBudgetSettings()).grace_tokens == 0

"""Views of a request's one outcome (or of its bill so far): spend-log metadata, response headers and
our record row. Nothing here sums anything: the bill is ``lifecycle.Bill``'s."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from thinkbudget_litellm.handler.cache_hits import CacheSaving
from thinkbudget_litellm.handler.litellm_io import Caller
from thinkbudget_litellm.handler.state import Adjustments
from thinkbudget_litellm.lifecycle import Bill, RequestOutcome
from thinkbudget_litellm.meter.carbon import grams_co2e
from thinkbudget_litellm.policy.budget import BudgetDecision
from thinkbudget_litellm.record.request_record import RequestRecord
from thinkbudget_litellm.settings import Enforcement, ThinkBudgetSettings
from thinkbudget_litellm.tiers import Task

if TYPE_CHECKING:
    from thinkbudget_litellm.routing.escalation import Escalation
    from thinkbudget_litellm.routing.service import RoutePlan


def admission_figures(decision: BudgetDecision, task: Task) -> dict[str, Any]:
    out: dict[str, Any] = {
        "thinkbudget_tier": decision.tier.value,
        "thinkbudget_task": task.value,
        "thinkbudget_budget": decision.budget,
        "thinkbudget_budget_scope": decision.scope.value,
    }
    if decision.client_control is not None:
        out["thinkbudget_client_control"] = decision.client_control.value
    if decision.exploration:
        out["thinkbudget_exploration"] = True
    return out


def spend_log_figures(
    decision: BudgetDecision,
    task: Task,
    enforcement: Enforcement,
    thinking_tokens: int,
    cut: bool,
    bill: Bill,
    continuation_of: str | None = None,
    co2e_g: float | None = None,
) -> dict[str, Any]:
    """Our figures in LiteLLM's ``spend_logs_metadata`` for one LiteLLM call (``bill``: that call's)."""
    out: dict[str, Any] = {
        **admission_figures(decision, task),
        "thinkbudget_enforcement": enforcement.value,
        "thinkbudget_thinking_tokens": thinking_tokens,
        "thinkbudget_cut": cut,
    }
    if bill.energy_source is not None:
        out["thinkbudget_energy_j"] = bill.joules
        out["thinkbudget_energy_source"] = bill.energy_source
        out["thinkbudget_gpu_seconds"] = bill.gpu_seconds
    if bill.cost_usd is not None:
        out["thinkbudget_gpu_cost_usd"] = bill.cost_usd
    if co2e_g is not None:
        out["thinkbudget_co2e_g"] = co2e_g
    if continuation_of is not None:
        out["thinkbudget_continuation_of"] = continuation_of
    return out


def energy_headers(bill: Bill, g_per_kwh: float | None = None) -> dict[str, str]:
    if bill.energy_source is None:
        return {}
    headers = {"X-ThinkBudget-Energy-Source": bill.energy_source}
    if bill.joules is not None:
        headers["X-ThinkBudget-Energy-J"] = f"{bill.joules:.6g}"
    co2e = grams_co2e(bill.joules, g_per_kwh)
    if co2e is not None:
        headers["X-ThinkBudget-CO2e-g"] = f"{co2e:.6g}"
    if bill.cost_usd is not None:
        headers["X-ThinkBudget-Cost"] = f"{bill.cost_usd:.8g}"
    return headers


def build_record(
    outcome: RequestOutcome,
    caller: Caller,
    settings: ThinkBudgetSettings,
    adjustments: Adjustments | None = None,
    now: datetime | None = None,
    route: RoutePlan | None = None,
    *,
    grace_tokens: int = 0,
    g_per_kwh: float | None = None,
    cache_saving: CacheSaving | None = None,
    escalation: Escalation | None = None,
) -> RequestRecord:
    """One row per client request: a cut request's continuation is folded into it. ``g_per_kwh``:
    its deployment's grid intensity (for ``co2e_g``); ``cache_saving``: what a cache hit saved."""
    bill = outcome.bill
    baseline = None
    if settings.baseline_thinking_tokens and outcome.tier in settings.baseline_thinking_tokens:
        baseline = max(settings.baseline_thinking_tokens[outcome.tier], outcome.thinking_tokens)
    return RequestRecord(
        litellm_call_id=outcome.call_id,
        created_at=now or datetime.now(UTC),
        api_key_hash=caller.api_key_hash,
        key_alias=caller.key_alias,
        team_id=caller.team_id,
        user_id=caller.user_id,
        end_user=caller.end_user,
        session_id=caller.session_id,
        model_group=outcome.admission.model_group,
        deployment=outcome.deployment_id,
        tier=outcome.tier.value,
        task=outcome.task.value,
        budget=outcome.budget,
        budget_scope=outcome.budget_scope.value,
        enforcement=outcome.enforcement.value,
        status=outcome.status,
        thinking_tokens=outcome.thinking_tokens,
        answer_tokens=outcome.answer_tokens,
        prompt_tokens=outcome.prompt_tokens,
        cut=outcome.cut,
        continuation_call_id=outcome.continuation_call_id,
        energy_j=bill.joules,
        energy_source=bill.energy_source,
        co2e_g=grams_co2e(bill.joules, g_per_kwh),
        gpu_seconds=bill.gpu_seconds,
        cost_usd=bill.cost_usd,
        baseline_thinking_tokens=baseline,
        latency_ms=outcome.latency_ms,
        exploration=outcome.admission.decision.exploration,
        grace_tokens=grace_tokens,
        extra={**record_extra(outcome, adjustments, cache_saving), **(escalation.as_extra() if escalation else {})},
        **route_columns(route, outcome),
    )


def route_columns(route: RoutePlan | None, outcome: RequestOutcome) -> dict[str, Any]:
    """The record's routing columns: where the request went and why, the guard's estimate, what was left
    of the caller's budget, and what the same tokens would have cost on the baseline deployment."""
    if route is None:
        return {}
    return {
        "route": route.choice.model,
        "route_reason": route.choice.reason,
        "estimated_cost_usd": route.choice.estimate_usd,
        "budget_remaining_usd": route.choice.remaining.usd,
        "baseline_cost_usd": route.baseline_cost(
            outcome.prompt_tokens, outcome.thinking_tokens + outcome.answer_tokens
        ),
    }


def record_extra(
    outcome: RequestOutcome, adjustments: Adjustments | None, cache_saving: CacheSaving | None = None
) -> dict[str, Any]:
    """The record's ``extra``: what no column holds (failed attempts, why it was closed, what the
    deployment hook adjusted, how energy was attributed, what a cache hit saved)."""
    bill = outcome.bill
    extra: dict[str, Any] = {"score": outcome.admission.score}
    if outcome.admission.decision.client_control is not None:
        extra["client_control"] = outcome.admission.decision.client_control.value
    if bill.failed_attempts:
        extra["failed_attempts"] = bill.failed_attempts
        if bill.failed_joules is not None:
            extra["failed_attempt_joules"] = bill.failed_joules
        if bill.failed_cost_usd is not None:
            extra["failed_attempt_cost_usd"] = bill.failed_cost_usd
    if outcome.admission.decision.explore_base is not None:
        extra["explore_base_budget"] = outcome.admission.decision.explore_base
    if outcome.closed_by is not None:
        extra["closed_by"] = outcome.closed_by.value
    if outcome.engine_capped:
        extra["engine_capped"] = True  # the engine stopped the thinking at the budget (no proxy cut)
    if adjustments is not None and adjustments.fit is not None:
        extra["context_fit"] = {"budget": adjustments.fit.budget, "max_tokens": adjustments.fit.max_tokens}
    if adjustments is not None and adjustments.client_fields:
        extra["client_budget_fields"] = [c.describe() for c in adjustments.client_fields]
    if cache_saving is not None:
        extra["cache_saving"] = cache_saving.as_extra()
    if bill.attribution is not None:
        extra["attribution"] = bill.attribution
        extra["idle_joules"] = bill.idle_joules
        extra["estimated_joules"] = bill.estimated_joules
    return extra

"""Turn a finished request's state into LiteLLM cost, spend-log metadata and our record row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from thinkbudget_litellm.handler.state import RequestState
from thinkbudget_litellm.meter.hub import RequestEnergy
from thinkbudget_litellm.record.request_record import RequestRecord, RequestStatus
from thinkbudget_litellm.settings import DeploymentSettings, Enforcement, ThinkBudgetSettings


def gpu_cost(energy: RequestEnergy | None, deployment: DeploymentSettings | None) -> float | None:
    """The request's GPU cost (GPU-time share plus energy), or None to keep LiteLLM's own estimate.

    None when the deployment has no GPU price configured or the request was not metered, so a
    misconfigured meter never turns into a silent zero bill.
    """
    if energy is None or deployment is None:
        return None
    priced = deployment.gpu.cost_per_hour > 0 or deployment.energy.price_per_kwh > 0
    if not priced or energy.gpu_seconds is None:
        return None
    return energy.total_cost_usd


def spend_log_figures(state: RequestState, energy: RequestEnergy | None, cost: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "thinkbudget_tier": state.decision.tier.value,
        "thinkbudget_task": state.task.value,
        "thinkbudget_budget": state.decision.budget,
        "thinkbudget_budget_scope": state.decision.scope,
        "thinkbudget_enforcement": state.enforcement.value,
        "thinkbudget_thinking_tokens": state.thinking_tokens,
        "thinkbudget_cut": state.cut,
    }
    if energy is not None:
        out["thinkbudget_energy_j"] = energy.joules
        out["thinkbudget_energy_source"] = energy.source
        out["thinkbudget_gpu_seconds"] = energy.gpu_seconds
    if cost is not None:
        out["thinkbudget_gpu_cost_usd"] = cost
    if state.parent is not None:
        out["thinkbudget_continuation_of"] = state.parent.call_id
    return out


def build_record(
    state: RequestState,
    energies: Sequence[RequestEnergy],
    settings: ThinkBudgetSettings,
    now: datetime | None = None,
) -> RequestRecord:
    """One row per client request: a cut request's continuation is folded into it."""
    joules = [e.joules for e in energies if e.joules is not None]
    gpu_s = [e.gpu_seconds for e in energies if e.gpu_seconds is not None]
    costs = [c for c in (gpu_cost(e, state.deployment) for e in energies) if c is not None]
    baseline = None
    if settings.baseline_thinking_tokens and state.decision.tier in settings.baseline_thinking_tokens:
        baseline = max(settings.baseline_thinking_tokens[state.decision.tier], state.thinking_tokens)
    caller = state.caller
    extra: dict[str, Any] = {"score": state.score}
    for key in ("failed_attempts", "failed_attempt_joules", "failed_attempt_cost_usd", "closed_by"):
        if key in state.extra:
            extra[key] = state.extra[key]
    if state.enforcement is Enforcement.NATIVE and state.thinking_tokens >= state.decision.budget:
        extra["engine_capped"] = True  # the engine stopped the thinking at the budget (no proxy cut)
    if energies:
        extra["attribution"] = energies[0].attribution
        extra["idle_joules"] = sum(e.idle_joules for e in energies)
        extra["estimated_joules"] = sum(e.estimated_joules for e in energies)
    return RequestRecord(
        litellm_call_id=state.call_id,
        created_at=now or datetime.now(UTC),
        api_key_hash=caller.api_key_hash,
        key_alias=caller.key_alias,
        team_id=caller.team_id,
        user_id=caller.user_id,
        end_user=caller.end_user,
        session_id=caller.session_id,
        model_group=state.model_group,
        deployment=state.deployment_id,
        tier=state.decision.tier.value,
        task=state.task.value,
        budget=state.decision.budget,
        budget_scope=state.decision.scope,
        enforcement=state.enforcement.value,
        status=RequestStatus.CUT if state.cut and state.status == "success" else RequestStatus(state.status),
        thinking_tokens=state.thinking_tokens,
        answer_tokens=state.answer_tokens,
        prompt_tokens=state.prompt_tokens,
        cut=state.cut,
        continuation_call_id=state.continuation_call_id,
        energy_j=sum(joules) if joules else None,
        energy_source=energies[0].source if energies else None,
        gpu_seconds=sum(gpu_s) if gpu_s else None,
        cost_usd=sum(costs) if costs else None,
        baseline_thinking_tokens=baseline,
        latency_ms=state.extra.get("latency_ms"),
        extra=extra,
    )

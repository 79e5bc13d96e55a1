"""Admission's routing step: the route the request will take and the pre-flight budget guard.

Runs in the pre-call hook after the budget policy: reads the complexity router's tier pools and the
candidates' deployments (through ``litellm_io``), plans with the pure strategy and guard, lowers the
thinking budget when the guard says so, marks the request for our routing plugin and puts the
decision into the spend-log metadata. A request that cannot fit raises ``BudgetRefused`` (an HTTP 429).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from thinkbudget_litellm.handler.litellm_io import (
    Caller,
    add_spend_log_metadata,
    client_answer_room,
    complexity_router_pools,
    group_deployments,
    mark_route,
)
from thinkbudget_litellm.policy.budget import BudgetDecision, Layers
from thinkbudget_litellm.routing.budget_left import remaining
from thinkbudget_litellm.routing.guard import Refusal
from thinkbudget_litellm.routing.scopes import resolve_strategy
from thinkbudget_litellm.routing.service import RoutePlan
from thinkbudget_litellm.routing.strategy import Ask
from thinkbudget_litellm.tiers import Task


class BudgetRefused(Exception):
    """The request's cheapest estimate does not fit what is left of the caller's budget."""


def route_admission(
    rt: Any,
    caller: Caller,
    layers: Layers,
    data: dict[str, Any],
    decision: BudgetDecision,
    task: Task,
    prompt_tokens: int,
) -> tuple[BudgetDecision, RoutePlan | None]:
    """The (possibly lowered) budget decision and the route plan, or raises ``BudgetRefused``."""
    settings = rt.settings.routing
    try:
        router = rt.router()
    except Exception:
        router = None
    requested = str(data.get("model") or "")
    pools = complexity_router_pools(router, requested) if router is not None else None
    if pools is None and not settings.guard.enabled:
        return decision, None
    strategy = resolve_strategy(settings, layers)
    room = client_answer_room(data, decision.budget)
    answer = min(room, settings.guard.answer_tokens) if room else settings.guard.answer_tokens
    ask = Ask(decision.tier, task, prompt_tokens, decision.budget, answer)
    left = remaining(caller.budget_limits, soft_budgets=settings.guard.soft_budgets)
    out = rt.routing.plan(
        lambda group: group_deployments(router, group) if router is not None else [],
        rt.deployment_settings,
        settings,
        pools=pools,
        requested=requested,
        ask=ask,
        strategy=strategy,
        remaining=left,
    )
    if isinstance(out, Refusal):
        raise BudgetRefused(out.message())
    if out is None:
        return decision, None
    if out.choice.budget < decision.budget:
        decision = replace(decision, budget=out.choice.budget)
    if out.routed:
        mark_route(data, str(data.get("litellm_call_id") or ""))
    add_spend_log_metadata(data, out.figures())
    return decision, out

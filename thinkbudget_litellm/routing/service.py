"""The routing service: builds candidates from the router's deployments and our measured prices, plans
a request (strategy + guard, both pure), re-plans on the pool LiteLLM's router actually chose, and
prices the baseline. The runtime hands it what it read from LiteLLM's router (``handler.litellm_io``):
the tier pools and each model group's deployments."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from thinkbudget_litellm.routing.budget_left import Remaining
from thinkbudget_litellm.routing.config import RoutingSettings, Strategy
from thinkbudget_litellm.routing.guard import GuardStep, Refusal, RouteChoice, plan
from thinkbudget_litellm.routing.prices import UNPRICED, PriceBook, Prices, configured_prices
from thinkbudget_litellm.routing.rungs import pool_for
from thinkbudget_litellm.routing.strategy import Ask, Candidate, estimate_usd, rank
from thinkbudget_litellm.settings import DeploymentSettings

DeploymentLookup = Callable[[str | None, Mapping[str, Any]], DeploymentSettings]
GroupDeployments = Callable[[str], list[tuple[str | None, Mapping[str, Any]]]]


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """What the pre-call hook decided about where a request goes and what it may cost."""

    requested: str  # the model group the client named ("auto" or a plain group)
    routed: bool  # a complexity router chooses among candidates
    strategy: Strategy
    ask: Ask
    choice: RouteChoice
    min_quality: int
    floor: int
    baseline: Candidate | None

    @property
    def model(self) -> str:
        return self.choice.model

    def escalated(self, to_model: str, reason: str, extra_usd: float) -> RoutePlan:
        """The route once the request was escalated to ``to_model`` (estimate: both calls)."""
        choice = replace(
            self.choice,
            model=to_model,
            reason=f"{reason}; first: {self.choice.reason}",
            estimate_usd=self.choice.estimate_usd + extra_usd,
        )
        return replace(self, choice=choice)

    def headers(self) -> dict[str, str]:
        left = self.choice.remaining.usd
        return {
            "X-ThinkBudget-Route": _header(self.choice.model),
            "X-ThinkBudget-Route-Reason": _header(self.choice.reason),
            "X-ThinkBudget-Estimated-Cost": f"{self.choice.estimate_usd:.6g}",
            "X-ThinkBudget-Budget-Remaining": "unlimited" if left is None else f"{left:.6g}",
        }

    def figures(self) -> dict[str, Any]:
        """Our spend-log metadata for the routing decision."""
        return {
            "thinkbudget_route": self.choice.model,
            "thinkbudget_route_reason": self.choice.reason,
            "thinkbudget_route_strategy": self.strategy.value,
            "thinkbudget_guard": self.choice.step.value,
            "thinkbudget_estimated_cost_usd": self.choice.estimate_usd,
            "thinkbudget_budget_remaining_usd": self.choice.remaining.usd,
        }

    def baseline_cost(self, prompt_tokens: int, output_tokens: int) -> float | None:
        """What the same tokens would have cost on the baseline deployment (its measured prices)."""
        if self.baseline is None or self.baseline.prices is UNPRICED:
            return None
        return self.baseline.prices.cost(prompt_tokens, output_tokens)


def _header(text: str) -> str:
    return text.encode("ascii", "backslashreplace").decode("ascii").replace("\r", " ").replace("\n", " ")


class RouteService:
    def __init__(self) -> None:
        self.prices = PriceBook()

    def configure(self, settings: RoutingSettings, prefill_weight: float = 0.1) -> None:
        self.prices = PriceBook(window=settings.price_window, prefill_weight=prefill_weight)

    # ------------------------------------------------------------------ candidates
    def candidate(self, deployments_of: GroupDeployments, group: str, lookup: DeploymentLookup) -> Candidate:
        """A model group as a candidate: its first deployment's declared quality and strengths, and
        the dearest of its deployments' prices (measured, else configured)."""
        quality, strengths = 3, {}
        prices: Prices = UNPRICED
        for i, (dep_id, info) in enumerate(deployments_of(group)):
            dep = lookup(dep_id, info)
            if i == 0:
                quality, strengths = dep.routing.quality, dict(dep.routing.strengths)
            configured = configured_prices(
                _first(dep.routing.input_cost_per_token, info.get("input_cost_per_token")),
                _first(dep.routing.output_cost_per_token, info.get("output_cost_per_token")),
            )
            found = self.prices.prices(dep_id, configured)
            if found.output_usd >= prices.output_usd:
                prices = found
        return Candidate(group, quality, prices, strengths)

    # ------------------------------------------------------------------ planning
    def plan(
        self,
        deployments_of: GroupDeployments,
        lookup: DeploymentLookup,
        settings: RoutingSettings,
        *,
        pools: Mapping[str, list[str]] | None,
        requested: str,
        ask: Ask,
        strategy: Strategy,
        remaining: Remaining,
    ) -> RoutePlan | Refusal | None:
        """The route and guarded budget for a request; None when neither routing nor the guard applies."""
        routed = pools is not None
        if not routed and not settings.guard.enabled:
            return None
        groups = pool_for(ask.tier, pools)[1] if pools is not None else [requested]
        if not groups:
            return None
        pool = [self.candidate(deployments_of, g, lookup) for g in groups]
        rem = remaining if settings.guard.enabled else Remaining(None, None)
        min_quality = settings.min_quality.get(ask.tier, 1)
        floor = settings.guard.min_thinking_tokens
        out = plan(
            strategy if routed else Strategy.BALANCED, ask, pool, min_quality=min_quality, remaining=rem, floor=floor
        )
        if isinstance(out, Refusal):
            return out
        baseline = None
        if settings.baseline_model:
            baseline = self.candidate(deployments_of, settings.baseline_model, lookup)
        elif routed and pools is not None:  # the best declared quality of the whole router
            everyone = {g for p in pools.values() for g in p}
            cands = [self.candidate(deployments_of, g, lookup) for g in sorted(everyone)]
            baseline = max(cands, key=lambda c: (c.quality, c.prices.output_usd)) if cands else None
        return RoutePlan(requested, routed, strategy, ask, out, min_quality, floor, baseline)

    def replan(self, current: RoutePlan, pool: list[Candidate]) -> RoutePlan:
        """LiteLLM's router chose another tier's pool than we planned for (its escalation, a plan-mode
        floor, housekeeping): the strategy's pick in that pool that fits at the budget already set."""
        ask = replace(current.ask, budget=current.choice.budget)
        ranked, reason = rank(current.strategy, ask, pool, current.min_quality, current.choice.remaining)
        fitting = [
            c
            for c in ranked
            if current.choice.remaining.fits(estimate_usd(c, ask.prompt_tokens, ask.budget, ask.answer_tokens))
        ]
        pick = fitting[0] if fitting else min(ranked, key=lambda c: c.prices.output_usd)
        cost = estimate_usd(pick, ask.prompt_tokens, ask.budget, ask.answer_tokens)
        why = f"the router chose another pool; {reason}" + ("" if fitting else "; nothing fits: the cheapest")
        step = current.choice.step if fitting else GuardStep.CHEAPER_MODEL
        choice = RouteChoice(pick.model, ask.budget, cost, step, why, current.choice.remaining, current.choice.tried)
        return replace(current, choice=choice)


def _first(*values: Any) -> float | None:
    for v in values:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
    return None

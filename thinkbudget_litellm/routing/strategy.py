"""Which candidate a strategy prefers for a tier: a pure ranking (first = the pick).

A candidate is a model group of the router's tier pool with what its deployments declare
(``model_info.thinkbudget.routing``: quality 1-5, strengths per task) and its prices. The task bonus:
a candidate strong at the request's task counts ``strengths[task]`` quality steps higher.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from thinkbudget_litellm.routing.budget_left import Remaining
from thinkbudget_litellm.routing.config import Strategy
from thinkbudget_litellm.routing.prices import Prices
from thinkbudget_litellm.tiers import Task, Tier


@dataclass(frozen=True, slots=True)
class Candidate:
    model: str  # a model group of the tier's pool
    quality: int
    prices: Prices
    strengths: Mapping[Task, float] = field(default_factory=dict)

    def quality_for(self, task: Task) -> float:
        return self.quality + self.strengths.get(task, 0.0)


@dataclass(frozen=True, slots=True)
class Ask:
    """What the request needs, as far as cost goes."""

    tier: Tier
    task: Task
    prompt_tokens: int
    budget: int  # thinking tokens the policy allows
    answer_tokens: int  # the answer estimate


def estimate_usd(candidate: Candidate, prompt_tokens: int, budget: int, answer_tokens: int) -> float:
    """Upper estimate before the call: the thinking is enforced, so it costs at most its budget."""
    return candidate.prices.cost(prompt_tokens, budget + answer_tokens)


def rank(
    strategy: Strategy, ask: Ask, pool: Sequence[Candidate], min_quality: int, remaining: Remaining
) -> tuple[list[Candidate], str]:
    """The pool in the strategy's order of preference, and why the first is first."""
    if not pool:
        return [], "no candidates"

    def cost(c: Candidate) -> float:
        return estimate_usd(c, ask.prompt_tokens, ask.budget, ask.answer_tokens)

    def quality(c: Candidate) -> float:
        return c.quality_for(ask.task)

    position = {c.model: i for i, c in enumerate(pool)}
    if strategy is Strategy.BALANCED:
        return list(pool), f"balanced: the tier map's model for {ask.tier.value}"
    if strategy is Strategy.CHEAPEST:
        enough = [c for c in pool if quality(c) >= min_quality]
        by_cost = sorted(enough, key=lambda c: (cost(c), -quality(c), position[c.model]))
        rest = sorted((c for c in pool if quality(c) < min_quality), key=lambda c: (-quality(c), cost(c)))
        if not by_cost:
            return rest, f"cheapest: no candidate has quality {min_quality} for {ask.tier.value}; the best one"
        return [*by_cost, *rest], f"cheapest with quality >= {min_quality} for {ask.tier.value}"
    by_quality = sorted(pool, key=lambda c: (-quality(c), cost(c), position[c.model]))
    bonus = _bonus_note(by_quality[0], ask.task)
    if strategy is Strategy.BEST_QUALITY:
        return by_quality, f"best_quality: quality {quality(by_quality[0]):g}{bonus}"
    fitting = [c for c in by_quality if remaining.fits(cost(c))]
    others = [c for c in by_quality if not remaining.fits(cost(c))]
    if not fitting:
        return by_quality, "budget_constrained: nothing fits at the full budget; the best one"
    why = "fits the remaining budget" if others else "everything fits"
    return [*fitting, *others], f"budget_constrained: the best that {why}, quality {quality(fitting[0]):g}{bonus}"


def _bonus_note(c: Candidate, task: Task) -> str:
    bonus = c.strengths.get(task, 0.0)
    return f" (incl. +{bonus:g} for {task.value})" if bonus else ""

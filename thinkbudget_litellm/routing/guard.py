"""The pre-flight budget guard: does the request fit what is left of the caller's budgets, and if not,
what is the least that must change. Pure.

The ladder, in order: the strategy's pick at the policy's budget; the same model with the thinking
budget lowered to what fits (never below the floor); a cheaper candidate (at its full budget, then
lowered); otherwise a refusal that states the remaining budget, the estimate and what was tried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from thinkbudget_litellm.routing.budget_left import Remaining
from thinkbudget_litellm.routing.config import Strategy
from thinkbudget_litellm.routing.strategy import Ask, Candidate, estimate_usd, rank


class GuardStep(StrEnum):
    """What the guard had to do for the request to fit."""

    FITS = "fits"  # nothing
    THINKING_LOWERED = "thinking_lowered"
    CHEAPER_MODEL = "cheaper_model"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class RouteChoice:
    model: str
    budget: int  # the thinking budget after the guard
    estimate_usd: float
    step: GuardStep
    reason: str
    remaining: Remaining
    tried: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Refusal:
    remaining: Remaining
    estimate_usd: float  # the cheapest estimate tried
    tried: tuple[str, ...]

    def message(self) -> str:
        return (
            f"thinkbudget: this request does not fit the remaining budget ({self.remaining.describe()}); "
            f"the cheapest estimate is ${self.estimate_usd:.6g}. Tried: {'; '.join(self.tried)}"
        )


def _fmt(c: Candidate, budget: int, cost: float) -> str:
    return f"{c.model} with {budget} thinking tokens (${cost:.6g})"


def _fitting_budget(c: Candidate, ask: Ask, remaining: Remaining, floor: int) -> int | None:
    """The largest budget in [floor, ask.budget] whose estimate fits, or None."""
    left = remaining.usd
    if left is None:
        return ask.budget
    per_token = c.prices.output_usd
    fixed = estimate_usd(c, ask.prompt_tokens, 0, ask.answer_tokens)
    if per_token <= 0:
        return ask.budget if fixed <= left else None
    most = int((left - fixed) / per_token)
    best = min(most, ask.budget)
    while best >= floor and estimate_usd(c, ask.prompt_tokens, best, ask.answer_tokens) > left:
        best -= 1  # float rounding at the edge
    return best if best >= floor else None


def plan(
    strategy: Strategy,
    ask: Ask,
    pool: Sequence[Candidate],
    *,
    min_quality: int,
    remaining: Remaining,
    floor: int,
) -> RouteChoice | Refusal:
    """The model and thinking budget for ``ask``, or why it cannot be served within the budget."""
    ranked, reason = rank(strategy, ask, pool, min_quality, remaining)
    if not ranked:
        raise ValueError("no candidate models to plan over")
    floor = min(floor, ask.budget)
    first = ranked[0]
    full = estimate_usd(first, ask.prompt_tokens, ask.budget, ask.answer_tokens)
    if remaining.fits(full):
        return RouteChoice(first.model, ask.budget, full, GuardStep.FITS, reason, remaining)
    tried = [_fmt(first, ask.budget, full)]
    lowered = _fitting_budget(first, ask, remaining, floor)
    if lowered is not None:
        cost = estimate_usd(first, ask.prompt_tokens, lowered, ask.answer_tokens)
        why = f"{reason}; guard: thinking lowered from {ask.budget} to {lowered} to fit {remaining.describe()}"
        return RouteChoice(first.model, lowered, cost, GuardStep.THINKING_LOWERED, why, remaining, tuple(tried))
    at_floor = estimate_usd(first, ask.prompt_tokens, floor, ask.answer_tokens)
    tried.append(_fmt(first, floor, at_floor))
    cheapest_seen = at_floor
    for c in ranked[1:]:
        if c.prices.output_usd >= first.prices.output_usd and c.prices.prompt_usd >= first.prices.prompt_usd:
            continue  # not cheaper
        budget = _fitting_budget(c, ask, remaining, floor)
        if budget is not None:
            cost = estimate_usd(c, ask.prompt_tokens, budget, ask.answer_tokens)
            lowered_note = "" if budget == ask.budget else f", thinking lowered from {ask.budget} to {budget}"
            why = (
                f"{reason}; guard: {first.model} does not fit {remaining.describe()} even with "
                f"{floor} thinking tokens, cheaper model {c.model}{lowered_note}"
            )
            return RouteChoice(c.model, budget, cost, GuardStep.CHEAPER_MODEL, why, remaining, tuple(tried))
        cost = estimate_usd(c, ask.prompt_tokens, floor, ask.answer_tokens)
        tried.append(_fmt(c, floor, cost))
        cheapest_seen = min(cheapest_seen, cost)
    return Refusal(remaining, cheapest_seen, tuple(tried))

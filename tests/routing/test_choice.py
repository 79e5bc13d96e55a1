"""Strategies and the budget guard, table-driven: a pool of three models, asks, budgets -> the pick."""

from __future__ import annotations

import pytest

from thinkbudget_litellm.routing.budget_left import UNLIMITED, BudgetLimit, LimitScope, remaining
from thinkbudget_litellm.routing.config import Strategy
from thinkbudget_litellm.routing.guard import GuardStep, Refusal, RouteChoice, plan
from thinkbudget_litellm.routing.prices import Prices, PriceSource
from thinkbudget_litellm.routing.strategy import Ask, Candidate, estimate_usd, rank
from thinkbudget_litellm.tiers import Task, Tier

M = 1e-6  # $ per token scale
SMALL = Candidate("small", 1, Prices(0.01 * M, 0.1 * M, PriceSource.MEASURED))
MEDIUM = Candidate("medium", 3, Prices(0.05 * M, 0.5 * M, PriceSource.MEASURED), {Task.CODE: 1.0})
LARGE = Candidate("large", 5, Prices(0.2 * M, 2.0 * M, PriceSource.CONFIGURED))
POOL = [MEDIUM, SMALL, LARGE]  # the tier map puts medium first


def ask(tier: Tier = Tier.MODERATE, task: Task = Task.OTHER, budget: int = 512) -> Ask:
    return Ask(tier=tier, task=task, prompt_tokens=100, budget=budget, answer_tokens=200)


def left(usd: float) -> object:
    return remaining([BudgetLimit(LimitScope.KEY, usd, 0.0)])


@pytest.mark.parametrize(
    ("strategy", "a", "min_quality", "budget_left", "expected"),
    [
        (Strategy.BALANCED, ask(), 2, UNLIMITED, "medium"),
        (Strategy.CHEAPEST, ask(), 1, UNLIMITED, "small"),
        (Strategy.CHEAPEST, ask(), 2, UNLIMITED, "medium"),  # small's quality 1 is not enough
        (Strategy.CHEAPEST, ask(), 4, UNLIMITED, "large"),
        (Strategy.CHEAPEST, ask(task=Task.CODE), 4, UNLIMITED, "medium"),  # code bonus lifts medium to 4
        (Strategy.CHEAPEST, ask(), 9, UNLIMITED, "large"),  # nothing is enough: the best one
        (Strategy.BEST_QUALITY, ask(), 1, UNLIMITED, "large"),
        (Strategy.BUDGET_CONSTRAINED, ask(), 1, UNLIMITED, "large"),
        # large costs 100*0.2 + 712*2 = $1.444e-3; medium 0.361e-3: only medium and small fit
        (Strategy.BUDGET_CONSTRAINED, ask(), 1, left(1e-3), "medium"),
        (Strategy.BUDGET_CONSTRAINED, ask(), 1, left(1e-4), "small"),
    ],
)
def test_rank_picks(strategy: Strategy, a: Ask, min_quality: int, budget_left: object, expected: str) -> None:
    ranked, reason = rank(strategy, a, POOL, min_quality, budget_left)  # type: ignore[arg-type]
    assert ranked[0].model == expected, reason
    assert sorted(c.model for c in ranked) == sorted(c.model for c in POOL)  # a ranking, nothing dropped
    assert strategy.value in reason


def test_estimate_counts_the_whole_thinking_budget() -> None:
    assert estimate_usd(LARGE, 100, 512, 200) == pytest.approx(100 * 0.2 * M + 712 * 2.0 * M)


# (strategy, remaining $, budget) -> (step, model, budget after the guard)
GUARD_CASES = [
    (Strategy.BALANCED, None, 512, GuardStep.FITS, "medium", 512),
    # medium at 512: 5e-6 + 712*0.5e-6 = 3.61e-4. 2.5e-4 leaves (2.5e-4 - 5e-6 - 1e-4)/0.5e-6 = 290 tokens
    (Strategy.BALANCED, 2.5e-4, 512, GuardStep.THINKING_LOWERED, "medium", 290),
    # below the floor (32) on medium: 1.05e-4 + 32*0.5e-6 = 1.21e-4 > 1.1e-4 -> small, at its full budget
    (Strategy.BALANCED, 1.1e-4, 512, GuardStep.CHEAPER_MODEL, "small", 512),
    # small at full: 1e-6 + 712e-7 = 7.22e-5 > 5e-5 -> small lowered: (5e-5 - 1e-6 - 2e-5)/1e-7 = 290
    (Strategy.BALANCED, 5e-5, 512, GuardStep.CHEAPER_MODEL, "small", 290),
    (Strategy.BALANCED, 2e-5, 512, GuardStep.REFUSED, None, None),
    (Strategy.BEST_QUALITY, 1e-3, 512, GuardStep.THINKING_LOWERED, "large", 290),
    # large at the floor: 2e-5 + 232*2e-6 = 4.84e-4 > 4e-4 -> the next cheaper in quality order
    (Strategy.BEST_QUALITY, 4e-4, 512, GuardStep.CHEAPER_MODEL, "medium", 512),
    (Strategy.BUDGET_CONSTRAINED, 1e-3, 512, GuardStep.FITS, "medium", 512),
    (Strategy.CHEAPEST, 0.0, 0, GuardStep.REFUSED, None, None),
]


@pytest.mark.parametrize(("strategy", "usd", "budget", "step", "model", "after"), GUARD_CASES)
def test_guard_ladder(
    strategy: Strategy, usd: float | None, budget: int, step: GuardStep, model: str | None, after: int | None
) -> None:
    rem = UNLIMITED if usd is None else left(usd)
    out = plan(strategy, ask(budget=budget), POOL, min_quality=1, remaining=rem, floor=32)  # type: ignore[arg-type]
    if step is GuardStep.REFUSED:
        assert isinstance(out, Refusal)
        msg = out.message()
        assert "key budget $" in msg and "cheapest estimate" in msg and "Tried:" in msg
        assert len(out.tried) >= 2
        return
    assert isinstance(out, RouteChoice)
    assert (out.step, out.model, out.budget) == (step, model, after), out.reason
    assert rem.fits(out.estimate_usd)  # type: ignore[attr-defined]
    assert out.budget >= min(32, budget)


def test_guard_alone_on_one_model_lowers_then_refuses() -> None:
    one = [LARGE]
    lowered = plan(Strategy.BALANCED, ask(), one, min_quality=1, remaining=left(1e-3), floor=32)  # type: ignore[arg-type]
    assert isinstance(lowered, RouteChoice) and lowered.step is GuardStep.THINKING_LOWERED
    assert lowered.budget == int((1e-3 - 20e-6 - 400e-6) / 2e-6)
    refused = plan(Strategy.BALANCED, ask(), one, min_quality=1, remaining=left(1e-5), floor=32)  # type: ignore[arg-type]
    assert isinstance(refused, Refusal)
    assert "large with 512 thinking tokens" in refused.message()
    assert "large with 32 thinking tokens" in refused.message()


@pytest.mark.parametrize(
    ("limits", "soft", "usd", "scope"),
    [
        ([], True, None, None),
        ([BudgetLimit(LimitScope.KEY, 1.0, 0.4), BudgetLimit(LimitScope.TEAM, 5.0, 4.9)], True, 0.1, "team"),
        ([BudgetLimit(LimitScope.KEY, 1.0, 0.4), BudgetLimit(LimitScope.TEAM, 0.2, 0.0, soft=True)], True, 0.2, "team"),
        ([BudgetLimit(LimitScope.KEY, 1.0, 0.4), BudgetLimit(LimitScope.TEAM, 0.2, 0.0, soft=True)], False, 0.6, "key"),
        ([BudgetLimit(LimitScope.USER, 1.0, 3.0)], True, 0.0, "user"),  # overspent: nothing left
    ],
)
def test_remaining(limits: list[BudgetLimit], soft: bool, usd: float | None, scope: str | None) -> None:
    r = remaining(limits, soft_budgets=soft)
    assert r.usd == (None if usd is None else pytest.approx(usd))
    assert (r.binding.scope.value if r.binding else None) == scope

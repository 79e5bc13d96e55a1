"""Strategy narrowing by team/key metadata, the tier -> rung map and the plugins' in-process behaviour."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from thinkbudget_litellm.policy.budget import BudgetScope
from thinkbudget_litellm.routing.config import RoutingSettings, ScopeRouting, Strategy
from thinkbudget_litellm.routing.plugins import StrategyPlugin, TierClassifier
from thinkbudget_litellm.routing.rungs import pool_for, rung_for
from thinkbudget_litellm.routing.scopes import resolve_strategy
from thinkbudget_litellm.settings import ScopeOverrides, SettingsError
from thinkbudget_litellm.tiers import Tier

B, C, Q, K = Strategy.BALANCED, Strategy.CHEAPEST, Strategy.BEST_QUALITY, Strategy.BUDGET_CONSTRAINED


def layer(scope: BudgetScope, strategy: Strategy | None = None, allowed: list[Strategy] | None = None):
    return (scope, ScopeOverrides(routing=ScopeRouting(strategy=strategy, allowed_strategies=allowed)))


@pytest.mark.parametrize(
    ("operator", "layers", "expected"),
    [
        (RoutingSettings(), [], B),
        (RoutingSettings(strategy=C), [], C),
        (RoutingSettings(), [layer(BudgetScope.TEAM, Q), layer(BudgetScope.KEY, C)], C),  # narrowest wins
        (RoutingSettings(), [layer(BudgetScope.TEAM, Q), layer(BudgetScope.KEY)], Q),
        (RoutingSettings(strategy=Q), [layer(BudgetScope.TEAM, None, [B, C])], B),  # team took Q away
        (RoutingSettings(), [layer(BudgetScope.END_USER, Q)], B),  # client-named: may not choose
        (RoutingSettings(), [layer(BudgetScope.TEAM, None, [C]), layer(BudgetScope.END_USER, None, [K])], "error"),
        (RoutingSettings(allowed_strategies=[B, C]), [layer(BudgetScope.KEY, Q)], "error"),  # never widens
        (RoutingSettings(), [layer(BudgetScope.TEAM, None, [B, C]), layer(BudgetScope.KEY, Q)], "error"),
    ],
)
def test_resolve_strategy(operator, layers, expected):
    if expected == "error":
        with pytest.raises(SettingsError):
            resolve_strategy(operator, layers)
    else:
        assert resolve_strategy(operator, layers) is expected


def test_rungs():
    assert [rung_for(t) for t in Tier] == ["NON_REASONING", "SIMPLE", "MEDIUM", "COMPLEX", "REASONING"]
    assert rung_for(Tier.TRIVIAL, non_reasoning=False) == "SIMPLE"
    assert pool_for(Tier.TRIVIAL, {"SIMPLE": ["a"], "REASONING": ["b"]}) == ("SIMPLE", ["a"])
    assert pool_for(Tier.DEEP, {"SIMPLE": ["a"]}) == ("SIMPLE", ["a"])


def ctx(messages, candidates=(), metadata=None):
    return SimpleNamespace(
        structured_messages=list(messages), candidate_models=list(candidates), metadata=dict(metadata or {})
    )


async def test_tier_classifier_returns_rungs():
    hi = ctx([{"role": "user", "content": "hi"}])
    assert await TierClassifier().classify(hi) == "NON_REASONING"
    assert await TierClassifier(non_reasoning=False).classify(hi) == "SIMPLE"


async def test_routing_plugin_without_our_plan_keeps_the_tier_map():
    out = await StrategyPlugin().run(ctx([], ["m1", "m2"], {"thinkbudget_route_call": "not-live"}))
    assert out.candidate_models == ["m1"]

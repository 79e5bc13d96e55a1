"""The clients' own reasoning controls as caps (issue 14, item 4): lower, never raise."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkbudget_litellm.policy.budget import BudgetScope, resolve_budget
from thinkbudget_litellm.policy.client_controls import (
    DEFAULT_EFFORT_BUDGETS,
    ClientCap,
    ClientControl,
    client_caps,
    tightest,
)
from thinkbudget_litellm.settings import ScopeOverrides
from thinkbudget_litellm.tiers import DEFAULT_BUDGETS, Tier

RESERVE = 1024
E, T, R, M = (
    ClientControl.REASONING_EFFORT,
    ClientControl.THINKING,
    ClientControl.REASONING,
    ClientControl.MAX_COMPLETION_TOKENS,
)

CASES: list[tuple[dict[str, Any], ClientCap | None]] = [
    ({}, None),
    ({"reasoning_effort": "minimal"}, ClientCap(E, 128)),
    ({"reasoning_effort": "low"}, ClientCap(E, 1024)),
    ({"reasoning_effort": "Medium "}, ClientCap(E, 2048)),
    ({"reasoning_effort": "high"}, ClientCap(E, 4096)),
    ({"reasoning_effort": "none"}, ClientCap(E, 0)),
    ({"reasoning_effort": {"effort": "low", "summary": "auto"}}, ClientCap(E, 1024)),
    ({"reasoning_effort": "extreme"}, None),  # unreadable: removed before the call, no cap
    ({"reasoning_effort": 3}, None),
    ({"thinking": {"type": "enabled", "budget_tokens": 300}}, ClientCap(T, 300)),
    ({"thinking": {"type": "disabled"}}, ClientCap(T, 0)),
    ({"thinking": {"type": "adaptive"}}, None),
    ({"thinking": {"type": "enabled", "budget_tokens": -1}}, None),
    ({"thinking": {"type": "enabled", "budget_tokens": True}}, None),
    ({"reasoning": {"max_tokens": 700}}, ClientCap(R, 700)),
    ({"reasoning": {"effort": "low"}}, ClientCap(R, 1024)),
    ({"reasoning": {"effort": "high", "max_tokens": 50}}, ClientCap(R, 50)),
    ({"reasoning": {"enabled": False}}, ClientCap(R, 0)),
    ({"reasoning": {"exclude": True}}, None),
    ({"max_completion_tokens": 5000}, ClientCap(M, 5000 - RESERVE)),
    ({"max_completion_tokens": 600}, ClientCap(M, 300)),  # half for the answer when the total is small
    ({"max_completion_tokens": 1}, ClientCap(M, 1)),
    ({"max_completion_tokens": 0}, None),
    ({"reasoning_effort": "high", "thinking": {"type": "enabled", "budget_tokens": 200}}, ClientCap(T, 200)),
]


@pytest.mark.parametrize(("fields", "expected"), CASES)
def test_each_control_reads_as_a_cap(fields: dict[str, Any], expected: ClientCap | None) -> None:
    assert tightest(client_caps([fields], RESERVE)) == expected


def test_extra_body_counts_too_and_the_lower_place_wins() -> None:
    caps = client_caps([{"reasoning_effort": "high"}, {"reasoning_effort": "low"}], RESERVE)
    assert tightest(caps) == ClientCap(E, 1024)


def test_the_operator_may_replace_the_effort_table() -> None:
    assert tightest(client_caps([{"reasoning_effort": "low"}], RESERVE, {"low": 64})) == ClientCap(E, 64)
    assert tightest(client_caps([{"reasoning_effort": "medium"}], RESERVE, {"low": 64})) is None


def test_litellm_s_own_effort_table() -> None:
    from litellm import constants

    assert DEFAULT_EFFORT_BUDGETS["minimal"] == constants.DEFAULT_REASONING_EFFORT_MINIMAL_THINKING_BUDGET
    assert DEFAULT_EFFORT_BUDGETS["low"] == constants.DEFAULT_REASONING_EFFORT_LOW_THINKING_BUDGET
    assert DEFAULT_EFFORT_BUDGETS["medium"] == constants.DEFAULT_REASONING_EFFORT_MEDIUM_THINKING_BUDGET
    assert DEFAULT_EFFORT_BUDGETS["high"] == constants.DEFAULT_REASONING_EFFORT_HIGH_THINKING_BUDGET


TEAM = [(BudgetScope.TEAM, ScopeOverrides(budgets={Tier.DEEP: 4096}, max_thinking_tokens=6000))]


def test_a_control_below_the_policy_decides_and_is_named() -> None:
    d = resolve_budget(Tier.DEEP, DEFAULT_BUDGETS, TEAM, client_cap=ClientCap(E, 1024))
    assert (d.budget, d.scope, d.client_control) == (1024, BudgetScope.CLIENT_CONTROL, E)


def test_a_control_above_the_policy_changes_nothing() -> None:
    d = resolve_budget(Tier.DEEP, DEFAULT_BUDGETS, TEAM, client_cap=ClientCap(E, 16384))
    assert (d.budget, d.scope, d.client_control) == (4096, BudgetScope.TEAM, None)


def test_the_request_field_and_a_control_the_lower_wins() -> None:
    d = resolve_budget(Tier.DEEP, DEFAULT_BUDGETS, TEAM, request_cap=100, client_cap=ClientCap(T, 200))
    assert (d.budget, d.scope) == (100, BudgetScope.REQUEST)
    d = resolve_budget(Tier.DEEP, DEFAULT_BUDGETS, TEAM, request_cap=300, client_cap=ClientCap(T, 200))
    assert (d.budget, d.scope) == (200, BudgetScope.CLIENT_CONTROL)


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 100_000),
    st.text(max_size=8),
    st.sampled_from(sorted(DEFAULT_EFFORT_BUDGETS)),
    st.dictionaries(
        st.sampled_from(["type", "budget_tokens", "effort", "max_tokens", "enabled"]),
        st.one_of(st.integers(-5, 100_000), st.sampled_from(["enabled", "disabled", "low", "high"]), st.booleans()),
    ),
)


@given(
    fields=st.dictionaries(
        st.sampled_from(["reasoning_effort", "thinking", "reasoning", "max_completion_tokens"]), _values
    ),
    tier=st.sampled_from(list(Tier)),
    team_cap=st.integers(0, 20_000),
)
def test_no_control_ever_raises_the_budget(fields: dict[str, Any], tier: Tier, team_cap: int) -> None:
    layers = [(BudgetScope.TEAM, ScopeOverrides(max_thinking_tokens=team_cap))]
    without = resolve_budget(tier, DEFAULT_BUDGETS, layers)
    cap = tightest(client_caps([fields], RESERVE))
    with_cap = resolve_budget(tier, DEFAULT_BUDGETS, layers, client_cap=cap)
    assert with_cap.budget <= without.budget
    assert cap is None or with_cap.budget == min(without.budget, cap.tokens)

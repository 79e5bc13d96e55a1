"""Adaptive budgets at admission: the table lookup, exploration, and how both layer under the
trusted key/team settings and the caller's own lowering."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkbudget_litellm.calibrate.budgets import AdaptivePolicy, BudgetTable
from thinkbudget_litellm.calibrate.explore import exploration_budget, explore_unit, explores
from thinkbudget_litellm.calibrate.proposal import CellKey, Source, propose
from thinkbudget_litellm.calibrate.refresher import aligned_window
from thinkbudget_litellm.calibrate.survival import tally
from thinkbudget_litellm.policy.budget import BudgetScope as S
from thinkbudget_litellm.policy.budget import resolve_budget
from thinkbudget_litellm.settings import AdaptiveBounds, AdaptiveSettings, ScopeOverrides
from thinkbudget_litellm.tiers import DEFAULT_BUDGETS, Task, Tier

D = Tier.DEEP
ADAPTIVE = (3000, S.ADAPTIVE)


@pytest.mark.parametrize(
    ("layers", "kwargs", "expected"),
    [
        ([], {}, (3000, S.ADAPTIVE, None)),
        ([(S.TEAM, ScopeOverrides(budgets={D: 500}))], {}, (500, S.TEAM, None)),  # a team's budget wins
        ([(S.KEY, ScopeOverrides(max_thinking_tokens=1000))], {}, (1000, S.KEY, None)),
        ([], {"request_cap": 100}, (100, S.REQUEST, None)),  # the caller lowers
        ([(S.END_USER, ScopeOverrides(budgets={D: 9000}))], {}, (3000, S.ADAPTIVE, None)),  # never raises
        ([], {"explore_to": 6000}, (6000, S.ADAPTIVE, 3000)),
        ([(S.TEAM, ScopeOverrides(max_thinking_tokens=4000))], {"explore_to": 6000}, (4000, S.TEAM, 3000)),
        ([(S.TEAM, ScopeOverrides(max_thinking_tokens=2000))], {"explore_to": 6000}, (2000, S.TEAM, None)),
        ([(S.KEY, ScopeOverrides(budgets={D: 700}))], {"explore_to": 6000}, (700, S.KEY, None)),  # set: no explore
        ([], {"explore_to": 6000, "request_cap": 50}, (50, S.REQUEST, None)),
    ],
    ids=[
        "adaptive-base",
        "team-budget-wins",
        "key-ceiling",
        "caller-lowers",
        "client-named-never-raises",
        "exploration-doubles",
        "exploration-under-team-ceiling",
        "ceiling-below-base-no-exploration",
        "key-budget-no-exploration",
        "caller-cap-no-exploration",
    ],
)
def test_adaptive_base_and_exploration_under_the_layers(layers, kwargs, expected):
    d = resolve_budget(D, DEFAULT_BUDGETS, layers, base=ADAPTIVE, **kwargs)
    assert (d.budget, d.scope, d.explore_base) == expected
    assert d.exploration is (expected[2] is not None)


ceilings = st.one_of(st.none(), st.integers(0, 20000))


@given(ceilings, ceilings, st.one_of(st.none(), st.integers(0, 20000)), st.integers(0, 20000), st.integers(0, 40000))
def test_exploration_never_lifts_a_key_team_or_caller_limit(team_max, key_max, request_cap, base, explore_to):
    layers = [
        (S.TEAM, ScopeOverrides(max_thinking_tokens=team_max)),
        (S.KEY, ScopeOverrides(max_thinking_tokens=key_max)),
    ]
    d = resolve_budget(
        D, DEFAULT_BUDGETS, layers, base=(base, S.ADAPTIVE), explore_to=explore_to, request_cap=request_cap
    )
    for limit in (team_max, key_max, request_cap):
        if limit is not None:
            assert d.budget <= limit
    plain = resolve_budget(D, DEFAULT_BUDGETS, layers, base=(base, S.ADAPTIVE), request_cap=request_cap)
    assert d.budget >= plain.budget
    assert d.exploration is (d.budget > plain.budget)


def test_exploration_is_deterministic_and_about_the_share():
    ids = [f"call-{i}" for i in range(20000)]
    chosen = [i for i in ids if explores("seed", i, 0.02)]
    assert chosen == [i for i in ids if explores("seed", i, 0.02)]
    assert 0.015 < len(chosen) / len(ids) < 0.025
    assert chosen != [i for i in ids if explores("other seed", i, 0.02)]
    assert not explores("seed", "", 1.0) and not explores("seed", "x", 0.0)
    assert 0.0 <= explore_unit("s", "x") < 1.0


@pytest.mark.parametrize(
    ("base", "factor", "ceiling", "expected"), [(100, 2.0, 10000, 200), (100, 2.0, 150, 150), (100, 2.0, 50, 100)]
)
def test_exploration_budget(base, factor, ceiling, expected):
    assert exploration_budget(base, factor, ceiling) == expected


SETTINGS = AdaptiveSettings(
    enabled=True, min_samples=3, bounds=AdaptiveBounds(min=1, max=5000), explore_share=0.5, explore_seed="s"
)


def table_from(cells):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return BudgetTable.of(propose(cells, DEFAULT_BUDGETS, SETTINGS), now, now)


def test_lookup_task_cell_then_tier_cell_then_default():
    math_cell, chat_cell = CellKey("m", D, Task.MATH), CellKey("m", D, Task.CHAT)
    table = table_from({math_cell: tally([(100, False)] * 3), chat_cell: tally([(900, False)])})
    policy = AdaptivePolicy(SETTINGS, table)
    assert policy.start("m", D, Task.MATH, 8192) == (100, S.ADAPTIVE)
    # its parent: 100, 100, 100, 900 (S 0.25 after 100, 0 at 900: 0.1 is crossed at 100 + 0.6 x 800)
    assert policy.start("m", D, Task.CHAT, 8192) == (580, S.ADAPTIVE)
    assert policy.start("m", D, Task.CODE, 8192) == (580, S.ADAPTIVE)  # unseen task: the tier cell
    assert policy.start("other", D, Task.MATH, 8192) == (8192, S.TIER)
    assert policy.start(None, D, Task.MATH, 8192) == (8192, S.TIER)
    disabled = AdaptivePolicy(SETTINGS.model_copy(update={"enabled": False}), table)
    assert disabled.start("m", D, Task.MATH, 8192) == (8192, S.TIER)
    assert disabled.explore_to("any", 100) is None


def test_default_fallbacks_are_not_adaptive():
    cell = CellKey("m", D, Task.MATH)
    table = table_from({cell: tally([(100, False)])})  # 1 sample < 3: the default
    assert table.budgets == {}
    assert propose({cell: tally([(100, False)])}, DEFAULT_BUDGETS, SETTINGS)[cell].source is Source.DEFAULT


def test_explore_to_follows_the_seeded_hash_and_the_upper_bound():
    policy = AdaptivePolicy(SETTINGS)
    for call_id in ("a", "b", "c", "d", "e", "f"):
        expected = exploration_budget(4000, 2.0, 5000) if explores("s", call_id, 0.5) else None
        assert policy.explore_to(call_id, 4000) == expected
    assert {policy.explore_to(c, 4000) for c in "abcdef"} == {None, 5000}


def test_unseeded_policies_draw_their_own_seed():
    unseeded = SETTINGS.model_copy(update={"explore_seed": None})
    assert AdaptivePolicy(unseeded).seed != AdaptivePolicy(unseeded).seed


@pytest.mark.parametrize(
    ("now", "since", "until"),
    [
        ("2026-01-01T00:04:59+00:00", "2025-12-31T23:00:00+00:00", "2026-01-01T00:00:00+00:00"),
        ("2026-01-01T00:05:00+00:00", "2025-12-31T23:05:00+00:00", "2026-01-01T00:05:00+00:00"),
    ],
)
def test_windows_align_to_the_refresh_period(now, since, until):
    got = aligned_window(datetime.fromisoformat(now), 300.0, 3600.0)
    assert got == (datetime.fromisoformat(since), datetime.fromisoformat(until))

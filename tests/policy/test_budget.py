from hypothesis import given
from hypothesis import strategies as st

from thinkbudget_litellm.policy.budget import BudgetScope as S
from thinkbudget_litellm.policy.budget import resolve_budget
from thinkbudget_litellm.settings import ScopeOverrides
from thinkbudget_litellm.tiers import DEFAULT_BUDGETS, TIER_ORDER, Tier


def test_tier_default_applies_without_overrides():
    d = resolve_budget(Tier.COMPLEX, DEFAULT_BUDGETS, [])
    assert (d.budget, d.scope) == (2048, "tier")


def test_narrowest_trusted_scope_wins():
    layers = [
        (S.TEAM, ScopeOverrides(budgets={Tier.DEEP: 4096})),
        (S.KEY, ScopeOverrides(budgets={Tier.DEEP: 1000})),
        (S.USER, ScopeOverrides(budgets={Tier.DEEP: 3000})),
    ]
    d = resolve_budget(Tier.DEEP, DEFAULT_BUDGETS, layers)
    assert (d.budget, d.scope) == (3000, "user")
    d2 = resolve_budget(Tier.DEEP, DEFAULT_BUDGETS, layers[:2])
    assert (d2.budget, d2.scope) == (1000, "key")


def test_end_user_named_by_the_client_narrows_but_never_widens():
    key_capped = (S.KEY, ScopeOverrides(max_thinking_tokens=64))
    vip = (S.END_USER, ScopeOverrides(max_thinking_tokens=20_000, budgets={Tier.DEEP: 20_000}))
    d = resolve_budget(Tier.DEEP, DEFAULT_BUDGETS, [key_capped, vip])
    assert (d.budget, d.scope) == (64, "key")
    d = resolve_budget(Tier.DEEP, DEFAULT_BUDGETS, [vip])  # nor above the tier default
    assert (d.budget, d.scope) == (8192, "tier")
    small = (S.END_USER, ScopeOverrides(budgets={Tier.DEEP: 10}))
    assert resolve_budget(Tier.DEEP, DEFAULT_BUDGETS, [key_capped, small]).budget == 10
    roomy_session = (S.END_USER, ScopeOverrides(session_max_thinking_tokens=10**6))
    team_session = (S.TEAM, ScopeOverrides(session_max_thinking_tokens=100))
    d = resolve_budget(Tier.DEEP, DEFAULT_BUDGETS, [team_session, roomy_session], session_used=90)
    assert (d.budget, d.scope, d.session_cap) == (10, "session", 100)


def test_layer_without_tier_entry_keeps_broader_value():
    layers = [
        (S.TEAM, ScopeOverrides(budgets={Tier.DEEP: 4096})),
        (S.KEY, ScopeOverrides(budgets={Tier.SIMPLE: 64})),
    ]
    assert resolve_budget(Tier.DEEP, DEFAULT_BUDGETS, layers).scope == "team"


def test_every_ceiling_holds_a_key_cannot_lift_its_team_s():
    layers = [
        (S.TEAM, ScopeOverrides(max_thinking_tokens=256)),
        (S.KEY, ScopeOverrides(max_thinking_tokens=1024, budgets={Tier.DEEP: 4096})),
    ]
    d = resolve_budget(Tier.DEEP, DEFAULT_BUDGETS, layers)
    assert (d.budget, d.scope) == (256, "team")
    d = resolve_budget(Tier.DEEP, DEFAULT_BUDGETS, list(reversed(layers)))
    assert (d.budget, d.scope) == (256, "team")


def test_request_can_lower_but_not_raise():
    assert resolve_budget(Tier.MODERATE, DEFAULT_BUDGETS, [], request_cap=100).budget == 100
    d = resolve_budget(Tier.MODERATE, DEFAULT_BUDGETS, [], request_cap=100_000)
    assert (d.budget, d.scope) == (512, "tier")


def test_session_allowance():
    layers = [(S.TEAM, ScopeOverrides(session_max_thinking_tokens=1000))]
    d = resolve_budget(Tier.DEEP, DEFAULT_BUDGETS, layers, session_used=900)
    assert (d.budget, d.scope, d.session_cap) == (100, "session", 1000)
    assert resolve_budget(Tier.DEEP, DEFAULT_BUDGETS, layers, session_used=5000).budget == 0
    assert resolve_budget(Tier.SIMPLE, DEFAULT_BUDGETS, [], session_used=10**6, default_session_cap=None).budget == 128


budgets_st = st.dictionaries(st.sampled_from(TIER_ORDER), st.integers(0, 20_000), max_size=5)
layer_st = st.builds(
    ScopeOverrides,
    budgets=st.none() | budgets_st,
    max_thinking_tokens=st.none() | st.integers(0, 20_000),
)


@given(
    tier=st.sampled_from(TIER_ORDER),
    layers=st.lists(st.tuples(st.sampled_from([S.TEAM, S.KEY, S.USER, S.END_USER]), layer_st), max_size=4),
    cap=st.none() | st.integers(0, 20_000),
)
def test_request_cap_never_raises_budget(tier, layers, cap):
    without = resolve_budget(tier, DEFAULT_BUDGETS, layers)
    with_cap = resolve_budget(tier, DEFAULT_BUDGETS, layers, request_cap=cap)
    assert with_cap.budget <= without.budget
    if cap is not None:
        assert with_cap.budget <= cap
    assert with_cap.budget >= 0


@given(
    tier=st.sampled_from(TIER_ORDER),
    trusted=st.lists(st.tuples(st.sampled_from([S.TEAM, S.KEY, S.USER]), layer_st), max_size=3),
    named=layer_st,
)
def test_a_client_named_scope_never_raises_the_budget(tier, trusted, named):
    without = resolve_budget(tier, DEFAULT_BUDGETS, trusted)
    with_named = resolve_budget(tier, DEFAULT_BUDGETS, [*trusted, (S.END_USER, named)])
    assert with_named.budget <= without.budget

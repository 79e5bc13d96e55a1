"""Kaplan-Meier on counts: hand-computed cases, and properties against the plain empirical quantile."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkbudget_litellm.calibrate.survival import (
    Counts,
    empirical_quantile,
    kaplan_meier,
    merge,
    quantile,
    tally,
)

# (observations as (length, censored), q, expected quantile value or None, expected lower bound)
CASES = [
    pytest.param([(1, False), (2, True), (3, False), (4, True), (5, False)], 0.2, 1, None, id="first-event"),
    pytest.param(
        [(1, False), (2, True), (3, False), (4, True), (5, False)], 0.5, 5, None, id="censoring-moves-mass-up"
    ),
    pytest.param([(10, False)] * 9 + [(100, False)], 0.9, 10, None, id="exactly-at-q"),
    pytest.param([(1, False), (2, False), (3, False)] + [(10, True)] * 7, 0.9, None, 10, id="beyond-the-data"),
    pytest.param([(50, True)] * 4, 0.5, None, 50, id="all-censored"),
    pytest.param([(5, False), (5, True), (6, False)], 0.5, 6, None, id="tie-events-before-censored"),
]


@pytest.mark.parametrize(("obs", "q", "value", "bound"), CASES)
def test_km_quantiles_by_hand(obs, q, value, bound):
    result = quantile(kaplan_meier(tally(obs)), q)
    assert (result.value, result.lower_bound) == (value, bound)


def test_km_survival_steps_by_hand():
    curve = kaplan_meier(tally([(1, False), (2, True), (3, False), (4, True), (5, False)]))
    assert curve.times == (1, 3, 5)
    assert curve.survival == pytest.approx((0.8, 0.8 * 2 / 3, 0.0))
    assert (curve.samples, curve.censored, curve.max_event, curve.max_censored) == (5, 2, 5, 4)
    assert curve.at(0) == 1.0 and curve.at(2.5) == pytest.approx(0.8) and curve.at(5) == 0.0


def test_restricted_mean_is_the_area_under_s():
    curve = kaplan_meier(tally([(2, False), (4, False)]))  # S = 1 on [0,2), 0.5 on [2,4), 0 after
    assert curve.restricted_mean(1) == pytest.approx(1.0)
    assert curve.restricted_mean(3) == pytest.approx(2.5)
    assert curve.restricted_mean(10) == pytest.approx(3.0)  # the mean of 2 and 4


def test_tally_refuses_negative_lengths():
    with pytest.raises(ValueError, match=">= 0"):
        tally([(-1, False)])


def test_quantile_refuses_q_outside_0_1():
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        quantile(kaplan_meier(tally([(1, False)])), 1.0)


lengths = st.lists(st.integers(0, 5000), min_size=1, max_size=300)
qs = st.floats(0.01, 0.99)


@given(lengths, qs)
def test_without_censoring_km_is_the_empirical_quantile(values, q):
    assert quantile(kaplan_meier(tally((v, False) for v in values)), q).value == empirical_quantile(values, q)


@given(st.lists(st.tuples(st.integers(1, 3000), st.booleans()), min_size=1, max_size=200), qs)
def test_the_interpolated_quantile_lies_within_its_step(obs, q):
    curve = kaplan_meier(tally(obs))
    plain, line = quantile(curve, q), quantile(curve, q, interpolate=True)
    assert (plain.value is None) == (line.value is None) and plain.lower_bound == line.lower_bound
    if plain.value is not None:
        below = [t for t in curve.times if t < plain.value]
        assert (below[-1] if below else plain.value) <= line.value <= plain.value


def test_interpolation_by_hand():
    curve = kaplan_meier(tally([(100, False)] * 3 + [(900, False)]))  # S: 0.25 after 100, 0 at 900
    assert quantile(curve, 0.9).value == 900
    assert quantile(curve, 0.9, interpolate=True).value == 580  # 100 + (0.15 / 0.25) x 800


@given(lengths, qs)
def test_without_censoring_the_restricted_mean_is_the_mean_of_min(values, q):
    limit = empirical_quantile(values, q)
    curve = kaplan_meier(tally((v, False) for v in values))
    assert curve.restricted_mean(limit) == pytest.approx(sum(min(v, limit) for v in values) / len(values))


@given(st.lists(st.tuples(st.integers(1, 3000), st.booleans()), min_size=1, max_size=200), qs)
def test_censoring_never_lowers_the_quantile_below_treating_it_as_finished(obs, q):
    """Reading a censored length as finished (the naive estimate) can only pull the quantile down."""
    km = quantile(kaplan_meier(tally(obs)), q)
    naive = empirical_quantile([v for v, _ in obs], q)
    if km.value is not None:
        assert km.value >= naive
    else:
        assert km.lower_bound is not None and km.lower_bound >= naive


@given(st.lists(st.tuples(st.integers(0, 100), st.booleans()), max_size=100), st.integers(0, 3))
def test_counts_merge_like_one_tally(obs, split):
    a, b = obs[: split * 10], obs[split * 10 :]
    assert merge([tally(a), tally(b)]) == {k: v for k, v in tally(obs).items()}
    assert sum(c.total for c in tally(obs).values()) == len(obs)


def test_survival_is_monotone_and_ends_at_zero_without_censoring_at_the_top():
    curve = kaplan_meier({3: Counts(2, 1), 7: Counts(1, 0)})
    assert list(curve.survival) == sorted(curve.survival, reverse=True)
    assert math.isclose(curve.survival[-1], 0.0)

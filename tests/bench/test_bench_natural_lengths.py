"""Natural thinking lengths: deterministic per item, lognormal per label tier, clipped."""

from __future__ import annotations

import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.workloads.natural_lengths import THINK_LENGTHS, Lognormal, natural_lengths, unit_from_id
from thinkbudget_litellm.tiers import TIER_ORDER, Tier


def test_same_item_same_lengths_and_salts_differ() -> None:
    assert natural_lengths("fact-001", Tier.SIMPLE) == natural_lengths("fact-001", Tier.SIMPLE)
    assert unit_from_id("fact-001", "think") != unit_from_id("fact-001", "answer")


@pytest.mark.parametrize("tier", TIER_ORDER)
def test_empirical_median_matches_the_tier_median(tier: Tier) -> None:
    thinks = [natural_lengths(f"item-{i}", tier)[0] for i in range(4000)]
    median = THINK_LENGTHS[tier].median
    assert abs(statistics.median(thinks) - median) < 0.06 * median
    assert min(thinks) >= 32 and max(thinks) <= 12000


def test_medians_grow_with_the_tier_and_deep_mean_matches_ml_energy() -> None:
    medians = [THINK_LENGTHS[t].median for t in TIER_ORDER]
    assert medians == sorted(medians) and len(set(medians)) == len(medians)
    assert 6500 < THINK_LENGTHS[Tier.DEEP].mean < 7100  # ML.ENERGY v3: 6,988 problem-solving tokens


@given(st.floats(0.001, 0.999), st.floats(0.001, 0.999))
def test_quantile_is_monotone_and_clipped(u: float, v: float) -> None:
    d = Lognormal(600, 0.5, 100, 2000)
    lo, hi = sorted((u, v))
    assert 100 <= d.quantile(lo) <= d.quantile(hi) <= 2000


@pytest.mark.parametrize("u", [0.0, 1.0, -0.1])
def test_quantile_rejects_probabilities_outside_the_open_interval(u: float) -> None:
    with pytest.raises(ValueError):
        Lognormal(600, 0.5, 1, 10).quantile(u)

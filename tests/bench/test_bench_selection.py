"""Workload selection: stratified subsets and the traffic mix."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.workloads.items import BenchItem
from benchmarks.workloads.selection import TRAFFIC_MIX, allocate, stratified, traffic_mix
from thinkbudget_litellm.tiers import TIER_ORDER, Task, Tier


def items(per_tier: dict[Tier, int]) -> list[BenchItem]:
    return [
        BenchItem(f"{t.value}-{k}", ({"role": "user", "content": f"{t.value} {k}"},), t, Task.OTHER)
        for t, n in per_tier.items()
        for k in range(n)
    ]


def test_traffic_mix_is_mostly_light() -> None:
    assert sum(TRAFFIC_MIX.values()) == pytest.approx(1.0)
    assert TRAFFIC_MIX[Tier.TRIVIAL] + TRAFFIC_MIX[Tier.SIMPLE] == pytest.approx(0.45)


@given(st.integers(0, 500), st.lists(st.floats(0.0, 1.0), min_size=5, max_size=5).filter(lambda w: sum(w) > 0.01))
def test_allocate_sums_to_total_and_stays_within_one_of_exact(total: int, weights: list[float]) -> None:
    shares = dict(zip(TIER_ORDER, weights, strict=True))
    counts = allocate(total, shares)
    assert sum(counts.values()) == total
    for t in TIER_ORDER:
        assert abs(counts[t] - total * shares[t] / sum(weights)) < 1.0


def test_allocate_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        allocate(-1, TRAFFIC_MIX)
    with pytest.raises(ValueError):
        allocate(10, {Tier.SIMPLE: 0.0})


def test_stratified_takes_up_to_k_per_tier_deterministically() -> None:
    pool = items({Tier.TRIVIAL: 5, Tier.SIMPLE: 2, Tier.DEEP: 7})
    chosen = stratified(pool, 3)
    assert Counter(r.item.tier for r in chosen) == {Tier.TRIVIAL: 3, Tier.SIMPLE: 2, Tier.DEEP: 3}
    assert [r.request_id for r in chosen] == [r.request_id for r in stratified(list(reversed(pool)), 3)]
    assert stratified(pool, 0) == []


def test_traffic_mix_counts_follow_the_shares_and_reuse_items_cyclically() -> None:
    pool = items({t: 3 for t in TIER_ORDER})
    mix = traffic_mix(pool, 40)
    assert len(mix) == 40 and len({r.request_id for r in mix}) == 40
    assert Counter(r.item.tier for r in mix) == allocate(40, TRAFFIC_MIX)
    simple = [r.item.id for r in mix if r.item.tier is Tier.SIMPLE]
    assert len(simple) == 12 and set(Counter(simple).values()) == {4}  # 3 items, 4 times each
    assert [r.request_id for r in mix] == [r.request_id for r in traffic_mix(list(reversed(pool)), 40)]


def test_traffic_mix_needs_every_tier_it_draws() -> None:
    with pytest.raises(ValueError, match="deep"):
        traffic_mix(items({t: 2 for t in TIER_ORDER if t is not Tier.DEEP}), 40)

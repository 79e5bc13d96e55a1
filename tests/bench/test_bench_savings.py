"""Savings math against a measured baseline."""

from __future__ import annotations

import pytest

from benchmarks.workloads.results import RequestResult
from benchmarks.workloads.savings import (
    ALL,
    Rates,
    compare_runs,
    pair,
    percentile,
    saved_fraction,
    steady_rates,
    token_weight,
)


def row(run: str, rid: str, label: str, think: int, answer: int = 10, **kw: object) -> RequestResult:
    r = RequestResult("mix", run, rid, rid, label, "fact", thinking_tokens=think, answer_tokens=answer)
    for k, v in kw.items():
        setattr(r, k, v)
    return r


def test_percentile_interpolates() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0], 95) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([10.0, 0.0, 5.0], 100) == 10.0
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_saved_fraction() -> None:
    assert saved_fraction(200, 50) == 0.75
    assert saved_fraction(0, 0) is None
    assert saved_fraction(100, 120) == pytest.approx(-0.2)


def test_pairs_only_requests_that_succeeded_in_both_runs() -> None:
    base = [row("baseline", "a", "simple", 100), row("baseline", "b", "simple", 100, ok=False)]
    ext = [row("native", "b", "simple", 10), row("native", "a", "simple", 10), row("native", "c", "deep", 1)]
    assert [(b.request_id, e.request_id) for b, e in pair(base, ext)] == [("a", "a")]


def test_steady_rates_divide_the_baseline_window_by_its_weighted_tokens() -> None:
    base = [row("baseline", "a", "simple", 90, 10, prompt_tokens=100), row("baseline", "b", "deep", 190, 0)]
    assert token_weight(base[0]) == pytest.approx(110)
    rates = steady_rates(base, counter_j=600.0, bill_usd=3.0)
    assert rates.joules == pytest.approx(2.0) and rates.usd == pytest.approx(0.01)
    assert steady_rates(base, None, None) == Rates(None, None)


def test_compare_runs_per_tier_and_all() -> None:
    base = [
        row("baseline", "a", "trivial", 300, energy_j=30.0, ttft_ms=100.0, latency_ms=3000.0),
        row("baseline", "b", "trivial", 500, energy_j=50.0, ttft_ms=100.0, latency_ms=5000.0),
        row("baseline", "c", "deep", 6000, energy_j=600.0, ttft_ms=100.0, latency_ms=60000.0),
    ]
    ext = [
        row("stream", "a", "trivial", 32, tier="trivial", cut=True, energy_j=4.0, latency_ms=400.0),
        row("stream", "b", "trivial", 32, tier="trivial", cut=True, energy_j=4.0, latency_ms=400.0),
        row("stream", "c", "deep", 6000, tier="complex", cut=False, energy_j=700.0, latency_ms=61000.0),
    ]
    stats = {s.group: s for s in compare_runs(base, ext, Rates(joules=0.1, usd=None))}
    assert list(stats) == ["trivial", "deep", ALL]
    t = stats["trivial"]
    assert (t.n, t.think_base, t.think_ext) == (2, 400, 32)
    assert t.think_saved == pytest.approx(1 - 64 / 800)
    assert t.cut_frac == 1.0 and t.under_budget_frac == 0.0
    assert t.energy_base == pytest.approx(41.0) and t.energy_ext == pytest.approx(4.2)
    assert t.cost_base is None and t.cost_saved is None
    assert t.metered_energy_base == 40.0 and t.metered_energy_ext == 4.0
    assert t.latency_p50_base == 4000.0 and t.latency_p50_ext == 400.0
    assert stats["deep"].under_budget_frac == 1.0 and stats["deep"].think_saved == 0.0
    a = stats[ALL]
    assert a.n == 3 and a.cut_frac == pytest.approx(2 / 3)
    assert a.think_saved == pytest.approx(1 - 6064 / 6800)
    assert a.correct_base is None


def test_metered_mean_is_unknown_when_any_request_lacks_a_figure() -> None:
    base = [
        row("baseline", "a", "simple", 100, energy_j=1.0),
        row("baseline", "b", "simple", 100, energy_j=1.0),
    ]
    ext = [row("native", "a", "simple", 10, energy_j=0.1), row("native", "b", "simple", 10)]
    (s, _) = compare_runs(base, ext)
    assert s.metered_energy_base == 1.0 and s.metered_energy_ext is None

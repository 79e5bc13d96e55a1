"""Properties of one tick's split (tick_shares.split_tick)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkbudget_litellm.meter.tick_shares import Participant, TickShares, coverage, split_tick

weights = st.floats(min_value=0, max_value=1e4, allow_nan=False)


@st.composite
def participants(draw: st.DrawFn) -> list[Participant]:
    n = draw(st.integers(min_value=1, max_value=12))
    out = []
    for i in range(n):
        a = draw(st.floats(min_value=0.0, max_value=1.0))
        b = draw(st.floats(min_value=a, max_value=1.0))
        out.append(Participant(f"r{i}", draw(weights), a, b))
    return out


def _total(shares: TickShares) -> float:
    return shares.ours + shares.idle + shares.others


@given(participants(), st.one_of(st.none(), weights))
def test_fractions_are_non_negative_and_sum_to_one(parts: list[Participant], engine: float | None) -> None:
    shares = split_tick(0.0, 1.0, parts, engine)
    assert all(f >= 0 for f in shares.requests.values())
    assert shares.idle >= 0 and shares.others >= 0
    assert math.isclose(_total(shares), 1.0, rel_tol=1e-9)


@given(participants())
def test_full_coverage_splits_by_weight(parts: list[Participant]) -> None:
    parts = [Participant(p.call_id, p.weight, 0.0, 1.0) for p in parts]
    shares = split_tick(0.0, 1.0, parts)
    total = sum(p.weight for p in parts)
    assert shares.idle == pytest.approx(0.0, abs=1e-12)
    for p in parts:
        expected = p.weight / total if total > 0 else 1.0 / len(parts)
        assert shares.requests[p.call_id] == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_no_participant_is_idle_or_other_instances() -> None:
    assert split_tick(0.0, 1.0, []).idle == 1.0
    engine = split_tick(0.0, 1.0, [], engine_weight=50.0)
    assert engine.others == 1.0 and engine.idle == 0.0


def test_uncovered_time_goes_to_idle() -> None:
    shares = split_tick(0.0, 1.0, [Participant("a", 3.0, 0.25, 1.0), Participant("b", 1.0, 0.5, 1.0)])
    assert shares.idle == pytest.approx(0.25)
    assert shares.requests == pytest.approx({"a": 0.75 * 0.75, "b": 0.75 * 0.25})


def test_engine_denominator_gives_the_rest_to_other_instances() -> None:
    shares = split_tick(0.0, 1.0, [Participant("a", 30.0, 0.0, 1.0), Participant("b", 10.0, 0.5, 1.0)], 160.0)
    assert shares.requests == pytest.approx({"a": 30 / 160, "b": 10 / 160})
    assert shares.others == pytest.approx(120 / 160)
    assert shares.idle == 0.0
    # the engine counters lag our reports: never a negative "others"
    lagging = split_tick(0.0, 1.0, [Participant("a", 30.0, 0.0, 1.0)], 20.0)
    assert lagging.requests == {"a": 1.0} and lagging.others == 0.0


def test_no_tokens_anywhere_splits_by_active_time() -> None:
    shares = split_tick(0.0, 2.0, [Participant("a", 0.0, 0.0, 2.0), Participant("b", 0.0, 1.0, 2.0)], 0.0)
    assert shares.requests == pytest.approx({"a": 2 / 3, "b": 1 / 3})


def test_negative_weight_is_rejected() -> None:
    with pytest.raises(ValueError, match="weight"):
        split_tick(0.0, 1.0, [Participant("a", -1.0, 0.0, 1.0)])


@given(st.lists(st.tuples(st.floats(0, 10), st.floats(0, 10)), max_size=10))
def test_coverage_is_a_fraction_and_matches_a_fine_grid(raw: list[tuple[float, float]]) -> None:
    intervals = [(min(a, b), max(a, b)) for a, b in raw]
    c = coverage(0.0, 10.0, intervals)
    assert 0.0 <= c <= 1.0
    grid = 2000
    hits = sum(1 for i in range(grid) if any(lo <= (i + 0.5) * 10 / grid < hi for lo, hi in intervals))
    assert c == pytest.approx(hits / grid, abs=2 * len(intervals) / grid + 1e-9)

"""Counter steps, power integration and the money functions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkbudget_litellm.meter.cost import bill_usd, energy_cost_usd, gpu_cost_usd, gpu_seconds
from thinkbudget_litellm.meter.counter import CounterStep, CounterTracker, StepKind
from thinkbudget_litellm.meter.sources.power import PowerIntegrator
from thinkbudget_litellm.meter.validate import Rejection


def test_counter_steps() -> None:
    tracker = CounterTracker(stale_on_equal=True)
    assert tracker.reading(100.0, 0.0, 0.0) == CounterStep(StepKind.BASELINE)
    assert tracker.reading(130.0, 1.0, 1.0) == CounterStep(StepKind.DELTA, amount=30.0)
    assert tracker.reading(130.0, 2.0, 2.0) == CounterStep(StepKind.STALE)
    assert tracker.failure("dcgm timeout") == CounterStep(StepKind.ERROR, reason="dcgm timeout")
    assert tracker.reading(190.0, 3.0, 3.0) == CounterStep(StepKind.DELTA, amount=60.0)  # covers the failed read
    assert tracker.reading(5.0, 4.0, 4.0) == CounterStep(StepKind.RESET, rejection=Rejection.BACKWARDS)
    assert tracker.reading(15.0, 5.0, 5.0) == CounterStep(StepKind.DELTA, amount=10.0)  # new baseline after a reset
    assert tracker.reading(float("nan"), 6.0, 6.0) == CounterStep(StepKind.REJECTED, rejection=Rejection.NON_FINITE)
    assert tracker.last == 15.0
    tracker.rebaseline()
    assert tracker.reading(20.0, 7.0, 7.0) == CounterStep(StepKind.BASELINE)


def test_an_exact_counter_reports_zero_deltas() -> None:
    tracker = CounterTracker(stale_on_equal=False)
    tracker.reading(1.0, 0.0, 0.0)
    assert tracker.reading(1.0, 1.0, 1.0) == CounterStep(StepKind.DELTA, amount=0.0)


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=50))
def test_deltas_add_up_to_the_counter_movement(increments: list[float]) -> None:
    tracker = CounterTracker(stale_on_equal=True)
    value = 1000.0
    tracker.reading(value, 0.0, 0.0)
    total = 0.0
    for t, inc in enumerate(increments, start=1):
        value += inc
        step = tracker.reading(value, float(t), float(t))
        total += step.amount
    assert total == pytest.approx(value - 1000.0, rel=1e-9, abs=1e-6)


def test_power_integration_is_the_trapezoid_rule() -> None:
    integ = PowerIntegrator()
    assert integ.add(0.0, 100.0) == 0.0
    assert integ.add(1.0, 300.0) == pytest.approx(200.0)
    assert integ.add(3.0, 300.0) == pytest.approx(800.0)
    assert integ.add(2.0, 50.0) == pytest.approx(800.0)  # out of order: ignored for time
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            integ.add(4.0, bad)
    assert integ.joules == pytest.approx(800.0)  # a bad reading does not poison the integral


def test_money() -> None:
    assert gpu_seconds(10.0, 4) == 40.0
    assert gpu_cost_usd(3600.0, 2.5) == pytest.approx(2.5)
    assert energy_cost_usd(3_600_000.0, 0.15) == pytest.approx(0.15)
    assert bill_usd(1800.0, 8, 2.0) == pytest.approx(8.0)
    for bad in (
        lambda: gpu_cost_usd(-1, 1),
        lambda: energy_cost_usd(1, float("nan")),
        lambda: gpu_seconds(1, 0),
        lambda: gpu_cost_usd(float("inf"), 1),
        lambda: energy_cost_usd(1e300, 1e300),  # overflows to +inf
    ):
        with pytest.raises(ValueError):
            bad()

"""Counter steps, power integration and the money functions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkbudget_litellm.meter.cost import bill_usd, energy_cost_usd, gpu_cost_usd, gpu_seconds
from thinkbudget_litellm.meter.counter import CounterStep, CounterTracker
from thinkbudget_litellm.meter.sources.power import PowerIntegrator


def test_counter_steps() -> None:
    tracker = CounterTracker(stale_on_equal=True)
    assert tracker.reading(100.0) == CounterStep("baseline")
    assert tracker.reading(130.0) == CounterStep("delta", amount=30.0)
    assert tracker.reading(130.0) == CounterStep("stale")
    assert tracker.failure("dcgm timeout") == CounterStep("error", reason="dcgm timeout")
    assert tracker.reading(190.0) == CounterStep("delta", amount=60.0)  # covers the failed read
    assert tracker.reading(5.0) == CounterStep("reset")
    assert tracker.reading(15.0) == CounterStep("delta", amount=10.0)  # new baseline after a reset
    assert tracker.reading(float("nan")).kind == "error"
    assert tracker.last == 15.0
    tracker.rebaseline()
    assert tracker.reading(20.0) == CounterStep("baseline")


def test_an_exact_counter_reports_zero_deltas() -> None:
    tracker = CounterTracker(stale_on_equal=False)
    tracker.reading(1.0)
    assert tracker.reading(1.0) == CounterStep("delta", amount=0.0)


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=50))
def test_deltas_add_up_to_the_counter_movement(increments: list[float]) -> None:
    tracker = CounterTracker(stale_on_equal=True)
    value = 1000.0
    tracker.reading(value)
    total = 0.0
    for inc in increments:
        value += inc
        step = tracker.reading(value)
        total += step.amount
    assert total == pytest.approx(value - 1000.0, rel=1e-9, abs=1e-6)


def test_power_integration_is_the_trapezoid_rule() -> None:
    integ = PowerIntegrator()
    assert integ.add(0.0, 100.0) == 0.0
    assert integ.add(1.0, 300.0) == pytest.approx(200.0)
    assert integ.add(3.0, 300.0) == pytest.approx(800.0)
    assert integ.add(2.0, 50.0) == pytest.approx(800.0)  # out of order: ignored for time
    with pytest.raises(ValueError):
        integ.add(4.0, -1.0)


def test_money() -> None:
    assert gpu_seconds(10.0, 4) == 40.0
    assert gpu_cost_usd(3600.0, 2.5) == pytest.approx(2.5)
    assert energy_cost_usd(3_600_000.0, 0.15) == pytest.approx(0.15)
    assert bill_usd(1800.0, 8, 2.0) == pytest.approx(8.0)
    for bad in (
        lambda: gpu_cost_usd(-1, 1),
        lambda: energy_cost_usd(1, float("nan")),
        lambda: gpu_seconds(1, 0),
    ):
        with pytest.raises(ValueError):
            bad()

"""The pure reading checks, table by table: values, steps, spans, per-GPU parts, power bounds,
engine token counters, and the last guard on a request's figures."""

from __future__ import annotations

import dataclasses
import math

import pytest

from thinkbudget_litellm.meter.attribution import Ledger, LedgerConfig, Lost, Measured, RequestShare
from thinkbudget_litellm.meter.config import MeterConfig
from thinkbudget_litellm.meter.counter import CounterStep, CounterTracker, StepKind
from thinkbudget_litellm.meter.engine_tokens import EngineTokens, EngineTokenTracker, TokenStep
from thinkbudget_litellm.meter.hub import RequestEnergy, request_energy
from thinkbudget_litellm.meter.provenance import EnergyLabel, EnergyProvenance
from thinkbudget_litellm.meter.validate import (
    CounterWindow,
    PartsGuard,
    Rejection,
    check_step,
    check_value,
    power_bound_w,
)

NAN, INF = math.nan, math.inf
R = Rejection


@pytest.mark.parametrize(
    ("last", "value", "window_s", "max_rate", "expected"),
    [
        (100.0, NAN, 1.0, 1500.0, R.NON_FINITE),
        (100.0, INF, 1.0, 1500.0, R.NON_FINITE),
        (100.0, -INF, 1.0, 1500.0, R.NON_FINITE),
        (100.0, -1e308, 1.0, 1500.0, R.NEGATIVE),
        (100.0, -0.5, 1.0, 1500.0, R.NEGATIVE),
        (100.0, 99.0, 1.0, 1500.0, R.BACKWARDS),  # a negative delta
        (100.0, 100.0 + 1500.0 * 2 + 0.001, 2.0, 1500.0, R.IMPLAUSIBLE),  # above limit x window
        (100.0, 1e300, 2.0, 1500.0, R.IMPLAUSIBLE),
        (100.0, 100.0 + 1500.0 * 2 - 0.001, 2.0, 1500.0, None),  # huge but just under the limit
        (100.0, 100.0 + 1500.0 * 2, 2.0, 1500.0, None),  # exactly at the limit
        (100.0, 100.0, 0.0, 1500.0, None),  # no movement
        (100.0, 1e300, 2.0, None, None),  # no bound given
        (100.0, 101.0, -1.0, 1500.0, R.IMPLAUSIBLE),  # a clock that went back allows nothing
    ],
)
def test_check_step(last: float, value: float, window_s: float, max_rate: float | None, expected: R | None) -> None:
    assert check_step(last, value, window_s, max_rate) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.0, None), (1e18, None), (-1e-9, R.NEGATIVE), (NAN, R.NON_FINITE), ("12", R.NON_FINITE), (True, R.NON_FINITE)],
)
def test_check_value(value: float, expected: R | None) -> None:
    assert check_value(value) is expected


def test_the_span_starts_at_the_read_that_still_saw_the_older_value() -> None:
    """An exporter refreshing every second, read every 0.2 s: a delta can only have been produced
    after the last read that still saw the older value."""
    window = CounterWindow(max_staleness_s=30.0)
    window.baseline(sent=10.0)
    assert window.span(received=11.0) == pytest.approx(31.0)  # the baseline may be 30 s old
    window.same(sent=10.2)
    window.same(sent=10.8)
    window.moved(sent=11.0)  # first read of the new value
    assert window.span(received=11.05) == pytest.approx(0.25)  # produced after 10.8
    window.same(sent=11.6)
    assert window.span(received=12.0) == pytest.approx(1.2)


BASELINE, STALE = CounterStep(StepKind.BASELINE), CounterStep(StepKind.STALE)
RESET = CounterStep(StepKind.RESET, rejection=R.BACKWARDS)


def delta(amount: float) -> CounterStep:
    return CounterStep(StepKind.DELTA, amount)


def rejected(why: Rejection) -> CounterStep:
    return CounterStep(StepKind.REJECTED, rejection=why)


@pytest.mark.parametrize(
    ("readings", "steps"),
    [
        pytest.param(
            [(1000.0, 0.0), (1250.0, 1.0), (1250.0, 1.2), (1500.0, 2.0)],
            [BASELINE, delta(250.0), STALE, delta(250.0)],
            id="steady",
        ),
        pytest.param(
            [(1000.0, 0.0), (1250.0, 1.0), (1250.0 + 1500.0 * 2 + 1, 2.0), (1500.0, 3.0)],
            [BASELINE, delta(250.0), rejected(R.IMPLAUSIBLE), delta(250.0)],
            id="spike rejected; the next delta covers the gap",
        ),
        pytest.param(
            [(1000.0, 0.0), (-1e308, 1.0), (NAN, 2.0), (1500.0, 3.0)],
            [BASELINE, rejected(R.NEGATIVE), rejected(R.NON_FINITE), delta(500.0)],
            id="-1e308 and NaN keep the baseline",
        ),
        pytest.param(
            [(1000.0, 0.0), (1250.0, 1.0), (40.0, 2.0), (290.0, 3.0)],
            [BASELINE, delta(250.0), RESET, delta(250.0)],
            id="backwards: new baseline",
        ),
        pytest.param(
            [(NAN, 0.0), (-1.0, 1.0), (1000.0, 2.0), (1250.0, 3.0)],
            [rejected(R.NON_FINITE), rejected(R.NEGATIVE), BASELINE, delta(250.0)],
            id="bad first readings are not a baseline",
        ),
    ],
)
def test_counter_tracker_sequences(readings: list[tuple[float, float]], steps: list[CounterStep]) -> None:
    tracker = CounterTracker(stale_on_equal=True, max_staleness_s=0.0)
    assert [tracker.reading(v, t, t, max_rate=1500.0) for v, t in readings] == steps


def test_restart_after_a_source_found_a_reset() -> None:
    tracker = CounterTracker(stale_on_equal=True)
    tracker.reading(1000.0, 0.0, 0.0)
    assert tracker.restart(40.0, 1.0) == RESET
    assert tracker.reading(290.0, 2.0, 2.0, 1500.0) == delta(250.0)
    tracker.restart(None, 3.0)
    assert tracker.reading(300.0, 4.0, 4.0, 1500.0) == BASELINE


@pytest.mark.parametrize(
    ("parts", "expected", "kept"),
    [
        ({0: 1000.0, 1: 300.0}, None, {0: 1000.0, 1: 300.0}),
        ({0: 1250.0, 1: 50.0}, R.BACKWARDS, {0: 1250.0, 1: 50.0}),  # sum grows, GPU 1 was reset
        ({0: 1250.0, 1: NAN}, R.NON_FINITE, {0: 1000.0, 1: 300.0}),
        ({0: -1e308, 1: 400.0}, R.NEGATIVE, {0: 1000.0, 1: 300.0}),
        ({0: 1250.0}, R.BACKWARDS, {0: 1250.0}),  # a GPU's series vanished
        ({0: 1250.0, 1: 550.0}, None, {0: 1250.0, 1: 550.0}),
    ],
)
def test_parts_guard(parts: dict[int, float], expected: R | None, kept: dict[int, float]) -> None:
    guard: PartsGuard[int] = PartsGuard()
    guard.check({0: 1000.0, 1: 300.0})
    assert guard.check(parts) is expected
    assert guard.check(kept) is None  # what it kept is its baseline: nothing below it


@pytest.mark.parametrize(
    ("gpus", "configured", "enforced", "expected"),
    [
        (1, None, None, 1500.0),
        (8, None, None, 12000.0),
        (2, 400.0, None, 800.0),
        (2, 400.0, 1400.0, 800.0),  # configured wins
        (2, None, 1400.0, 2100.0),  # enforced limit x 1.5
        (0, None, None, 1500.0),
    ],
)
def test_power_bound(gpus: int, configured: float | None, enforced: float | None, expected: float) -> None:
    assert power_bound_w(gpus, configured, enforced) == pytest.approx(expected)


def test_meter_config_power_bound_uses_the_gpus_the_reading_sums() -> None:
    cfg = MeterConfig(source="nvml", gpu_count=2)
    assert cfg.power_bound_w(None, None) == 3000.0
    assert cfg.power_bound_w(8, None) == 12000.0  # dcgm summing every GPU of the node
    assert MeterConfig(source="nvml", gpu_count=2, max_watts_per_gpu=500.0).power_bound_w(None, 1400.0) == 1000.0


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        (EngineTokens(150.0, 2000.0), TokenStep(50.0 + 0.1 * 1000.0)),
        (EngineTokens(NAN, 2000.0), TokenStep(None, R.NON_FINITE)),
        (EngineTokens(150.0, INF), TokenStep(None, R.NON_FINITE)),
        (EngineTokens(-1e308, 2000.0), TokenStep(None, R.NEGATIVE)),
        (EngineTokens(90.0, 2000.0), TokenStep(None, R.BACKWARDS)),
        (EngineTokens(150.0, 900.0), TokenStep(None, R.BACKWARDS)),
        (EngineTokens(1e300, 2000.0), TokenStep(None, R.IMPLAUSIBLE)),
        (EngineTokens(100.0 + 2_000_000.0 - 1000.0, 2000.0), TokenStep(2_000_000.0 - 1000.0 + 100.0)),  # at 1e6/s
        (EngineTokens(100.0 + 2_000_000.0 - 1000.0 + 1, 2000.0), TokenStep(None, R.IMPLAUSIBLE)),
    ],
)
def test_engine_token_readings(second: EngineTokens, expected: TokenStep) -> None:
    tracker = EngineTokenTracker(prefill_weight=0.1)
    tracker.update(EngineTokens(100.0, 1000.0), 0.0, 0.0)
    tracker.update(EngineTokens(100.0, 1000.0), 1.0, 1.0)  # unchanged: the span still starts at t=0
    step = tracker.update(second, 2.0, 2.0, max_rate=1_000_000.0)
    assert step.rejection is expected.rejection
    assert step.weight == (pytest.approx(expected.weight) if expected.weight is not None else None)
    if step.weight is not None:
        assert math.isfinite(step.weight) and step.weight >= 0


@pytest.mark.parametrize(
    ("text", "provenance"),
    [
        ("measured:nvml", EnergyProvenance.MEASURED_NVML),
        ("measured:nvml-power", EnergyProvenance.MEASURED_NVML_POWER),
        ("measured:dcgm", EnergyProvenance.MEASURED_DCGM),
        ("estimated", EnergyProvenance.ESTIMATED),
        ("estimated(fallback:dcgm timeout)", EnergyProvenance.FALLBACK),
        ("unmetered(fallback:nvml absent)", EnergyProvenance.UNMETERED),
        ("none", EnergyProvenance.NONE),
        ("none(unknown call)", EnergyProvenance.NONE),
        ("simulated(measured:dcgm)", EnergyProvenance.SIMULATED),
        ("simulated(estimated(fallback:dcgm first reading))", EnergyProvenance.SIMULATED),
    ],
)
def test_labels_keep_their_text(text: str, provenance: EnergyProvenance) -> None:
    label = EnergyLabel.parse(text)
    assert label.provenance is provenance and label.text == text == str(label)


@pytest.mark.parametrize("text", ["measured:fake", "estimated(fallback)", "estimated(fallback:)", "simulated", ""])
def test_text_that_is_not_a_label(text: str) -> None:
    with pytest.raises(ValueError):
        EnergyLabel.parse(text)


def test_simulated_wraps_like_the_handler_did() -> None:
    e = RequestEnergy("c", "d", 3.0, 1.0, 0.001, 0.0, "estimated(fallback:dcgm timeout)", "token_share")
    assert e.as_simulated().source == f"simulated({e.source})"
    assert e.as_simulated().provenance is EnergyProvenance.SIMULATED and not e.measured


@pytest.mark.parametrize(
    "figures",
    [
        {"joules": NAN},
        {"joules": INF},
        {"joules": -1.0},
        {"gpu_seconds": INF},
        {"cost_usd": -0.01},
        {"energy_cost_usd": NAN},
        {"idle_joules": -1.0},
        {"estimated_joules": INF},
    ],
)
def test_request_energy_refuses_figures_that_cannot_be_billed(figures: dict[str, float]) -> None:
    base = {"joules": 1.0, "gpu_seconds": 1.0, "cost_usd": 0.0, "energy_cost_usd": 0.0}
    with pytest.raises(ValueError, match=next(iter(figures))):
        RequestEnergy("c", "d", **{**base, **figures}, source="measured:dcgm", attribution="token_share")  # type: ignore[arg-type]


def _share(**kw: float | None) -> RequestShare:
    ledger = Ledger(LedgerConfig(), start=0.0)
    ledger.start_request("c", 0.0, 0, streaming=True)
    ledger.add_tokens("c", 1)
    ledger.close_tick(1.0, Measured(100.0))
    share = ledger.settle_request("c", 1.0)
    assert share is not None
    return dataclasses.replace(share, **kw)


@pytest.mark.parametrize(
    ("joules", "gpu_s", "source", "reason"),
    [
        (100.0, 1.0, "measured:nvml", None),
        (NAN, 1.0, "unmetered(fallback:meter non-finite reading)", R.NON_FINITE),
        (INF, 1.0, "unmetered(fallback:meter non-finite reading)", R.NON_FINITE),
        (-5.0, 1.0, "unmetered(fallback:meter negative reading)", R.NEGATIVE),
        (1e308, INF, "measured:nvml", None),
    ],
)
def test_the_last_guard_on_a_request(joules: float, gpu_s: float, source: str, reason: R | None) -> None:
    cfg = MeterConfig(source="nvml", gpu_cost_per_hour=3.6, price_per_kwh=1e12)
    energy, rejection = request_energy("d", _share(joules=joules, gpu_seconds=gpu_s), cfg)
    assert energy.source == source and rejection is reason
    for figure in (energy.joules, energy.gpu_seconds, energy.cost_usd, energy.energy_cost_usd):
        assert figure is None or (math.isfinite(figure) and figure >= 0)
    if joules == 1e308:
        assert energy.energy_cost_usd is None  # 1e308 J x 1e12 $/kWh overflows: not priced
        assert energy.gpu_seconds is None and energy.cost_usd is None


@pytest.mark.parametrize("joules", [NAN, INF, -INF, -1.0])
def test_the_ledger_never_books_an_invalid_delta(joules: float) -> None:
    ledger = Ledger(LedgerConfig(source_name="nvml", busy_watts=300.0), start=0.0)
    ledger.close_tick(0.0, Lost("nvml first reading"))
    ledger.start_request("c", 0.0, 0, streaming=True)
    ledger.add_tokens("c", 1)
    ledger.close_tick(1.0, Measured(joules))
    share = ledger.settle_request("c", 1.0)
    assert share is not None and share.joules == pytest.approx(300.0)
    assert share.source == "estimated(fallback:nvml invalid reading)"

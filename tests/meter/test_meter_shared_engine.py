"""Several proxy instances sharing one engine (``tokens.source: vllm``): settlement windows.

In-process: ``WindowBook`` cases, the one-instance equivalence with the per-tick rule, and
``sim.shared_meter`` runs of 1-3 instances with unaligned ticks, observation lag, merged chunks,
a counter refreshed every second, streaming, non-streaming and cancelled requests."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thinkbudget_litellm.meter.attribution import Ledger, LedgerConfig, Measured, conservation_gap
from thinkbudget_litellm.meter.provenance import EnergyLabel, EnergyProvenance
from thinkbudget_litellm.meter.window_price import WindowBook
from thinkbudget_litellm.sim.shared_meter import Scenario, run

MEASURED = EnergyLabel(EnergyProvenance.MEASURED_DCGM)


def _book_with(window_s: float, ticks: list[tuple[float, float, float, float]]) -> tuple[WindowBook, list[int]]:
    """Ticks (end, energy, engine weight, our weight), our weight from one request per tick."""
    book = WindowBook(window_s)
    indices = []
    for end, energy, engine, ours in ticks:
        index = book.assign(end)
        book.settle_tick(index, energy, False, MEASURED, 1.0, engine, (ours, ours, ours), 1 if ours else 0)
        indices.append(index)
    return book, indices


@pytest.mark.parametrize(
    ("ticks", "credits", "others", "idle"),
    [
        # one window, we made 30 of the engine's 120 tokens: a quarter of 400 J
        ([(1.0, 200.0, 60.0, 10.0), (2.0, 200.0, 60.0, 20.0)], [100.0 / 3, 200.0 / 3], 300.0, 0.0),
        # lag: our 20 tokens counted in the window before, which had 60; the next window has none
        # of the engine's: they pay the last price (200/60 J per token), capped by the window's energy
        ([(2.0, 200.0, 60.0, 40.0), (4.0, 50.0, 0.0, 20.0)], [200.0 * 40 / 60, 50.0], 200.0 * 20 / 60, 0.0),
        # more of ours than the engine counted (late tokens from before): we take the whole window
        ([(2.0, 100.0, 10.0, 30.0)], [100.0], 0.0, 0.0),
    ],
)
def test_window_prices(
    ticks: list[tuple[float, float, float, float]], credits: list[float], others: float, idle: float
) -> None:
    book, indices = _book_with(2.0, ticks)
    closed = list(book.close_ready())
    got = [book.credit(i, (t[3], t[3], t[3])).joules for i, t in zip(indices, ticks, strict=True) if t[3] > 0]
    assert got == pytest.approx(credits)
    assert sum(c.others_j for c in closed) == pytest.approx(others)
    assert sum(c.idle_j for c in closed) == pytest.approx(idle)
    assert book.held_j == pytest.approx(0.0, abs=1e-9)


def test_a_request_settled_before_its_window_is_corrected_through_the_carry() -> None:
    book = WindowBook(2.0)
    i = book.assign(1.0)
    book.settle_tick(i, 100.0, False, MEASURED, 1.0, 10.0, (10.0, 10.0, 10.0), 1)
    early = book.credit(i, (10.0, 10.0, 10.0))
    assert early.joules == pytest.approx(100.0)  # all of the window so far
    book.assign(2.0)
    book.settle_tick(i, 100.0, False, MEASURED, 1.0, 30.0, (0.0, 0.0, 0.0), 0)  # only others' tokens
    (closed,) = book.close_ready()
    assert closed.carry_j == pytest.approx(200.0 * 10 / 40 - 100.0)  # it owed back 50 J
    assert closed.others_j == pytest.approx(150.0)
    assert book.held_j == pytest.approx(0.0, abs=1e-9)


def test_idle_before_any_token_is_held_then_split_by_the_token_share() -> None:
    book, _ = _book_with(1.0, [(1.0, 70.0, 0.0, 0.0)])
    assert next(iter(book.close_ready())).idle_j == 0.0 and book.held_j == pytest.approx(70.0)
    book, idx = _book_with(1.0, [(1.0, 70.0, 0.0, 0.0), (2.0, 100.0, 40.0, 10.0), (3.0, 70.0, 0.0, 0.0)])
    closed = list(book.close_ready())
    assert book.idle_share == pytest.approx(0.25)
    assert sum(c.idle_j for c in closed) == pytest.approx(0.25 * 140.0)
    assert sum(c.others_j for c in closed) == pytest.approx(0.75 * 140.0 + 75.0)
    book.credit(idx[1], (10.0, 10.0, 10.0))
    assert book.held_j == pytest.approx(0.0, abs=1e-9)


# ----------------------------------------------------------------------------- one instance


@st.composite
def schedules(draw: st.DrawFn) -> tuple[list[float], list[dict[str, int]]]:
    """Per tick: its energy and the tokens each streaming request made in it."""
    n_ticks = draw(st.integers(2, 25))
    energies = [draw(st.floats(0.0, 500.0)) for _ in range(n_ticks)]
    tokens = [{f"r{i}": draw(st.integers(0, 30)) for i in range(draw(st.integers(0, 4)))} for _ in range(n_ticks)]
    return energies, tokens


@settings(max_examples=60, deadline=None)
@given(schedules(), st.sampled_from([0.0, 0.6, 2.0]), st.sampled_from([0.2, 0.25]))
def test_one_instance_gets_the_per_tick_answer(
    schedule: tuple[list[float], list[dict[str, int]]], window_s: float, tick_s: float
) -> None:
    """Its counts are the engine's: every request gets sum over ticks of energy x its tokens / the
    tick's tokens, whatever the window (today's answer); idle ticks go to the idle bucket."""
    energies, tokens = schedule
    ledger = Ledger(LedgerConfig(prefill_weight=0.0, window_s=window_s), start=0.0)
    ids = sorted({cid for tick in tokens for cid in tick})
    for cid in ids:
        ledger.start_request(cid, 0.0, 0, streaming=True)
    expected = dict.fromkeys(ids, 0.0)
    idle = 0.0
    for k, (energy, made) in enumerate(zip(energies, tokens, strict=True)):
        total = sum(made.values())
        for cid, n in made.items():
            ledger.add_tokens(cid, n)
            if total:
                expected[cid] += energy * n / total
        idle += energy if total == 0 else 0.0
        ledger.close_tick((k + 1) * tick_s, Measured(energy), engine_weight=float(total))
    end = len(energies) * tick_s
    shares = {}
    for cid in ids:
        ledger.finish_request(cid, end, None)
        shares[cid] = ledger.settle_request(cid, end)
    ledger.close_tick(end + 10.0, Measured(0.0), engine_weight=0.0)  # every window complete
    for cid in ids:
        assert shares[cid] is not None
        assert shares[cid].joules == pytest.approx(expected[cid], abs=1e-6)
    totals = ledger.totals()
    if any(n for tick in tokens for n in tick.values()):
        assert totals.idle_j == pytest.approx(idle, abs=1e-6)
    else:  # no token ever: its share of the engine is unknown, so the idle energy waits
        assert totals.idle_j == 0.0 and totals.held_j == pytest.approx(idle, abs=1e-6)
    assert totals.others_j == pytest.approx(0.0, abs=1e-6)
    assert conservation_gap(totals, sum(energies)) == pytest.approx(0.0, abs=1e-6)


# ----------------------------------------------------------------------------- several instances


@pytest.mark.parametrize("instances", [1, 2, 3])
@pytest.mark.parametrize(
    "scenario",
    [
        {},  # lag up to 0.3 s, chunks of up to 4, 40% non-streaming, 15% cancelled, DCGM refresh 1 s
        {"lag_s": 0.0, "energy_refresh_s": 0.0},
        {"streaming_share": 0.0},
        {"tick_s": 0.5, "chunk": 12},
        {"read_failure_share": 0.1},
    ],
    ids=["mixed", "no-lag", "non-streaming", "slow-ticks-big-chunks", "failed-reads"],
)
def test_instances_add_up_to_the_meter(instances: int, scenario: dict[str, float]) -> None:
    for seed in (1, 2):
        out = run(Scenario(instances=instances, seed=seed, **scenario))  # type: ignore[arg-type]
        assert out.held_j == pytest.approx(0.0, abs=1e-6)
        for totals in out.totals:  # every instance's own books close
            assert conservation_gap(totals, out.meter_j) == pytest.approx(0.0, abs=1e-6 * out.meter_j)
        assert abs(out.energy_error) < 0.02, out.energy_error
        # GPU-seconds per token vary more between windows than joules per token (a quiet window
        # costs as many seconds as a busy one), so displaced tokens weigh more: measured up to +2.4%
        # with only non-streaming requests, whose tokens are spread over their whole time
        assert abs(out.gpu_error) < 0.025, out.gpu_error
        assert all((s.joules or 0.0) >= 0 for s in out.shares.values())


def test_per_tick_division_double_bills_and_windows_do_not() -> None:
    """The issue's measurement, in simulated time: per tick (window 0) two instances bill more than
    the meter; 2 s windows stay within 2%."""
    per_tick = run(Scenario(instances=2, window_s=0.0, tick_s=0.1, lag_s=0.3, seed=3))
    windows = run(Scenario(instances=2, window_s=2.0, tick_s=0.1, lag_s=0.3, seed=3))
    assert abs(windows.energy_error) < 0.02
    assert abs(per_tick.energy_error) > 2 * abs(windows.energy_error)


def test_ticks_without_an_engine_count_are_not_billed_per_instance() -> None:
    """A failed read (or a finish whose fresh sample timed out) leaves a tick without the engine's
    count. Split by the instance's own tokens, as before, every instance takes that tick whole (the
    e2e run on a loaded machine measured +16% to +54%); joined to its window, with the tokens in the
    next reading's delta, the instances still add up."""
    for seed in (1, 2):
        old = run(Scenario(instances=3, read_failure_share=0.1, shared=False, seed=seed))
        new = run(Scenario(instances=3, read_failure_share=0.1, seed=seed))
        assert old.energy_error > 0.05, old.energy_error
        assert abs(new.energy_error) < 0.02, new.energy_error
        assert abs(new.gpu_error) < 0.025, new.gpu_error


def test_non_streaming_weights_are_counted_once() -> None:
    out = run(Scenario(instances=2, streaming_share=0.0, cancel_share=0.0))
    sc = out.scenario
    for cid, share in out.shares.items():
        assert share.weight == pytest.approx(out.truth_weight[cid]), cid
    assert sc.instances == 2


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 3),
    st.floats(0.0, 0.4),
    st.floats(0.05, 0.6),
    st.integers(1, 10),
    st.sampled_from([0.0, 1.0, 2.0, 5.0]),
    st.integers(0, 10_000),
)
def test_unaligned_ticks_and_lag_keep_every_instances_books(
    instances: int, lag_s: float, tick_s: float, chunk: int, window_s: float, seed: int
) -> None:
    out = run(
        Scenario(
            instances=instances, lag_s=lag_s, tick_s=tick_s, chunk=chunk, window_s=window_s, seed=seed, requests=40
        )
    )
    for totals in out.totals:
        assert conservation_gap(totals, out.meter_j) == pytest.approx(0.0, abs=1e-6 * out.meter_j)
        assert totals.idle_share is None or 0.0 <= totals.idle_share <= 1.0
    assert out.held_j == pytest.approx(0.0, abs=1e-6)
    assert all((s.joules or 0.0) >= 0 and s.gpu_seconds >= 0 for s in out.shares.values())

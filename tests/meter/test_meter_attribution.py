"""Properties of the attribution ledger: conservation, proportionality, idle bucket, non-streaming
requests, forced ticks and the carry."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thinkbudget_litellm.meter.attribution import (
    Ledger,
    LedgerConfig,
    Lost,
    Measured,
    Pending,
    RequestShare,
    Unmetered,
    conservation_gap,
)

DT = 0.2


@dataclass(frozen=True)
class Req:
    call_id: str
    start: int  # first tick
    tokens: tuple[int, ...]  # generated per tick; len = number of ticks
    prompt: int
    streaming: bool | None
    extra: int  # completion tokens never reported while streaming

    @property
    def end(self) -> int:  # last tick (inclusive)
        return self.start + len(self.tokens) - 1


@st.composite
def requests(draw: st.DrawFn, streaming: st.SearchStrategy[bool | None] | None = None) -> list[Req]:
    n = draw(st.integers(min_value=1, max_value=16))
    out = []
    for i in range(n):
        out.append(
            Req(
                f"r{i}",
                draw(st.integers(0, 10)),
                tuple(draw(st.lists(st.integers(0, 20), min_size=1, max_size=8))),
                draw(st.integers(0, 400)),
                draw(streaming if streaming is not None else st.sampled_from([True, False, None])),
                draw(st.integers(0, 5)),
            )
        )
    return out


def drive(
    reqs: list[Req],
    energies: list[float],
    cfg: LedgerConfig,
    pending: set[int] = frozenset(),  # type: ignore[assignment]
) -> tuple[Ledger, dict[str, RequestShare], float]:
    """Run the schedule tick by tick; return the ledger, the shares and the counter's total."""
    ledger = Ledger(cfg, start=0.0)
    shares: dict[str, RequestShare] = {}
    counter = 0.0
    owed = 0.0  # energy the counter has not shown yet (pending ticks)
    for k, energy in enumerate(energies):
        t_end = (k + 1) * DT
        for r in reqs:
            if r.start == k:
                ledger.start_request(r.call_id, k * DT, r.prompt, r.streaming)
            if r.start <= k <= r.end and r.streaming is not False:
                ledger.add_tokens(r.call_id, r.tokens[k - r.start])
        finishing = [r for r in reqs if r.end == k]
        for r in finishing:
            total = sum(r.tokens) + (r.extra if r.streaming is not False else 0)
            ledger.finish_request(r.call_id, t_end, total)
        owed += energy
        last = k == len(energies) - 1
        if k in pending and not last:
            ledger.close_tick(t_end, Pending())
        else:
            ledger.close_tick(t_end, Measured(owed))
            counter += owed
            owed = 0.0
        for r in finishing:
            share = ledger.settle_request(r.call_id, t_end)
            assert share is not None
            shares[r.call_id] = share
    return ledger, shares, counter


def horizon(reqs: list[Req]) -> int:
    return max(r.end for r in reqs) + 3


energy_lists = st.lists(st.floats(min_value=0.0, max_value=500.0), min_size=30, max_size=30)


@settings(max_examples=60, deadline=None)
@given(requests(), energy_lists, st.booleans())
def test_conservation_any_mix(reqs: list[Req], energies: list[float], spread: bool) -> None:
    energies = energies[: horizon(reqs)]
    cfg = LedgerConfig(gpu_count=2, prefill_weight=0.1, spread_idle=spread)
    ledger, shares, counter = drive(reqs, energies, cfg)
    totals = ledger.totals()
    assert set(shares) == {r.call_id for r in reqs}
    assert all(s.joules is not None and s.joules >= 0 for s in shares.values())
    attributed = sum(s.joules or 0.0 for s in shares.values())
    assert attributed == pytest.approx(totals.attributed_j, rel=1e-9, abs=1e-6)
    assert conservation_gap(totals, counter) == pytest.approx(0.0, abs=1e-6 + 1e-9 * counter)
    # GPU-seconds: requests + idle add up to the wall time of all GPUs
    gpu = sum(s.gpu_seconds for s in shares.values()) + totals.idle_bucket_gpu_s
    assert gpu == pytest.approx(2 * DT * len(energies), rel=1e-9)
    if spread:  # the trailing ticks are idle; nothing idle before the last busy tick stays behind
        assert totals.idle_bucket_j == pytest.approx(sum(energies[max(r.end for r in reqs) + 1 :]), abs=1e-6)


def expected_streaming(reqs: list[Req], energies: list[float], prefill_weight: float) -> dict[str, float]:
    """Token share computed directly: every tick's energy by weight (prompt at the first token)."""
    first = {r.call_id: next((i for i, n in enumerate(r.tokens) if n > 0), len(r.tokens) - 1) for r in reqs}
    out = {r.call_id: 0.0 for r in reqs}
    for k, energy in enumerate(energies):
        live = [r for r in reqs if r.start <= k <= r.end]
        if not live:
            continue
        w = {
            r.call_id: r.tokens[k - r.start] + (prefill_weight * r.prompt if k - r.start == first[r.call_id] else 0)
            for r in live
        }
        total = sum(w.values())
        for r in live:
            out[r.call_id] += energy * (w[r.call_id] / total if total > 0 else 1 / len(live))
    return out


@settings(max_examples=60, deadline=None)
@given(requests(streaming=st.just(True)), energy_lists)
def test_each_streaming_share_matches_its_tokens(reqs: list[Req], energies: list[float]) -> None:
    reqs = [Req(r.call_id, r.start, r.tokens, r.prompt, True, 0) for r in reqs]
    energies = energies[: horizon(reqs)]
    _, shares, _ = drive(reqs, energies, LedgerConfig(prefill_weight=0.1))
    expected = expected_streaming(reqs, energies, 0.1)
    for cid, joules in expected.items():
        assert shares[cid].joules == pytest.approx(joules, rel=1e-9, abs=1e-6)
        assert shares[cid].source == "measured:nvml"
        assert shares[cid].estimated_joules == 0.0


def test_sixteen_concurrent_requests_sum_to_the_meter() -> None:
    reqs = [Req(f"r{i}", i % 4, tuple([(i % 5) + 1] * (3 + i)), 50 * i, True, 0) for i in range(16)]
    energies = [300.0 + 10 * k for k in range(horizon(reqs))]
    ledger, shares, counter = drive(reqs, energies, LedgerConfig(prefill_weight=0.1))
    busy = sum(energies[: max(r.end for r in reqs) + 1])
    assert sum(s.joules or 0.0 for s in shares.values()) == pytest.approx(busy, rel=0.01)
    expected = expected_streaming(reqs, energies, 0.1)
    for cid, joules in expected.items():
        assert shares[cid].joules == pytest.approx(joules, rel=1e-9)
    assert ledger.totals().idle_j == pytest.approx(counter - busy)


def test_idle_ticks_fill_the_bucket_and_spread_idle_hands_it_on() -> None:
    reqs = [Req("a", 3, (5, 5), 0, True, 0), Req("b", 3, (1, 1, 1), 0, True, 0)]
    energies = [70.0, 70.0, 70.0, 300.0, 300.0, 200.0, 70.0]
    ledger, shares, _ = drive(reqs, energies, LedgerConfig(prefill_weight=0.0))
    assert ledger.totals().idle_bucket_j == pytest.approx(280.0)
    assert shares["a"].idle_joules == 0.0
    ledger, spread, _ = drive(reqs, energies, LedgerConfig(prefill_weight=0.0, spread_idle=True))
    # the 210 J of the leading idle ticks go to the first busy tick's shares (5:1)
    assert spread["a"].idle_joules == pytest.approx(175.0)
    assert spread["b"].idle_joules == pytest.approx(35.0)
    assert spread["a"].joules == pytest.approx(shares["a"].joules + 175.0)  # type: ignore[operator]
    assert ledger.totals().idle_bucket_j == pytest.approx(70.0)  # the trailing idle tick waits


def test_non_streaming_tokens_are_spread_by_time_over_its_ticks() -> None:
    # a streams 10 tokens per tick for 4 ticks; b (non-streaming) reports 20 tokens at finish
    # after 4 ticks: 5 per tick by time, so b gets 5/15 of every shared tick.
    reqs = [Req("a", 0, (10, 10, 10, 10), 0, True, 0), Req("b", 0, (5, 5, 5, 5), 0, False, 0)]
    energies = [150.0] * 5
    ledger, shares, _ = drive(reqs, energies, LedgerConfig(prefill_weight=0.0))
    assert shares["b"].joules == pytest.approx(4 * 150.0 * 5 / 15)
    assert shares["a"].joules == pytest.approx(4 * 150.0 * 10 / 15)
    assert ledger.totals().forced_ticks == 0  # the ticks waited for b instead of guessing


def test_unknown_weight_is_estimated_when_a_tick_must_close_early() -> None:
    ledger = Ledger(LedgerConfig(prefill_weight=0.0), start=0.0)
    ledger.start_request("a", 0.0, 0, streaming=True)
    ledger.start_request("b", 0.0, 0, streaming=False)
    ledger.add_tokens("a", 10)
    ledger.close_tick(1.0, Measured(100.0))
    ledger.finish_request("a", 1.0, 10)
    a = ledger.settle_request("a", 1.0)  # a's figure is due: b's weight is estimated at a's rate
    assert a is not None and a.joules == pytest.approx(50.0)
    ledger.close_tick(2.0, Measured(100.0))
    ledger.finish_request("b", 2.0, 40)
    b = ledger.settle_request("b", 2.0)
    assert b is not None and b.joules == pytest.approx(150.0)
    assert ledger.totals().forced_ticks == 1


def test_max_age_forces_ticks_that_wait_too_long() -> None:
    ledger = Ledger(LedgerConfig(prefill_weight=0.0), start=0.0)
    ledger.start_request("b", 0.0, 0, streaming=False)
    for k in range(1, 11):
        ledger.close_tick(float(k), Measured(10.0))
    assert ledger.totals().open_ticks == 10
    ledger.expire(10.0, max_open_s=4.5, max_request_s=3600)
    assert ledger.totals().open_ticks == 5
    assert ledger.totals().attributed_j == pytest.approx(50.0)
    dropped = ledger.expire(11.0, max_open_s=4.5, max_request_s=5.0)
    assert dropped == ["b"] and ledger.totals().abandoned_requests == 1
    # its last second [10, 11] had no reading yet: estimated at the recent 10 W
    assert ledger.totals().attributed_j == pytest.approx(110.0)
    assert ledger.running_requests() == 0


def test_streaming_none_becomes_streaming_at_its_first_token() -> None:
    ledger = Ledger(LedgerConfig(prefill_weight=0.5), start=0.0)
    ledger.start_request("a", 0.0, 0, streaming=True)
    ledger.start_request("b", 0.0, 40, streaming=None)
    ledger.add_tokens("a", 10)
    ledger.close_tick(1.0, Measured(100.0))  # b unknown: tick waits
    assert ledger.totals().open_ticks == 1
    ledger.add_tokens("a", 10)
    ledger.add_tokens("b", 10)
    ledger.close_tick(2.0, Measured(100.0))  # b's first token: tick 1 was its queue time
    assert ledger.totals().open_ticks == 0
    for cid in ("a", "b"):
        ledger.finish_request(cid, 2.0, 20 if cid == "a" else 10)
    a, b = ledger.settle_request("a", 2.0), ledger.settle_request("b", 2.0)
    assert a is not None and b is not None
    # tick 1: all to a; tick 2: a 10 vs b 10 + 0.5 x 40 prompt
    assert a.joules == pytest.approx(100.0 + 100.0 * 10 / 40)
    assert b.joules == pytest.approx(100.0 * 30 / 40)


@settings(max_examples=60, deadline=None)
@given(requests(), energy_lists, st.sets(st.integers(0, 29), max_size=20))
def test_pending_counter_and_forced_estimates_still_conserve(
    reqs: list[Req], energies: list[float], pending: set[int]
) -> None:
    energies = energies[: horizon(reqs)]
    cfg = LedgerConfig(prefill_weight=0.1, busy_watts=300.0, idle_watts=50.0)
    ledger, shares, counter = drive(reqs, energies, cfg, pending)
    totals = ledger.totals()
    assert conservation_gap(totals, counter) == pytest.approx(0.0, abs=1e-6 + 1e-9 * counter)
    assert all(s.joules is not None and s.joules >= -1e-9 for s in shares.values())


def test_pending_run_is_spread_by_duration_and_forced_part_goes_through_the_carry() -> None:
    ledger = Ledger(LedgerConfig(prefill_weight=0.0), start=0.0)
    ledger.close_tick(1.0, Measured(100.0))  # 100 W measured
    ledger.start_request("a", 1.0, 0, streaming=True)
    ledger.start_request("b", 1.0, 0, streaming=True)
    ledger.add_tokens("a", 1)
    ledger.add_tokens("b", 1)
    ledger.close_tick(2.0, Pending())  # counter not updated yet
    ledger.finish_request("a", 2.5, 1)
    a = ledger.settle_request("a", 2.5)  # forces [1,2] and [2,2.5] with 100 W estimates
    # [1,2]: 1 token each -> 50; [2,2.5]: no tokens, both active the whole time -> 25
    assert a is not None and a.joules == pytest.approx(50.0 + 25.0)
    assert a.estimated_joules == pytest.approx(75.0)
    assert a.source == "measured:nvml"  # interpolated, corrected through the carry
    ledger.add_tokens("b", 1)
    ledger.close_tick(3.0, Measured(450.0))  # covers [1,3]: 2 s, 1.5 s of it forced (est 150)
    totals = ledger.totals()
    assert totals.carry_j == pytest.approx(0.0)  # 450 x 1.5/2 - 150 = 187.5 handed to b's tick
    ledger.finish_request("b", 3.0, 2)
    b = ledger.settle_request("b", 3.0)
    assert b is not None
    assert b.joules == pytest.approx(50.0 + 25.0 + 112.5 + 187.5)
    assert conservation_gap(ledger.totals(), 100.0 + 450.0) == pytest.approx(0.0)


def test_a_reading_closing_a_zero_length_tick_after_forced_ones_is_resolved() -> None:
    """The run a counter delta covers can be forced ticks plus a tick of no duration (a reading
    handled at the instant a finish closed the tick): the delta goes to the forced ticks' carry and
    the empty tick gets none (it used to divide by zero and leave the run unresolved)."""
    ledger = Ledger(LedgerConfig(prefill_weight=0.0), start=0.0)
    ledger.close_tick(1.0, Measured(100.0))
    ledger.start_request("a", 1.0, 0, streaming=True)
    ledger.add_tokens("a", 1)
    ledger.close_tick(2.0, Pending())
    ledger.finish_request("a", 2.5, 1)
    assert ledger.settle_request("a", 2.5) is not None  # forces [1,2] and [2,2.5] (estimates 150 J)
    ledger.close_tick(2.5, Measured(180.0))  # covers the forced 1.5 s and an empty tick
    totals = ledger.totals()
    assert totals.carry_j == pytest.approx(30.0)  # 180 - 150, for the next busy tick
    assert conservation_gap(totals, 100.0 + 180.0) == pytest.approx(0.0)


def test_lost_counter_is_estimated_with_a_fallback_label() -> None:
    ledger = Ledger(LedgerConfig(prefill_weight=0.0, busy_watts=250.0, gpu_count=2), start=0.0)
    ledger.start_request("a", 0.0, 0, streaming=True)
    ledger.add_tokens("a", 3)
    ledger.close_tick(1.0, Lost("nvml counter reset"))
    ledger.finish_request("a", 1.0, 3)
    a = ledger.settle_request("a", 1.0)
    assert a is not None and a.joules == pytest.approx(500.0)
    assert a.source == "estimated(fallback:nvml counter reset)"
    assert a.estimated_joules == pytest.approx(500.0)


def test_no_basis_for_an_estimate_gives_unknown_joules_not_zero() -> None:
    ledger = Ledger(LedgerConfig(prefill_weight=0.0), start=0.0)
    ledger.start_request("a", 0.0, 0, streaming=True)
    ledger.close_tick(1.0, Pending("dcgm timeout"))
    ledger.finish_request("a", 1.0, 0)
    a = ledger.settle_request("a", 1.0)
    assert a is not None and a.joules is None
    assert a.source == "unmetered(fallback:dcgm timeout)"


def test_unmetered_deployment_still_splits_gpu_seconds() -> None:
    ledger = Ledger(LedgerConfig(prefill_weight=0.0, has_energy=False, gpu_count=4), start=0.0)
    ledger.start_request("a", 0.0, 0, streaming=True)
    ledger.start_request("b", 0.0, 0, streaming=True)
    ledger.add_tokens("a", 3)
    ledger.add_tokens("b", 1)
    ledger.finish_request("a", 2.0, 3)
    ledger.finish_request("b", 2.0, 1)
    a, b = ledger.settle_request("a", 2.0), ledger.settle_request("b", 2.0)
    assert a is not None and b is not None
    assert a.joules is None and a.source == "none"
    assert a.gpu_seconds == pytest.approx(6.0) and b.gpu_seconds == pytest.approx(2.0)


def test_engine_denominator_leaves_other_instances_their_share() -> None:
    ledger = Ledger(LedgerConfig(prefill_weight=0.0), start=0.0)
    ledger.start_request("a", 0.0, 0, streaming=True)
    ledger.add_tokens("a", 25)
    ledger.close_tick(1.0, Measured(400.0), engine_weight=100.0)
    ledger.close_tick(2.0, Measured(400.0), engine_weight=80.0)  # only other instances
    ledger.finish_request("a", 2.0, 25)
    a = ledger.settle_request("a", 2.0)
    assert a is not None and a.joules == pytest.approx(100.0) and a.engine_denominator
    totals = ledger.totals()
    assert totals.others_j == pytest.approx(700.0) and totals.idle_j == 0.0 and totals.held_j == 0.0


def test_duplicate_and_unknown_ids_are_harmless() -> None:
    ledger = Ledger(LedgerConfig(), start=0.0)
    assert ledger.start_request("a", 0.0, 10)
    assert not ledger.start_request("a", 0.5, 10)
    ledger.add_tokens("ghost", 5)
    assert not ledger.finish_request("ghost", 1.0, 5)
    assert ledger.settle_request("ghost", 1.0) is None
    ledger.close_tick(1.0, Unmetered())
    assert math.isfinite(ledger.totals().attributed_gpu_s)


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match="gpu_count"):
        LedgerConfig(gpu_count=0)
    with pytest.raises(ValueError, match="busy_watts"):
        LedgerConfig(busy_watts=0.0)

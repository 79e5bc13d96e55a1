"""A request answered from LiteLLM's cache ran nothing on the GPU: discarding its meter entry leaves
it no share of any tick, the others get the energy, and the books still balance."""

from __future__ import annotations

import pytest

from thinkbudget_litellm.meter.attribution import Ledger, LedgerConfig, Measured, conservation_gap


@pytest.mark.parametrize("streaming", [True, False, None])
@pytest.mark.parametrize("discard_after_ticks", [0, 1, 2])
@pytest.mark.parametrize("window_s", [0.0, 3.0])  # 3 s: shared-engine settlement windows
@pytest.mark.parametrize("forced", [False, True])  # its ticks forced (aged out) before the discard
def test_a_discarded_request_takes_no_share_of_any_tick(
    streaming: bool | None, discard_after_ticks: int, window_s: float, forced: bool
) -> None:
    ledger = Ledger(LedgerConfig(prefill_weight=0.5, window_s=window_s), start=0.0)
    engine_weight = 10.0 if window_s else None  # the engine's own count: the real request's tokens only
    ledger.start_request("real", 0.0, 40, streaming=True)
    ledger.start_request("cached", 0.0, 40, streaming=streaming)
    counter = 0.0
    t = 0.0
    for _ in range(discard_after_ticks):
        ledger.add_tokens("real", 10)
        t += 1.0
        ledger.close_tick(t, Measured(100.0), engine_weight=engine_weight)
        counter += 100.0
    if forced:
        ledger.expire(t + 0.001, 0.0, 1e9)
    assert ledger.discard_request("cached")
    assert not ledger.discard_request("cached")  # once
    assert not ledger.has_request("cached")
    for _ in range(2):
        ledger.add_tokens("real", 10)
        t += 1.0
        ledger.close_tick(t, Measured(100.0), engine_weight=engine_weight)
        counter += 100.0
    ledger.finish_request("real", t, None)
    share = ledger.settle_request("real", t)
    totals = ledger.totals()
    assert share is not None and share.joules is not None
    assert totals.active_requests == 0
    assert totals.attributed_j == pytest.approx(share.joules)  # nothing is left attributed to the cached one
    assert conservation_gap(totals, counter) == pytest.approx(0.0, abs=1e-9)
    if not forced:  # the real request made every token of every tick: it gets all of it
        assert share.joules == pytest.approx(counter)
    else:  # what a forced tick had guessed for the cached one went to the idle bucket
        assert share.joules + totals.idle_bucket_j == pytest.approx(counter)


def test_discarding_an_unknown_request_is_harmless() -> None:
    ledger = Ledger(LedgerConfig(), start=0.0)
    assert not ledger.discard_request("nobody")

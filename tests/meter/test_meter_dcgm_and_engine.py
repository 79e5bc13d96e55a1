"""DCGM exporter scrape and vLLM token counters against a local aiohttp server."""

from __future__ import annotations

import pytest
from meter_fakes import FakeClock
from metrics_server import MetricsServer, dcgm_text, vllm_text

from thinkbudget_litellm.meter.config import MeterConfig
from thinkbudget_litellm.meter.engine_tokens import (
    EngineTokens,
    EngineTokenTracker,
    TokenStep,
    VllmTokenReader,
    parse_vllm_tokens,
)
from thinkbudget_litellm.meter.hub import MeterHub
from thinkbudget_litellm.meter.sources.base import RejectedReading, SourceError
from thinkbudget_litellm.meter.sources.dcgm import DcgmSource, parse_energy_joules
from thinkbudget_litellm.meter.validate import Rejection


def test_parse_sums_selected_or_all_gpus() -> None:
    text = dcgm_text({"0": 1_000_000, "1": 2_000_000, "2": 4_000_000})
    assert parse_energy_joules(text, None) == pytest.approx(7000.0)
    assert parse_energy_joules(text, ["0", "2"]) == pytest.approx(5000.0)
    with pytest.raises(SourceError, match="dcgm bad metrics"):
        parse_energy_joules(text, ["7"])
    with pytest.raises(SourceError, match="dcgm bad metrics"):
        parse_energy_joules("# TYPE x gauge\nx 1\n", None)
    with pytest.raises(SourceError, match="dcgm bad metrics"):
        parse_energy_joules('DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="0" 12\n', None)


async def test_scrape_ok_http_error_and_timeout() -> None:
    server = MetricsServer()
    async with server.running():
        server.text = dcgm_text({"0": 5_000_000, "1": 1_000_000})
        source = DcgmSource(server.url, [1], timeout_s=0.3)
        try:
            assert await source.read_joules(0.0) == pytest.approx(1000.0)
            server.status = 503
            with pytest.raises(SourceError, match="dcgm http 503"):
                await source.read_joules(0.0)
            server.status = 200
            server.delay_s = 1.0
            with pytest.raises(SourceError, match="dcgm timeout"):
                await source.read_joules(0.0)
        finally:
            await source.aclose()
    unreachable = DcgmSource(server.url, None, timeout_s=0.3)
    with pytest.raises(SourceError, match="dcgm unreachable"):
        await unreachable.read_joules(0.0)
    await unreachable.aclose()


async def test_hub_over_dcgm_survives_timeout_and_reset() -> None:
    server = MetricsServer()
    clock = FakeClock()
    async with server.running():
        mj = 10_000_000.0
        server.text = dcgm_text({"0": mj})
        hub = MeterHub(clock)
        hub.configure("d", MeterConfig(source="dcgm", url=server.url, devices=(0,), timeout_s=0.3))
        await hub.tick("d")  # baseline
        hub.request_started("a", "d", 0, streaming=True)
        for _ in range(3):
            clock.advance(1.0)
            mj += 200_000
            server.text = dcgm_text({"0": mj})
            hub.tokens_generated("a", 5)
            await hub.tick("d")
        # the exporter stalls for two ticks; the next good scrape covers the gap
        server.delay_s = 1.0
        for _ in range(2):
            clock.advance(1.0)
            mj += 200_000
            hub.tokens_generated("a", 5)
            await hub.tick("d")
        snap = hub.snapshot()["d"]
        assert not snap.healthy and snap.last_error == "dcgm timeout" and snap.read_failures == 2
        server.delay_s = 0.0
        server.text = dcgm_text({"0": mj})
        clock.advance(1.0)
        hub.tokens_generated("a", 5)
        await hub.tick("d")
        assert hub.snapshot()["d"].healthy
        energy = await hub.request_finished("a", 30)
        assert energy.source == "measured:dcgm"
        assert energy.joules == pytest.approx(5 * 200.0)  # the stalled ticks are measured, not lost
        # the exporter restarts: the counter goes back; that tick is estimated, labelled
        hub.request_started("b", "d", 0, streaming=True)
        clock.advance(1.0)
        server.text = dcgm_text({"0": 1000.0})
        hub.tokens_generated("b", 5)
        await hub.tick("d")
        b = await hub.request_finished("b", 5)
        assert b.source == "estimated(fallback:dcgm counter reset)"
        assert b.joules is not None and b.joules > 0
        assert hub.snapshot()["d"].counter_resets == 1
        await hub.stop()


def test_vllm_token_counters() -> None:
    tokens = parse_vllm_tokens(vllm_text(1200.0, 3000.0))
    assert tokens == EngineTokens(1200.0, 3000.0)
    with pytest.raises(SourceError):
        parse_vllm_tokens("# TYPE foo counter\nfoo_total 1\n")
    tracker = EngineTokenTracker(prefill_weight=0.1)
    assert tracker.update(EngineTokens(100, 1000), 0.0, 0.0) == TokenStep(None)  # baseline
    assert tracker.update(EngineTokens(150, 2000), 1.0, 1.0).weight == pytest.approx(50 + 100)
    assert tracker.update(None, 2.0, 2.0) == TokenStep(None)
    # a failed read keeps the baseline: the next delta covers the ticks in between
    assert tracker.update(EngineTokens(160, 2100), 3.0, 3.0).weight == pytest.approx(10 + 10)
    assert tracker.update(EngineTokens(10, 0), 4.0, 4.0) == TokenStep(None, Rejection.BACKWARDS)  # engine restarted


async def test_vllm_reader_scrapes() -> None:
    server = MetricsServer()
    async with server.running():
        server.text = vllm_text(42.0, 7.0)
        reader = VllmTokenReader(server.url, timeout_s=0.5)
        assert await reader.read() == EngineTokens(42.0, 7.0)
        server.status = 500
        with pytest.raises(SourceError, match="vllm http 500"):
            await reader.read()
        await reader.aclose()


async def test_each_gpu_series_is_checked() -> None:
    server = MetricsServer()
    async with server.running():
        server.text = dcgm_text({"0": 5_000_000, "1": 1_000_000})
        source = DcgmSource(server.url, None, timeout_s=2.0)
        try:
            assert await source.read_joules(0.0) == pytest.approx(6000.0)
            assert source.gpus_read == 2
            for text, rejection in (
                (dcgm_text({"0": 5_100_000, "1": float("nan")}), Rejection.NON_FINITE),
                (dcgm_text({"0": -1e308, "1": 1_100_000}), Rejection.NEGATIVE),
                (dcgm_text({"0": 9_000_000, "1": 10_000}), Rejection.BACKWARDS),  # GPU 1 reset, sum grew
                (dcgm_text({"0": 9_100_000, "1": 20_000, "2": 5}), Rejection.BACKWARDS),  # a series appeared
            ):
                server.text = text
                with pytest.raises(RejectedReading) as err:
                    await source.read_joules(0.0)
                assert err.value.rejection is rejection
            assert source.gpus_read == 3
            server.text = dcgm_text({"0": 9_200_000, "1": 30_000, "2": 1005})
            assert await source.read_joules(0.0) == pytest.approx(9231.0)
        finally:
            await source.aclose()

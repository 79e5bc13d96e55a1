"""Bad meter readings are rejected and the request is billed from the labelled estimate, through the hub:
a fake DCGM exporter over HTTP serving the values a red team fed the proxy, and a fake source table."""

from __future__ import annotations

import math

import pytest
from meter_fakes import FakeClock, FakeNvml, FakeSource, FakeTokenReader, fixed_source_factory
from metrics_server import MetricsServer, dcgm_text
from prometheus_client import REGISTRY

from thinkbudget_litellm.meter.config import MeterConfig
from thinkbudget_litellm.meter.hub import MeterHub, RequestEnergy
from thinkbudget_litellm.meter.sources.nvml import NvmlLibrary, NvmlSource

WATTS = 250.0  # what the (fake) GPU really draws


def rejected(source: str, reason: str) -> float:
    return (
        REGISTRY.get_sample_value("thinkbudget_meter_rejected_readings_total", {"source": source, "reason": reason})
        or 0.0
    )


def assert_billable(e: RequestEnergy) -> None:
    for figure in (e.joules, e.gpu_seconds, e.cost_usd, e.energy_cost_usd, e.total_cost_usd):
        assert figure is not None and math.isfinite(figure) and figure >= 0, e


async def test_red_team_dcgm_values_are_never_billed() -> None:
    """-1e308, NaN and infinities from the exporter: every request gets its real ~250 J (measured
    or estimated from the recent measured power, labelled so), never 1e305 J."""
    server = MetricsServer()
    clock = FakeClock()
    served = [None, -1e308, None, math.nan, None, math.inf, None, -math.inf, -1e308, None, math.nan, None]
    async with server.running():
        mj = 10_000_000.0
        server.text = dcgm_text({"0": mj})
        hub = MeterHub(clock)
        cfg = MeterConfig(source="dcgm", url=server.url, devices=(0,), timeout_s=2.0, watts=300.0)
        hub.configure("d", cfg)
        await hub.tick("d")  # baseline
        results = []
        for i, bad in enumerate(served):
            hub.request_started(f"r{i}", "d", 0, streaming=True)
            clock.advance(1.0)
            mj += WATTS * 1000.0
            server.text = dcgm_text({"0": mj if bad is None else bad})
            hub.tokens_generated(f"r{i}", 10)
            results.append(await hub.request_finished(f"r{i}", 10))
        await hub.stop()
    for e in results:
        assert_billable(e)
        assert e.joules == pytest.approx(WATTS), e
    for bad, e in zip(served, results, strict=True):
        if bad is None:
            assert e.source == "measured:dcgm"
        elif math.isnan(bad) or math.isinf(bad):
            assert e.source == "estimated(fallback:dcgm non-finite reading)"
        else:
            assert e.source == "estimated(fallback:dcgm negative reading)"
    assert hub.snapshot()["d"].rejected_readings == sum(bad is not None for bad in served)


async def test_one_gpu_reset_while_the_sum_grows_is_not_billed_as_measured() -> None:
    """GPU 1's counter restarts near 0 while GPU 0 counts on: the sum still grows (by 150 J instead
    of the real 500 J). Each GPU's series is checked: the interval is estimated, labelled."""
    server = MetricsServer()
    clock = FakeClock()
    async with server.running():
        gpu0, gpu1 = 10_000_000.0, 100_000.0
        server.text = dcgm_text({"0": gpu0, "1": gpu1})
        hub = MeterHub(clock)
        hub.configure(
            "d", MeterConfig(source="dcgm", url=server.url, devices=(0, 1), gpu_count=2, watts=300.0, timeout_s=2.0)
        )
        await hub.tick("d")
        hub.request_started("a", "d", 0, streaming=True)
        clock.advance(1.0)
        gpu0, gpu1 = gpu0 + 250_000, gpu1 + 250_000
        server.text = dcgm_text({"0": gpu0, "1": gpu1})
        await hub.tick("d")  # measured: 500 J
        clock.advance(1.0)
        gpu0, gpu1 = gpu0 + 250_000, 250_000.0  # GPU 1 was reset
        server.text = dcgm_text({"0": gpu0, "1": gpu1})
        hub.tokens_generated("a", 10)
        a = await hub.request_finished("a", 10)
        assert a.source == "estimated(fallback:dcgm counter reset)"
        assert a.joules == pytest.approx(500.0 + 500.0)  # the reset second estimated at the measured 500 W
        hub.request_started("b", "d", 0, streaming=True)
        clock.advance(1.0)
        gpu0, gpu1 = gpu0 + 250_000, gpu1 + 250_000
        server.text = dcgm_text({"0": gpu0, "1": gpu1})
        hub.tokens_generated("b", 10)
        b = await hub.request_finished("b", 10)
        assert b.source == "measured:dcgm" and b.joules == pytest.approx(500.0)  # counts on from the reset
        assert hub.snapshot()["d"].counter_resets == 1
        await hub.stop()


# (reading at t=1002 given 5000 J at 1000 and 5250 J at 1001, label of the request, its joules).
# The value read at 1002 was produced after the read at 1000 (which still saw an older value): its
# delta spans at most 2 s, so at the default 1500 W per GPU it may be up to 3000 J above 5250 J.
BOUND_J = 1500.0 * 2.0
CASES = [
    pytest.param(math.nan, "estimated(fallback:fake non-finite reading)", 500.0, "non_finite", id="nan"),
    pytest.param(math.inf, "estimated(fallback:fake non-finite reading)", 500.0, "non_finite", id="+inf"),
    pytest.param(-math.inf, "estimated(fallback:fake non-finite reading)", 500.0, "non_finite", id="-inf"),
    pytest.param(-1e308, "estimated(fallback:fake negative reading)", 500.0, "negative", id="-1e308"),
    pytest.param(-5.0, "estimated(fallback:fake negative reading)", 500.0, "negative", id="negative"),
    pytest.param(5100.0, "estimated(fallback:fake counter reset)", 500.0, "backwards", id="backwards"),
    pytest.param(
        5250.0 + BOUND_J + 1.0, "estimated(fallback:fake implausible reading)", 500.0, "implausible", id="above-bound"
    ),
    pytest.param(1e300, "estimated(fallback:fake implausible reading)", 500.0, "implausible", id="1e300"),
    pytest.param(5250.0 + BOUND_J - 1.0, "measured:nvml", 250.0 + BOUND_J - 1.0, None, id="just-under-bound"),
    pytest.param(5500.0, "measured:nvml", 500.0, None, id="good"),
]


@pytest.mark.parametrize(("value", "label", "joules", "reason"), CASES)
async def test_each_bad_reading_kind_is_billed_from_the_labelled_estimate(
    value: float, label: str, joules: float, reason: str | None
) -> None:
    clock = FakeClock(1000.0)
    source = FakeSource()
    source.joules = 5000.0
    hub = MeterHub(clock, source_factory=fixed_source_factory(source))
    hub.configure("d", MeterConfig(source="nvml", watts=300.0, gpu_cost_per_hour=3.6, price_per_kwh=0.2))
    await hub.tick("d")  # baseline at 1000
    hub.request_started("a", "d", 0, streaming=True)
    clock.advance(1.0)
    source.joules = 5250.0
    hub.tokens_generated("a", 5)
    await hub.tick("d")  # 250 J measured at 1001 (250 W)
    clock.advance(1.0)
    source.joules = value
    hub.tokens_generated("a", 5)
    before = rejected("fake", reason) if reason else 0.0
    a = await hub.request_finished("a", 10)
    assert_billable(a)
    assert a.source == label
    assert a.joules == pytest.approx(joules)  # an estimate: the 250 W measured before
    assert a.cost_usd == pytest.approx(2.0 * 3.6 / 3600)
    if reason is not None:
        assert rejected("fake", reason) == before + 1
        assert hub.snapshot()["d"].rejected_readings == 1
    else:
        assert hub.snapshot()["d"].rejected_readings == 0


async def test_a_configured_power_bound_is_the_limit() -> None:
    clock = FakeClock(1000.0)
    source = FakeSource()
    hub = MeterHub(clock, source_factory=fixed_source_factory(source))
    hub.configure("d", MeterConfig(source="nvml", watts=300.0, gpu_count=2, max_watts_per_gpu=400.0))
    await hub.tick("d")
    assert hub.snapshot()["d"].power_bound_w == 800.0
    for delta, accepted in ((800.0, True), (1601.0, False)):  # 1 s after a baseline; then 2 s span
        hub.request_started("a", "d", 0, streaming=True)
        clock.advance(1.0)
        source.add(delta)
        hub.tokens_generated("a", 1)
        a = await hub.request_finished("a", 1)
        assert a.measured is accepted, a.source


async def test_a_source_that_returns_junk_is_rejected_not_crashed() -> None:
    clock = FakeClock()
    source = FakeSource()
    hub = MeterHub(clock, source_factory=fixed_source_factory(source))
    hub.configure("d", MeterConfig(source="nvml", watts=300.0))
    await hub.tick("d")
    hub.request_started("a", "d", 0, streaming=True)
    clock.advance(1.0)
    source.joules = "lots"
    a = await hub.request_finished("a", 3)
    assert a.source == "estimated(fallback:fake non-finite reading)" and a.joules == pytest.approx(300.0)
    assert hub.errors == 0


async def test_nvml_driver_reset_and_enforced_limit() -> None:
    """All counters go back after a driver reload: labelled estimate, never a negative delta. The
    enforced limit (700 W x 1.5 per GPU) bounds what a reading may show."""
    fake = FakeNvml(devices=2)
    clock = FakeClock()
    nvml = NvmlSource([0, 1], library=NvmlLibrary(fake))
    hub = MeterHub(clock, source_factory=fixed_source_factory(nvml))
    hub.configure("d", MeterConfig(source="nvml", gpu_count=2, watts=300.0))
    await hub.tick("d")
    assert hub.snapshot()["d"].power_bound_w == pytest.approx(2 * 700.0 * 1.5)
    hub.request_started("a", "d", 0, streaming=True)
    clock.advance(1.0)
    fake.energy_mj = [v + 300_000 for v in fake.energy_mj]
    await hub.tick("d")  # 600 J measured
    clock.advance(1.0)
    fake.energy_mj = [1_000, 2_000]  # driver reloaded
    hub.tokens_generated("a", 4)
    a = await hub.request_finished("a", 4)
    assert a.source == "estimated(fallback:nvml counter reset)"
    assert a.joules == pytest.approx(600.0 + 600.0)
    hub.request_started("b", "d", 0, streaming=True)
    clock.advance(1.0)
    fake.energy_mj = [v + 2_000_000 for v in fake.energy_mj]  # 4000 J, the first delta after the reset:
    b = await hub.request_finished("b", 4)  # its baseline may be stale (max_pending_s), so it is plausible
    assert b.source == "measured:nvml"
    hub.request_started("c", "d", 0, streaming=True)
    clock.advance(1.0)
    fake.energy_mj = [v + 2_200_000 for v in fake.energy_mj]  # 4400 J: above 2100 W x 2 s span
    c = await hub.request_finished("c", 4)
    assert c.source == "estimated(fallback:nvml implausible reading)"
    assert_billable(c)
    await hub.stop()


async def test_bad_engine_token_counters_fall_back_to_the_proxy_denominator() -> None:
    clock = FakeClock()
    source = FakeSource()
    engine = FakeTokenReader()
    hub = MeterHub(clock, source_factory=fixed_source_factory(source), token_reader_factory=lambda _d, _c: engine)
    hub.configure(
        "d", MeterConfig(source="nvml", token_source="vllm", token_url="http://127.0.0.1:1/metrics", prefill_weight=0)
    )
    await hub.tick("d")
    counts = {r: rejected("vllm", r) for r in ("non_finite", "backwards", "implausible")}
    hub.request_started("a", "d", 0, streaming=True)
    for generated in (100.0, math.nan, 300.0, -math.inf, 400.0, 350.0, 1e300, 500.0):
        before = hub.snapshot()["d"].rejected_readings
        clock.advance(1.0)
        source.add(400.0)
        engine.generated = generated
        hub.tokens_generated("a", 25)
        await hub.tick("d")
        bad = not (math.isfinite(generated) and generated >= 0) or generated in (350.0, 1e300)
        assert hub.snapshot()["d"].rejected_readings == before + bad, generated
    a = await hub.request_finished("a", 200)
    assert_billable(a)
    assert a.joules is not None and 0 < a.joules <= 8 * 400.0 + 1e-6
    assert a.attribution == "token_share:vllm"
    assert {r: rejected("vllm", r) - n for r, n in counts.items()} == {
        "non_finite": 2,
        "backwards": 1,
        "implausible": 1,
    }

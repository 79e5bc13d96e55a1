"""MeterHub end to end with a fake clock and fake sources."""

from __future__ import annotations

import asyncio
import random

import pytest
from meter_fakes import FakeClock, FakeNvml, FakeSource, FakeTokenReader, fixed_source_factory

from thinkbudget_litellm.meter.config import MeterConfig, MeterConfigError
from thinkbudget_litellm.meter.cost import bill_usd
from thinkbudget_litellm.meter.hub import MeterHub, RequestEnergy
from thinkbudget_litellm.meter.sources.nvml import NvmlLibrary, NvmlSource
from thinkbudget_litellm.settings import DeploymentSettings

TICK = 0.2


def make_hub(source: FakeSource | None, **cfg: object) -> tuple[MeterHub, FakeClock]:
    clock = FakeClock()
    hub = MeterHub(clock, source_factory=fixed_source_factory(source))
    hub.configure("d", MeterConfig(**{"source": "nvml", **cfg}))
    return hub, clock


async def test_sixteen_concurrent_requests_add_up_and_match_their_tokens() -> None:
    rng = random.Random(7)
    source = FakeSource()
    hub, clock = make_hub(source, gpu_count=2, gpu_cost_per_hour=2.0, price_per_kwh=0.3, prefill_weight=0.1)
    await hub.tick("d")
    start_joules = source.joules
    # 16 requests, different lengths (4..40 ticks), rates and prompts, staggered starts
    plan = {
        f"r{i}": {"start": i % 4, "ticks": 4 + 2 * i + rng.randrange(0, 3), "rate": rng.randint(1, 9)}
        for i in range(16)
    }
    prompts = {cid: rng.randint(10, 2000) for cid in plan}
    expected = {cid: 0.0 for cid in plan}
    reported = {cid: 0 for cid in plan}
    results: dict[str, RequestEnergy] = {}
    last = max(p["start"] + p["ticks"] for p in plan.values())
    for step in range(last):
        for cid, p in plan.items():
            if p["start"] == step:
                hub.request_started(cid, "d", prompts[cid], streaming=True)
        clock.advance(TICK)
        energy = rng.uniform(80.0, 140.0)
        source.add(energy)
        weights = {}
        for cid, p in plan.items():
            if p["start"] <= step < p["start"] + p["ticks"]:
                n = rng.randint(0, 2 * p["rate"])
                for _ in range(n):
                    hub.tokens_generated(cid, 1)
                first = reported[cid] == 0 and n > 0
                reported[cid] += n
                weights[cid] = n + (0.1 * prompts[cid] if first else 0.0)
        total = sum(weights.values())
        for cid, w in weights.items():
            expected[cid] += energy * (w / total if total else 1 / len(weights))
        ending = [cid for cid, p in plan.items() if p["start"] + p["ticks"] - 1 == step]
        if ending:
            reads = source.reads
            done = await asyncio.gather(*(hub.request_finished(cid, reported[cid]) for cid in ending))
            assert source.reads == reads + 1  # concurrent finishes share one fresh sample
            results.update(zip(ending, done, strict=True))
        else:
            await hub.tick("d")
    assert set(results) == set(plan)
    metered = source.joules - start_joules
    attributed = sum(r.joules or 0.0 for r in results.values())
    snap = hub.snapshot()["d"]
    assert attributed + snap.idle_bucket_j == pytest.approx(metered, rel=1e-9)
    assert attributed == pytest.approx(metered, rel=0.01)  # never idle: all of it is attributed
    for cid, r in results.items():
        assert r.joules == pytest.approx(expected[cid], rel=1e-9), cid
        assert r.source == "measured:nvml" and r.attribution == "token_share"
        assert r.energy_cost_usd == pytest.approx(r.joules * 0.3 / 3.6e6)  # type: ignore[operator]
    # dollars: requests + idle = the bill for the whole wall time
    wall = clock.t - 1000.0
    cost = sum(r.cost_usd or 0.0 for r in results.values())
    assert cost + snap.idle_cost_usd == pytest.approx(bill_usd(wall, 2, 2.0), rel=1e-9)
    assert snap.active_requests == 0 and snap.open_ticks == 0


async def test_non_streaming_and_unknown_mode_requests_conserve() -> None:
    source = FakeSource()
    hub, clock = make_hub(source, prefill_weight=0.0)
    await hub.tick("d")
    base = source.joules
    hub.request_started("s", "d", 0, streaming=True)
    hub.request_started("n", "d", 0, streaming=False)
    hub.request_started("u", "d", 0)  # unknown: behaves as non-streaming until a token arrives
    for _ in range(5):
        clock.advance(TICK)
        source.add(100.0)
        hub.tokens_generated("s", 4)
        await hub.tick("d")
    assert hub.snapshot()["d"].open_ticks == 5  # waiting for n and u
    clock.advance(TICK)
    source.add(100.0)
    n, u = await asyncio.gather(hub.request_finished("n", 24), hub.request_finished("u", 12))
    s = await hub.request_finished("s", 20)
    # by time: n did 4 tokens per tick, u 2, s reported 4 (its last tick: 0)
    assert n.joules == pytest.approx(5 * 100 * 4 / 10 + 100 * 4 / 6)
    assert u.joules == pytest.approx(5 * 100 * 2 / 10 + 100 * 2 / 6)
    assert s.joules == pytest.approx(5 * 100 * 4 / 10)
    assert sum(r.joules or 0 for r in (n, u, s)) == pytest.approx(source.joules - base)


async def test_unknown_calls_and_deployments_do_not_raise() -> None:
    hub, _ = make_hub(FakeSource())
    hub.tokens_generated("ghost", 3)
    ghost = await hub.request_finished("ghost", 10)
    assert ghost.source == "none(unknown call)" and ghost.joules is None and ghost.attribution == "none"
    hub.request_started("x", "not-configured", 100)
    hub.tokens_generated("x", 3)
    x = await hub.request_finished("x", 3)
    assert x.source == "none(unconfigured deployment)" and x.deployment_id == "not-configured"
    assert x.total_cost_usd is None
    hub.request_started("odd", "d", "many")  # type: ignore[arg-type]
    for bad in (None, "3", float("nan"), -2, 1e30):
        hub.tokens_generated("odd", bad)  # type: ignore[arg-type]
    odd = await hub.request_finished("odd", "12")  # type: ignore[arg-type]
    assert odd.deployment_id == "d" and odd.weight_tokens == 0.0
    hub.request_started("dup", "d", 1)
    hub.request_started("dup", "d", 1)
    assert hub.stray_calls == 2
    assert (await hub.request_finished("dup", None)).deployment_id == "d"


async def test_no_energy_source_still_splits_gpu_cost() -> None:
    clock = FakeClock()
    hub = MeterHub(clock)
    hub.configure("d", MeterConfig(source="none", gpu_count=4, gpu_cost_per_hour=1.8))
    hub.request_started("a", "d", 0, streaming=True)
    hub.request_started("b", "d", 0, streaming=True)
    clock.advance(10.0)
    hub.tokens_generated("a", 30)
    hub.tokens_generated("b", 10)
    a = await hub.request_finished("a", 30)
    b = await hub.request_finished("b", 10)
    assert a.joules is None and a.source == "none" and a.energy_cost_usd is None
    assert a.gpu_seconds == pytest.approx(30.0) and b.gpu_seconds == pytest.approx(10.0)
    assert (a.cost_usd or 0) + (b.cost_usd or 0) == pytest.approx(bill_usd(10.0, 4, 1.8))
    assert a.total_cost_usd == a.cost_usd


async def test_estimate_source_integrates_configured_watts() -> None:
    clock = FakeClock()
    hub = MeterHub(clock)
    hub.configure("d", MeterConfig(source="estimate", watts=300.0, idle_watts=50.0, gpu_count=2))
    await hub.tick("d")
    clock.advance(4.0)  # idle
    await hub.tick("d")
    hub.request_started("a", "d", 0, streaming=True)
    clock.advance(2.0)
    hub.tokens_generated("a", 10)
    a = await hub.request_finished("a", 10)
    assert a.source == "estimated" and a.joules == pytest.approx(300 * 2 * 2.0)
    assert hub.snapshot()["d"].idle_j == pytest.approx(50 * 2 * 4.0)


@pytest.mark.parametrize(
    ("watts", "joules", "label"),
    [
        (250.0, 250.0 * 1.0, "estimated(fallback:nvml absent)"),
        (None, None, "unmetered(fallback:nvml absent)"),
    ],
)
async def test_absent_nvml_degrades_to_a_labelled_figure(watts: float | None, joules: float | None, label: str) -> None:
    clock = FakeClock()
    nvml = NvmlSource([0], library=NvmlLibrary(FakeNvml(absent=True)))
    hub = MeterHub(clock, source_factory=fixed_source_factory(nvml))
    hub.configure("d", MeterConfig(source="nvml", watts=watts))
    await hub.tick("d")
    hub.request_started("a", "d", 0, streaming=True)
    clock.advance(1.0)
    hub.tokens_generated("a", 10)
    a = await hub.request_finished("a", 10)
    assert a.source == label
    assert a.joules == (pytest.approx(joules) if joules is not None else None)
    snap = hub.snapshot()["d"]
    assert not snap.healthy and snap.last_error == "nvml absent"


async def test_counter_that_never_recovers_is_estimated_after_max_pending() -> None:
    clock = FakeClock()
    source = FakeSource()
    hub = MeterHub(clock, source_factory=fixed_source_factory(source), max_pending_s=0.9)
    hub.configure("d", MeterConfig(source="nvml", watts=100.0))
    await hub.tick("d")
    clock.advance(1.0)
    source.add(200.0)  # 200 W measured
    await hub.tick("d")
    source.fail = "fake error"
    for _ in range(6):
        clock.advance(TICK)
        await hub.tick("d")
    snap = hub.snapshot()["d"]
    # after 5 ticks (1.0 s > 0.9 s) the run was given up and estimated at the recent 200 W
    assert snap.estimated_j == pytest.approx(200.0 * TICK * 5)
    assert snap.pending_s == pytest.approx(TICK)
    source.fail = None
    source.add(1e6)  # whatever happened meanwhile is not counted twice: new baseline
    clock.advance(TICK)
    await hub.tick("d")
    snap = hub.snapshot()["d"]
    assert snap.estimated_j == pytest.approx(200.0 * TICK * 7)
    assert snap.metered_j == pytest.approx(200.0 + 200.0 * TICK * 7)
    assert snap.healthy and snap.pending_s == 0.0


async def test_slow_meter_does_not_hold_the_request() -> None:
    clock = FakeClock()
    source = FakeSource()
    hub = MeterHub(clock, source_factory=fixed_source_factory(source))
    hub.configure("d", MeterConfig(source="nvml", timeout_s=0.05))
    await hub.tick("d")
    hub.request_started("a", "d", 0, streaming=True)
    clock.advance(1.0)
    source.add(300.0)
    await hub.tick("d")
    clock.advance(0.5)
    source.hang = True
    hub.tokens_generated("a", 3)
    a = await asyncio.wait_for(hub.request_finished("a", 3), timeout=5.0)
    assert a.joules == pytest.approx(300.0 + 150.0)  # the last 0.5 s interpolated at 300 W
    assert a.estimated_joules == pytest.approx(150.0)
    assert hub.snapshot()["d"].slow_samples + hub.snapshot()["d"].read_failures >= 1
    await hub.stop()


@pytest.mark.parametrize(
    ("window_s", "expected_j"),
    [
        (0.0, 100.0 + 400.0),  # per tick: 25 of 100 tokens, then 50 of 50
        (2.0, 800.0 * 75 / 150),  # both ticks in one 2 s window: 75 of its 150 tokens
    ],
)
async def test_engine_counters_are_the_denominator(window_s: float, expected_j: float) -> None:
    clock = FakeClock()
    source = FakeSource()
    engine = FakeTokenReader()
    hub = MeterHub(clock, source_factory=fixed_source_factory(source), token_reader_factory=lambda _d, _c: engine)
    hub.configure(
        "d",
        MeterConfig(
            source="nvml",
            token_source="vllm",
            token_url="http://127.0.0.1:1/metrics",
            token_window_s=window_s,
            prefill_weight=0.0,
        ),
    )
    await hub.tick("d")
    hub.request_started("a", "d", 0, streaming=True)
    clock.advance(1.0)
    source.add(400.0)
    engine.generated += 100  # 25 ours, 75 from other proxy instances
    hub.tokens_generated("a", 25)
    await hub.tick("d")
    clock.advance(1.0)
    source.add(400.0)
    engine.generated += 50
    hub.tokens_generated("a", 50)
    a = await hub.request_finished("a", 75)
    assert a.attribution == "token_share:vllm"
    assert a.joules == pytest.approx(expected_j)
    assert hub.snapshot()["d"].others_j == pytest.approx(800.0 - expected_j)


async def test_configure_is_idempotent_and_validates() -> None:
    made: list[FakeSource] = []

    def factory(_d: str, _c: MeterConfig, _now: float) -> FakeSource:
        made.append(FakeSource())
        return made[-1]

    hub = MeterHub(FakeClock(), source_factory=factory)
    cfg = MeterConfig(source="nvml", gpu_count=2)
    hub.configure("d", cfg)
    hub.configure("d", MeterConfig(source="nvml", gpu_count=2))
    assert len(made) == 1 and hub.configured("d")
    hub.request_started("a", "d", 0, streaming=True)
    hub.configure("d", MeterConfig(source="nvml", gpu_count=4))  # changed: new meter, old one retires
    assert len(made) == 2
    await hub.request_finished("a", 0)  # finishes on the meter it started on
    await asyncio.sleep(0)
    assert made[0].closed and not made[1].closed
    for bad, needle in (
        ({"source": "estimate"}, "the estimate source needs watts"),
        ({"source": "dcgm"}, "the dcgm source needs url"),
        ({"source": "none", "token_source": "vllm"}, "the vllm token source needs url"),
        ({"source": "nvml", "tick_s": 0.01}, r"energy\.tick_s"),
        ({"source": "nvml", "devices": ()}, r"energy\.devices: .*empty"),
        ({"source": "estimate", "watts": 2000.0}, "above max_watts_per_gpu"),
        ({"gpu_cost_per_hour": float("inf")}, r"gpu\.cost_per_hour"),
        ({"wattz": 3}, "unknown meter setting 'wattz'"),
    ):
        with pytest.raises(MeterConfigError, match=needle):
            MeterConfig(**bad)


def test_settings_map_to_meter_config() -> None:
    settings = DeploymentSettings.model_validate(
        {
            "gpu": {"name": "H100", "count": 2, "cost_per_hour": 2.5},
            "energy": {
                "source": "dcgm",
                "url": "http://127.0.0.1:9400/metrics",
                "devices": [0, 1],
                "tick_s": 0.1,
                "spread_idle": True,
                "price_per_kwh": 0.12,
            },
            "tokens": {"source": "vllm", "url": "http://127.0.0.1:8000/metrics"},
        }
    )
    cfg = MeterConfig.from_settings(settings)
    assert cfg == MeterConfig(
        source="dcgm",
        devices=(0, 1),
        url="http://127.0.0.1:9400/metrics",
        tick_s=0.1,
        spread_idle=True,
        price_per_kwh=0.12,
        gpu_count=2,
        gpu_name="H100",
        gpu_cost_per_hour=2.5,
        token_source="vllm",
        token_url="http://127.0.0.1:8000/metrics",
    )
    hub = MeterHub()
    hub.configure("d", settings)
    hub.configure("d", settings)
    assert hub.snapshot()["d"].source == "measured:dcgm"


async def test_background_ticks_start_and_stop() -> None:
    source = FakeSource(stale_on_equal=False)
    hub = MeterHub(source_factory=fixed_source_factory(source))
    hub.configure("d", MeterConfig(source="nvml", tick_s=0.05))
    await hub.start()
    await hub.start()
    await asyncio.sleep(0.3)
    await hub.stop()
    reads = source.reads
    assert reads >= 3 and source.closed
    await asyncio.sleep(0.1)
    assert source.reads == reads  # no task left behind
    assert hub.snapshot()["d"].reads == reads


async def test_cancelled_finish_still_settles_the_request() -> None:
    clock = FakeClock()
    source = FakeSource()
    hub = MeterHub(clock, source_factory=fixed_source_factory(source))
    hub.configure("d", MeterConfig(source="nvml", timeout_s=10.0))
    await hub.tick("d")
    hub.request_started("a", "d", 0, streaming=True)
    source.hang = True
    task = asyncio.ensure_future(hub.request_finished("a", 0))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    snap = hub.snapshot()["d"]
    assert snap.active_requests == 0 and snap.open_ticks == 0
    await hub.stop()


async def test_requests_never_finished_are_dropped() -> None:
    clock = FakeClock()
    source = FakeSource(stale_on_equal=False)
    hub = MeterHub(clock, source_factory=fixed_source_factory(source), max_request_s=5.0)
    hub.configure("d", MeterConfig(source="nvml"))
    await hub.tick("d")
    hub.request_started("lost", "d", 0, streaming=True)
    clock.advance(6.0)
    await hub.tick("d")
    snap = hub.snapshot()["d"]
    assert snap.abandoned_requests == 1 and snap.active_requests == 0
    assert (await hub.request_finished("lost", 1)).source == "none(unknown call)"


class _LateAnswerSource(FakeSource):
    """A counter whose answer can be handled ``stall`` seconds after it was read (an event loop
    busy elsewhere); the engine keeps drawing ``watts`` meanwhile."""

    def __init__(self, clock: FakeClock, watts: float) -> None:
        super().__init__()
        self.clock, self.watts, self.stall = clock, watts, 0.0

    async def read_joules(self, now: float) -> float:
        value = await super().read_joules(now)
        if self.stall:
            self.clock.advance(self.stall)
            self.add(self.watts * self.stall)
            self.stall = 0.0
        return float(value)


async def test_a_reading_handled_late_closes_its_tick_when_it_was_taken() -> None:
    """The tick ends when the counter was read. Closed when the answer was handled, 3 s later, the
    next 0.2 s tick would carry the stall's 300 J (1,600 W) and a request forced meanwhile would be
    estimated at several times the engine's 100 W."""
    clock = FakeClock()
    source = _LateAnswerSource(clock, watts=100.0)
    hub = MeterHub(clock, source_factory=fixed_source_factory(source))
    hub.configure("d", MeterConfig(source="nvml", prefill_weight=0.0))
    await hub.tick("d")
    hub.request_started("a", "d", 0, streaming=True)
    for _ in range(5):  # 100 W, read on time
        clock.advance(0.2)
        source.add(20.0)
        hub.tokens_generated("a", 2)
        await hub.tick("d")
    clock.advance(0.2)
    source.add(20.0)
    source.stall = 3.0
    await hub.tick("d")  # read now, handled 3 s later
    clock.advance(0.2)
    source.add(20.0)
    await hub.tick("d")  # its delta holds the stall's 300 J
    a = await hub.request_finished("a", 12)
    assert a.joules == pytest.approx(100.0 * 4.4)
    hub.request_started("b", "d", 0, streaming=True)
    clock.advance(1.0)  # the counter does not move: b is forced on an estimate of the recent power
    hub.tokens_generated("b", 5)
    b = await hub.request_finished("b", 5)
    assert b.estimated_joules == pytest.approx(100.0, rel=0.05)

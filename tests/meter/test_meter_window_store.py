"""Shared denominator per wall-clock window through a store (issue 15; ``window_price``,
``window_store``): the pure core table-driven (lag, unaligned ticks, merged chunks, tokens nobody
saw, idle, a late publication, a failing store), the simulator with 1-3 instances, the hub with a
store shared by two hubs and with a failing one, and the Redis store on a throwaway redis-server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.meter.meter_fakes import FakeClock, FakeSource, FakeTokenReader, fixed_source_factory
from thinkbudget_litellm.meter.attribution import conservation_gap
from thinkbudget_litellm.meter.config import MeterConfig
from thinkbudget_litellm.meter.hub import MeterHub
from thinkbudget_litellm.meter.provenance import EnergyLabel, EnergyProvenance
from thinkbudget_litellm.meter.window_price import Closed, WindowBook
from thinkbudget_litellm.meter.window_store import (
    MemoryWindowStore,
    RedisWindowStore,
    WindowSums,
    window_key,
)
from thinkbudget_litellm.sim.shared_meter import Scenario, run

MEASURED = EnergyLabel(EnergyProvenance.MEASURED_DCGM)
W = 2.0


@dataclass(frozen=True)
class Tick:
    inst: str
    start: float
    end: float
    energy: float  # J (GPU-seconds are the tick's duration)
    engine: float  # the engine's token weight in the tick
    ours: float  # this instance's weight seen in the tick


@dataclass
class Books:
    credits: dict[str, float]  # instance -> J credited to its requests
    gpu: dict[str, float]
    idle: dict[str, float]
    others: dict[str, float]


def _settle(ticks: Sequence[Tick], late: Sequence[str] = (), failing: bool = False) -> Books:
    """Every instance runs its ticks (one request per instance, weight in every tick it saw), then
    publishes its weight and the windows are sealed; instances in ``late`` publish only after the
    others sealed. ``failing``: the store answers nothing."""
    names = sorted({t.inst for t in ticks})
    books = {n: WindowBook(W, settle_s=0.0) for n in names}
    for book in books.values():
        book.share_through_store(True)
    weights: dict[str, dict[int, float]] = {n: {} for n in names}
    closed: dict[str, list[Closed]] = {n: [] for n in names}
    for t in ticks:
        book = books[t.inst]
        index = book.assign(t.end, t.start)
        held = weights[t.inst]
        new = 1 if t.ours > 0 and index not in held else 0
        if t.ours > 0:
            held[index] = held.get(index, 0.0) + t.ours
        weight = (t.ours, t.ours, t.ours)
        if t.engine == 0:
            closed[t.inst].append(book.idle_tick(index, t.energy, t.end - t.start, weight, new, (t.start, t.end)))
        else:
            book.settle_tick(index, t.energy, False, MEASURED, t.end - t.start, t.engine, weight, new, (t.start, t.end))
    sums = WindowSums()
    end = max(t.end for t in ticks) + 1.0

    def publish(n: str) -> None:
        for index, w in books[n].to_publish(end):
            books[n].published(index, w, None if failing else sums.add(window_key("t", index), n, w))

    def seal(n: str) -> None:
        for index in books[n].to_seal(end):
            if failing:  # no answer until the book gives up on the store
                assert books[n].sealed(index, None, end) is None
                released = books[n].sealed(index, None, end + books[n].give_up_s)
            else:
                released = books[n].sealed(index, sums.seal(window_key("t", index), n), end)
            if released is not None:
                closed[n].append(released)

    for n in names:
        if n not in late:
            publish(n)
    for n in names:
        if n not in late:
            seal(n)
    for n in late:
        publish(n)
        seal(n)
    out = Books({}, {}, {}, {})
    for n in names:
        book = books[n]
        closed[n] += list(book.close_ready())
        credits = [book.credit(i, (w, w, w)) for i, w in weights[n].items()]
        out.credits[n] = sum(c.joules for c in credits)
        out.gpu[n] = sum(c.gpu_seconds for c in credits)
        out.idle[n] = sum(c.idle_j for c in closed[n])
        out.others[n] = sum(c.others_j for c in closed[n])
        assert book.held_j == pytest.approx(0.0, abs=1e-9), n
        metered = sum(t.energy for t in ticks if t.inst == n)
        assert out.credits[n] + out.idle[n] + out.others[n] == pytest.approx(metered), n  # its own books close
    return out


CASES = {
    # one instance saw 60 of the engine's 100 tokens (the rest ran on after a cut): its tokens pay
    # for the whole window (the engine-counter rule gave 60% and left the rest to nobody)
    "tokens-nobody-saw": (
        [Tick("a", 0, 1, 100, 50, 30), Tick("a", 1, 2, 100, 50, 30)],
        {"a": 200.0},
        {"a": 0.0},
    ),
    # two instances, one window: split by their weights, whatever the engine counted
    "two-instances": (
        [Tick("a", 0, 2, 400, 50, 30), Tick("b", 0, 2, 400, 50, 10)],
        {"a": 300.0, "b": 100.0},
        {"a": 0.0, "b": 0.0},
    ),
    # lag: a's 20 tokens of window 1 reach it in window 2; window 1 is b's alone, window 2 is
    # priced over everything seen in it: 100 x 40/60 and 100 x 20/60; the two add up to the meter
    "lag": (
        [
            Tick("a", 0, 2, 100, 40, 0),
            Tick("a", 2, 4, 100, 40, 40),
            Tick("b", 0, 2, 100, 40, 20),
            Tick("b", 2, 4, 100, 40, 20),
        ],
        {"a": 100 * 40 / 60, "b": 100 + 100 * 20 / 60},
        {"a": 0.0, "b": 0.0},
    ),
    # unaligned ticks at 100 W and 10 tokens/s, 5/s each: b's tick (1.5, 2.5) straddles the edge
    # and gives window 1 its first half; window 1 sums 10 + 7.5, window 2 10 + 12.5
    "unaligned-ticks": (
        [Tick("a", s, s + 1, 100, 10, 5) for s in (0, 1, 2, 3)]
        + [Tick("b", 0, 1.5, 150, 15, 7.5), Tick("b", 1.5, 2.5, 100, 10, 5), Tick("b", 2.5, 4, 150, 15, 7.5)],
        {"a": 200 * 10 / 17.5 + 200 * 10 / 22.5, "b": 200 * 7.5 / 17.5 + 200 * 12.5 / 22.5},
        {"a": 0.0, "b": 0.0},
    ),
    # a stalled instance: a's event loop stalls for 4 s, so its tick (1, 5) spans window 2, in which
    # no tick of a's ended; the tick's energy is spread by time over windows 1-3 (100, 200, 100 J)
    # and window 2 is priced with its own sum (b's weight alone). Before: the 400 J went to window
    # 3, priced with a's 25 of 35, while b had taken all of window 2: 781 J booked for 600 metered
    "stalled-tick-spans-windows": (
        [Tick("a", 0, 1, 100, 10, 5), Tick("a", 1, 5, 400, 40, 20), Tick("a", 5, 6, 100, 10, 5)]
        + [Tick("b", s, s + 2, 200, 20, 10) for s in (0, 2, 4)],
        {"a": 200 * 5 / 15 + 200 * 25 / 35, "b": 200 * 10 / 15 + 200 + 200 * 10 / 35},
        {"a": 0.0, "b": 0.0},
    ),
    # merged chunks: a sees its 20 tokens in one chunk at the window's end; the window's price
    # does not care when within it
    "merged-chunks": (
        [
            Tick("a", 0, 1, 100, 20, 0),
            Tick("a", 1, 2, 100, 20, 20),
            Tick("b", 0, 1, 100, 20, 10),
            Tick("b", 1, 2, 100, 20, 10),
        ],
        {"a": 100.0, "b": 100.0},
        {"a": 0.0, "b": 0.0},
    ),
    # idle: window 2 has no engine token; its 70 J are split by the shares of the sealed sums
    # (a 30 of 40), which add up to 1 over the instances: booked once
    "idle": (
        [
            Tick("a", 0, 2, 200, 40, 30),
            Tick("a", 2, 4, 70, 0, 0),
            Tick("b", 0, 2, 200, 40, 10),
            Tick("b", 2, 4, 70, 0, 0),
        ],
        {"a": 150.0, "b": 50.0},
        {"a": 0.75 * 70, "b": 0.25 * 70},
    ),
    # idle before any sum is known is held, then split by the first sum's shares
    "idle-first": (
        [
            Tick("a", 0, 2, 70, 0, 0),
            Tick("a", 2, 4, 200, 40, 10),
            Tick("b", 0, 2, 70, 0, 0),
            Tick("b", 2, 4, 200, 40, 30),
        ],
        {"a": 50.0, "b": 150.0},
        {"a": 0.25 * 70, "b": 0.75 * 70},
    ),
    # tokens seen late in an engine-idle tick: the tick's energy is idle on every instance, the
    # tokens still count in their window's sum
    "late-tokens-in-idle-time": (
        [
            Tick("a", 0, 2, 200, 40, 20),
            Tick("a", 2, 4, 70, 0, 20),
            Tick("b", 0, 2, 200, 40, 20),
            Tick("b", 2, 4, 70, 0, 0),
        ],
        {"a": 100.0, "b": 100.0},
        {"a": 0.5 * 70, "b": 0.5 * 70},  # shares as of window 1 (the sums sealed when window 2's idle was split)
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_windows_priced_with_the_shared_sum(case: str) -> None:
    ticks, credits, idle = CASES[case]
    books = _settle(ticks)
    assert books.credits == pytest.approx(credits)
    assert books.idle == pytest.approx(idle)
    meter = sum(t.energy for t in ticks if t.inst == ticks[0].inst)  # every instance reads the same meter
    assert sum(books.credits.values()) + sum(books.idle.values()) == pytest.approx(meter)


def test_a_publication_after_the_seal_is_refused_and_the_window_is_still_booked_once() -> None:
    ticks = [Tick("a", 0, 2, 400, 40, 30), Tick("b", 0, 2, 400, 40, 10)]
    books = _settle(ticks, late=["a"])
    assert books.credits == pytest.approx({"a": 0.0, "b": 400.0})  # b's sum had only b's weight
    assert books.others["a"] == pytest.approx(400.0)


def test_without_answers_from_the_store_the_instance_uses_its_own_counts() -> None:
    ticks = [Tick("a", 0, 2, 400, 40, 30), Tick("b", 0, 2, 400, 40, 10)]
    books = _settle(ticks, failing=True)
    assert books.credits == pytest.approx({"a": 300.0, "b": 100.0})  # E x O / max(O, T)


# ----------------------------------------------------------------------------- simulated instances


@pytest.mark.parametrize("instances", [1, 2, 3])
@pytest.mark.parametrize(
    "scenario",
    [
        {},  # lag up to 0.3 s, chunks of up to 4, 40% non-streaming, 15% cancelled, DCGM refresh 1 s
        {"unseen_tokens": (20, 200)},  # the engine runs on after a client leaves: nobody sees it
        {"min_lag_s": 3.0, "lag_s": 6.0},  # proxies seconds behind their engine
        {"streaming_share": 0.0, "read_failure_share": 0.1},
        {"stall_share": 0.02},  # event loops that stall 2-5 s: ticks longer than a window
    ],
    ids=["mixed", "unseen", "lag-3-6s", "non-streaming-failed-reads", "stalls"],
)
def test_with_the_store_instances_add_up_to_the_meter(instances: int, scenario: dict[str, object]) -> None:
    for seed in (1, 2):
        out = run(Scenario(instances=instances, seed=seed, store=True, **scenario))  # type: ignore[arg-type]
        assert out.held_j == pytest.approx(0.0, abs=1e-6)
        for totals in out.totals:
            assert conservation_gap(totals, out.meter_j) == pytest.approx(0.0, abs=1e-6 * out.meter_j)
        # stalls: a stalled instance's energy is spread over the windows its tick spans by time, and
        # its tokens of those seconds all count in the last one (measured up to +1.4%, 3 instances)
        bound = 0.02 if out.scenario.stall_share else 0.005
        assert abs(out.energy_error) < bound, out.energy_error
        assert abs(out.gpu_error) < bound, out.gpu_error
        assert all((s.joules or 0.0) >= 0 for s in out.shares.values())


def test_with_the_store_one_instance_whose_counts_match_the_engine_gets_todays_answer() -> None:
    sc = {"instances": 1, "lag_s": 0.0, "chunk": 1, "energy_refresh_s": 0.0, "requests": 80, "streaming_share": 1.0}
    local = run(Scenario(**sc))  # type: ignore[arg-type]
    shared = run(Scenario(store=True, **sc))  # type: ignore[arg-type]
    assert shared.records_j + shared.carry_j == pytest.approx(local.records_j + local.carry_j, rel=1e-9)
    assert shared.idle_j == pytest.approx(local.idle_j, rel=1e-9)
    # per request they differ by when the windows are priced (settle_s later: more of each request
    # is a provisional price, corrected through the carry of later requests) and the edge ticks' split
    diff = sum(abs((shared.shares[c].joules or 0.0) - (s.joules or 0.0)) for c, s in local.shares.items())
    assert diff / local.records_j < 0.03, diff / local.records_j


# ----------------------------------------------------------------------------- the hub


def _hub(clock: FakeClock, source: FakeSource, engine: FakeTokenReader) -> MeterHub:
    hub = MeterHub(
        clock,
        source_factory=fixed_source_factory(source),
        token_reader_factory=lambda _d, _c: engine,
        wall_clock=clock,
    )
    hub.configure(
        "d",
        MeterConfig(
            source="nvml",
            token_source="vllm",
            token_url="http://127.0.0.1:1/metrics",
            token_window_s=W,
            token_settle_s=1.0,
            prefill_weight=0.0,
        ),
    )
    return hub


class FailingStore:
    async def publish(self, member: str, items: Sequence[tuple[str, float]]) -> list[bool]:
        raise ConnectionError("redis down")

    async def seal(self, member: str, keys: Sequence[str]) -> list[tuple[float, float]]:
        raise ConnectionError("redis down")


@pytest.mark.parametrize("store_fails", [False, True])
async def test_two_hubs_share_one_store(store_fails: bool) -> None:
    """Two instances (two hubs) on one engine: 30 and 10 of its 60 tokens in one window (20 nobody
    saw). With the store they split the window's 800 J as 600 / 200; with a failing store each
    falls back to its own counts and the engine's (400 / 133), and counts the failures."""
    clock = FakeClock(1000.0)
    source = FakeSource()
    engine = FakeTokenReader()
    store = FailingStore() if store_fails else MemoryWindowStore()
    hubs = [_hub(clock, source, engine) for _ in range(2)]
    for hub in hubs:
        hub.bind_window_store(store)
        await hub.tick("d")
    for hub, cid in zip(hubs, ("a", "b"), strict=True):
        hub.request_started(cid, "d", 0, streaming=True)
    clock.advance(2.0)
    source.add(800.0)
    engine.generated += 60
    hubs[0].tokens_generated("a", 30)
    hubs[1].tokens_generated("b", 10)
    for hub in hubs:
        await hub.tick("d")
    for _ in range(40 if store_fails else 3):  # sealed settle_s after the window's end (failing: given up)
        clock.advance(1.0)
        for hub in hubs:
            await hub.tick("d")
    a = await hubs[0].request_finished("a", 30)
    b = await hubs[1].request_finished("b", 10)
    snaps = [hub.snapshot()["d"] for hub in hubs]
    if store_fails:
        assert (a.joules, b.joules) == (pytest.approx(800 * 30 / 60), pytest.approx(800 * 10 / 60))
        assert all(s.window_store_failures > 0 for s in snaps)
    else:
        assert (a.joules, b.joules) == (pytest.approx(600.0), pytest.approx(200.0))
        assert all(s.window_store_failures == 0 for s in snaps)
    assert all(s.held_j == pytest.approx(0.0, abs=1e-9) for s in snaps)


# ----------------------------------------------------------------------------- Redis


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.redis_fixtures import RedisUnavailable, throwaway_redis

    try:
        with throwaway_redis(Path(tmp_path_factory.mktemp("redis"))) as port:
            yield f"redis://127.0.0.1:{port}"
    except RedisUnavailable as exc:
        pytest.skip(str(exc))


async def test_the_redis_store_adds_until_sealed_atomically(redis_url: str) -> None:
    from litellm.caching.redis_cache import RedisCache

    host, port = redis_url.removeprefix("redis://").split(":")
    stores = [RedisWindowStore(RedisCache(host=host, port=int(port)), ttl_s=60) for _ in range(3)]
    keys = [window_key("s", i) for i in (1, 2)]
    # 3 instances each send their weight in window 1 twenty times at once (retries): counted once each
    await asyncio.gather(*(s.publish(f"m{k}", [(keys[0], 5.0)]) for k, s in enumerate(stores) for _ in range(20)))
    assert await stores[0].publish("m0", [(keys[1], 1.0)]) == [True]
    assert await stores[0].publish("m0", [(keys[1], 1.5)]) == [True]  # its cumulative figure grew
    assert await stores[1].seal("m1", keys) == [(pytest.approx(15.0), 5.0), (pytest.approx(1.5), 0.0)]
    assert await stores[2].publish("m2", [(keys[0], 9.0), (keys[1], 1.0)]) == [False, False]  # sealed: refused
    assert await stores[2].seal("m0", keys[:1]) == [(pytest.approx(15.0), pytest.approx(5.0))]  # idempotent

"""Hot-path costs of the meter hub: ``tokens_generated`` per stream chunk, a tick close and a
request finish, with N concurrent streaming requests (fake clock, estimate source; CPU only); then
the attribution error with 1, 2 and 3 proxy instances sharing one engine (``sim.shared_meter``:
unaligned ticks, observation lag, merged chunks, a DCGM-style counter refreshed every second,
streaming, non-streaming and cancelled requests, up to 64 at once; also tokens the engine makes
that no proxy sees, and proxies seconds behind their engine), per tick (``window_s = 0``, close to
the old per-tick rule), per settlement window with each instance's own counts, and per window with
the shared denominator (the sums in a store, as in Redis).

    PYTHONPATH=. python benchmarks/attribution_bench.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from thinkbudget_litellm.meter.config import MeterConfig  # noqa: E402
from thinkbudget_litellm.meter.hub import MeterHub  # noqa: E402
from thinkbudget_litellm.sim.shared_meter import Scenario, run  # noqa: E402


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


async def bench(n: int, chunks: int = 200_000, ticks: int = 300) -> dict[str, float]:
    clock = Clock()
    hub = MeterHub(clock)
    hub.configure("d", MeterConfig(source="estimate", watts=400.0, idle_watts=80.0, gpu_count=2))
    await hub.tick("d")
    ids = [f"r{i}" for i in range(n)]
    for cid in ids:
        hub.request_started(cid, "d", 500, streaming=True)
    t = time.perf_counter()
    for i in range(chunks):
        hub.tokens_generated(ids[i % n], 1)
    per_chunk = (time.perf_counter() - t) / chunks
    t = time.perf_counter()
    for _ in range(ticks):
        clock.t += 0.2
        for cid in ids:
            hub.tokens_generated(cid, 3)
        await hub.tick("d")
    per_tick = (time.perf_counter() - t) / ticks - per_chunk * n
    t = time.perf_counter()
    for cid in ids:
        clock.t += 0.01
        await hub.request_finished(cid, None)
    per_finish = (time.perf_counter() - t) / n
    return {"chunk_us": per_chunk * 1e6, "tick_us": per_tick * 1e6, "finish_us": per_finish * 1e6}


SCENARIOS = {
    "lag<=0.3s": {},
    "unseen": {"unseen_tokens": (20, 200)},  # the engine runs on after a client leaves; nobody sees it
    "lag 3-6s": {"min_lag_s": 3.0, "lag_s": 6.0},  # proxies seconds behind their engine (CPU-starved)
    "stalls": {"stall_share": 0.02},  # 2% of ticks followed by a 2-5 s event-loop stall (no tick)
}
METHODS = {
    "per tick": {"window_s": 0.0},  # close to the old per-tick max(own, engine) rule
    "2 s, own": {"window_s": 2.0},  # E x O / max(O, T) per window, no store (today without Redis)
    "2 s, store": {"window_s": 2.0, "store": True},  # the shared denominator through Redis
}


def shared_engine(seeds: int = 3) -> None:
    """Errors of the books (records + carry + every instance's idle vs the meter delta, energy and
    GPU-seconds), of the records against each request's exact energy (all of it, and per request)."""
    print()
    print("shared engine: error vs the meter (worst of", seeds, "seeds; per-request: mean)")
    head = (
        f"{'scenario':>10} | {'method':>10} | {'instances':>9} | {'energy':>8} | {'GPU-s':>8} | "
        f"{'busy J':>8} | {'per request':>11}"
    )
    print(head)
    print("-" * len(head))
    for name, scenario in SCENARIOS.items():
        for method, how in METHODS.items():
            for n in (1, 2, 3):
                outs = [
                    run(Scenario(instances=n, requests=240, seed=s, **scenario, **how))  # type: ignore[arg-type]
                    for s in range(1, seeds + 1)
                ]

                def worst(xs: list[float]) -> float:
                    return max(xs, key=abs)

                print(
                    f"{name:>10} | {method:>10} | {n:>9} | {worst([o.energy_error for o in outs]):>+8.2%} | "
                    f"{worst([o.gpu_error for o in outs]):>+8.2%} | {worst([o.busy_error for o in outs]):>+8.2%} | "
                    f"{sum(o.request_error for o in outs) / len(outs):>11.2%}"
                )


def main() -> None:
    print(f"{'requests':>8} | {'tokens_generated us':>19} | {'tick close us':>13} | {'request_finished us':>19}")
    print("-" * 70)
    for n in (1, 16, 64, 256):
        r = asyncio.run(bench(n))
        print(f"{n:>8} | {r['chunk_us']:>19.2f} | {r['tick_us']:>13.1f} | {r['finish_us']:>19.1f}")
    shared_engine()


if __name__ == "__main__":
    main()

"""Several proxy instances metering one engine, in simulated time (pure, deterministic per seed).

One engine serves requests from N proxy instances. Its energy counter (idle watts + joules per
token, refreshed like a DCGM exporter every ``energy_refresh_s``) and its cumulative token counter
(generated + prefill_weight x prompt, live, as vLLM's) are read by each instance on its own ticks,
with its own phase. Each instance runs its own ``attribution.Ledger``, sees its own requests'
tokens ``lag_s`` late at most, in chunks of up to ``chunk`` tokens (merged chunks), or only at the
end (non-streaming), and closes a tick with a fresh reading whenever a request finishes (as the hub
does). Some requests are cut short (cancelled: the client left, its reports are all there is).

What comes out: every instance's request shares and totals, and the truth: the counter's delta
over the run, and each request's exact energy (each 10 ms slice's energy split by the tokens the
engine produced in it; slices without tokens are idle). Used by the tests and by
``benchmarks/attribution_bench.py``.
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field

from thinkbudget_litellm.meter.attribution import Ledger, LedgerConfig, LedgerTotals, Measured, Pending, RequestShare
from thinkbudget_litellm.meter.window_store import WindowSums, window_key


@dataclass(frozen=True, slots=True)
class Scenario:
    instances: int = 2
    requests: int = 120
    concurrency: int = 64
    seed: int = 1
    tick_s: float = 0.2
    window_s: float = 2.0
    lag_s: float = 0.3  # most a token is seen after the engine counted it
    min_lag_s: float = 0.0  # least (a proxy that lags its engine by seconds: lag in [min_lag_s, lag_s])
    chunk: int = 4  # most tokens merged in one stream chunk
    streaming_share: float = 0.6
    cancel_share: float = 0.15
    energy_refresh_s: float = 1.0  # DCGM exporter collect interval
    idle_watts: float = 70.0
    joules_per_token: float = 0.5
    prefill_weight: float = 0.1
    tokens_per_s: tuple[float, float] = (20.0, 60.0)  # per request
    decode_tokens: tuple[int, int] = (20, 600)
    prompt_tokens: tuple[int, int] = (20, 800)
    tail_s: float = 3.0  # idle after the last request
    read_failure_share: float = 0.0  # an instance's reads that fail (energy and engine tokens together)
    shared: bool = True  # LedgerConfig.shared: ticks without an engine count still join their window
    store: bool = False  # a shared window store (window_store.WindowSums): the shared denominator
    settle_s: float = 6.0  # with the store: a window's sum is sealed this long after its end
    unseen_tokens: tuple[int, int] = (0, 0)  # a cancelled request's engine runs on this many tokens unseen
    stall_share: float = 0.0  # an instance's ticks after which its event loop stalls (no tick for stall_s)
    stall_s: tuple[float, float] = (2.0, 5.0)


@dataclass(slots=True)
class _Plan:
    call_id: str
    instance: int
    start: float
    prompt: int
    token_times: list[float]
    streaming: bool
    cancelled: bool
    unseen: list[float] = field(default_factory=list)  # tokens the engine made after the client left

    @property
    def end(self) -> float:
        return self.token_times[-1] if self.token_times else self.start + 0.05


@dataclass(slots=True)
class Outcome:
    scenario: Scenario
    shares: dict[str, RequestShare]  # every request, from the instance that served it
    totals: list[LedgerTotals]  # per instance, at the end
    meter_j: float  # the energy counter's delta over the run (what the GPU used)
    wall_gpu_s: float  # the GPU bill's seconds (1 GPU)
    truth_j: dict[str, float] = field(default_factory=dict)  # exact energy per request
    truth_weight: dict[str, float] = field(default_factory=dict)  # generated + prefill_weight x prompt
    truth_idle_j: float = 0.0

    @property
    def records_j(self) -> float:
        return sum(s.joules or 0.0 for s in self.shares.values())

    @property
    def records_gpu_s(self) -> float:
        return sum(s.gpu_seconds for s in self.shares.values())

    @property
    def idle_j(self) -> float:
        """Idle energy as the instances report it, summed (each reports its own share)."""
        return sum(t.idle_j for t in self.totals)

    @property
    def idle_gpu_s(self) -> float:
        return sum(t.idle_gpu_s for t in self.totals)

    @property
    def carry_j(self) -> float:
        """Corrections the instances still owe their next requests (signed)."""
        return sum(t.carry_j for t in self.totals)

    @property
    def held_j(self) -> float:
        return sum(t.held_j for t in self.totals)

    @property
    def energy_error(self) -> float:
        """(records + carry + every instance's idle - meter delta) / meter delta."""
        return (self.records_j + self.carry_j + self.idle_j - self.meter_j) / self.meter_j

    @property
    def gpu_error(self) -> float:
        carry = sum(t.carry_gpu_s for t in self.totals)
        return (self.records_gpu_s + carry + self.idle_gpu_s - self.wall_gpu_s) / self.wall_gpu_s

    @property
    def busy_error(self) -> float:
        """(records - the requests' exact energy) / their exact energy."""
        truth = sum(self.truth_j.values())
        return (self.records_j - truth) / truth

    @property
    def request_error(self) -> float:
        """Mean |record - exact| / exact over requests, weighted by exact energy."""
        truth = sum(self.truth_j.values())
        return sum(abs((self.shares[c].joules or 0.0) - t) for c, t in self.truth_j.items()) / truth


def _plans(sc: Scenario, rng: random.Random) -> list[_Plan]:
    """Requests arrive so that about ``concurrency`` run at once."""
    mean_tokens = sum(sc.decode_tokens) / 2
    mean_rate = sum(sc.tokens_per_s) / 2
    gap = mean_tokens / mean_rate / sc.concurrency
    plans = []
    t = 0.5
    for i in range(sc.requests):
        t += rng.expovariate(1.0 / gap)
        rate = rng.uniform(*sc.tokens_per_s)
        n = rng.randint(*sc.decode_tokens)
        cancelled = rng.random() < sc.cancel_share
        if cancelled:
            n = max(1, int(n * rng.random()))
        ttft = rng.uniform(0.02, 0.3)
        times = [t + ttft + k / rate for k in range(n)]
        instance = i % sc.instances if rng.random() < 0.8 else rng.randrange(sc.instances)
        extra = rng.randint(*sc.unseen_tokens) if cancelled and sc.unseen_tokens[1] > 0 else 0
        unseen = [times[-1] + (k + 1) / rate for k in range(extra)]
        plans.append(
            _Plan(
                f"i{instance}-r{i}",
                instance,
                t,
                rng.randint(*sc.prompt_tokens),
                times,
                rng.random() < sc.streaming_share,
                cancelled,
                unseen,
            )
        )
    return plans


class _Engine:
    """The engine's counters as functions of time."""

    def __init__(self, sc: Scenario, plans: list[_Plan]) -> None:
        self.sc = sc
        self.token_times = sorted(t for p in plans for t in [*p.token_times, *p.unseen])
        prefills = sorted((p.token_times[0] if p.token_times else p.end, p.prompt) for p in plans)
        self.prefill_times = [t for t, _ in prefills]
        self.prefill_cum = [0.0]
        for _, n in prefills:
            self.prefill_cum.append(self.prefill_cum[-1] + n)

    def tokens(self, t: float) -> float:
        gen = bisect.bisect_right(self.token_times, t)
        prompt = self.prefill_cum[bisect.bisect_right(self.prefill_times, t)]
        return gen + self.sc.prefill_weight * prompt

    def joules(self, t: float) -> float:
        return self.sc.idle_watts * t + self.sc.joules_per_token * self.tokens(t)

    def reported_joules(self, t: float) -> float:
        """What the exporter shows at ``t``: the value at its last refresh."""
        r = self.sc.energy_refresh_s
        return self.joules(int(t / r) * r if r > 0 else t)


class _Instance:
    def __init__(self, sc: Scenario, engine: _Engine, rng: random.Random, sums: WindowSums | None, name: str) -> None:
        self.name = name
        self.engine = engine
        self.rng = rng
        self.failure_share = sc.read_failure_share
        cfg = LedgerConfig(
            prefill_weight=sc.prefill_weight,
            source_name="dcgm",
            window_s=sc.window_s,
            shared=sc.shared,
            settle_s=sc.settle_s,
        )
        self.ledger = Ledger(cfg, start=0.0)
        self.sums = sums
        self.ledger.share_through_store(sums is not None)
        self.last_j = engine.reported_joules(0.0)
        self.last_tokens = engine.tokens(0.0)

    def fails(self) -> bool:
        return self.failure_share > 0 and self.rng.random() < self.failure_share

    def sample(self, t: float, final: bool = False) -> None:
        """Read both counters at ``t``; a failed read (``read_failure_share``, never the final one)
        leaves the tick without figures, and the next good read covers it."""
        if not final and self.fails():
            self.ledger.close_tick(t, Pending("dcgm timeout"), None)
            return
        value = self.engine.reported_joules(t)
        energy = Measured(value - self.last_j) if value != self.last_j else Pending()
        self.last_j = value
        tokens = self.engine.tokens(t)
        weight, self.last_tokens = tokens - self.last_tokens, tokens
        self.ledger.close_tick(t, energy, weight)
        self.settle(t)

    def settle(self, t: float) -> None:
        """What the hub's tick task does with a store: publish our weight, read the due sums."""
        if self.sums is None:
            return
        for index, weight in self.ledger.to_publish(t):
            self.ledger.published(index, weight, self.sums.add(window_key("sim", index), self.name, weight))
        for index in self.ledger.to_seal(t):
            self.ledger.sealed(index, self.sums.seal(window_key("sim", index), self.name), t)


def run(sc: Scenario) -> Outcome:
    """Drive the scenario to the end; every instance reads the counters at 0 and at the end."""
    rng = random.Random(sc.seed)
    plans = _plans(sc, rng)
    engine = _Engine(sc, plans)
    sums = WindowSums() if sc.store else None
    instances = [_Instance(sc, engine, random.Random(sc.seed * 1000 + i), sums, f"i{i}") for i in range(sc.instances)]
    end = max(max(p.end, *p.unseen) if p.unseen else p.end for p in plans) + sc.lag_s + sc.tail_s
    events: list[tuple[float, int, str, int, object]] = []
    seq = 0

    def push(t: float, kind: str, inst: int, payload: object) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (t, seq, kind, inst, payload))

    for i in range(sc.instances):
        at = rng.uniform(0, sc.tick_s)  # its own phase
        stalls = random.Random(f"stalls-{sc.seed}-{i}")  # its own draws: no stall, no change to the rest
        while at < end:
            push(at, "tick", i, None)
            stalled = sc.stall_share > 0 and stalls.random() < sc.stall_share
            at += stalls.uniform(*sc.stall_s) if stalled else sc.tick_s
    for p in plans:
        push(p.start, "start", p.instance, p)
        if p.streaming:
            k = 0
            while k < len(p.token_times):
                n = rng.randint(1, sc.chunk)
                seen = p.token_times[min(k + n, len(p.token_times)) - 1] + rng.uniform(sc.min_lag_s, sc.lag_s)
                push(seen, "tokens", p.instance, (p.call_id, min(n, len(p.token_times) - k)))
                k += n
        push(p.end + sc.lag_s, "finish", p.instance, p)  # after its last chunk
    shares: dict[str, RequestShare] = {}
    while events:
        t, _, kind, i, payload = heapq.heappop(events)
        inst = instances[i]
        if kind == "tick":
            inst.sample(t)
        elif kind == "start":
            assert isinstance(payload, _Plan)
            inst.ledger.start_request(payload.call_id, t, payload.prompt, payload.streaming)
        elif kind == "tokens":
            assert isinstance(payload, tuple)
            inst.ledger.add_tokens(str(payload[0]), float(payload[1]))
        else:
            assert isinstance(payload, _Plan)
            completion = None if payload.cancelled and payload.streaming else len(payload.token_times)
            inst.ledger.finish_request(payload.call_id, t, completion)
            if not inst.fails():  # else the fresh sample timed out: settling closes the tick itself
                inst.sample(t)
            share = inst.ledger.settle_request(payload.call_id, t)
            assert share is not None
            shares[payload.call_id] = share
    stop = end + sc.energy_refresh_s  # the last reading, on a window's edge so every window is priced
    if sc.window_s > 0:
        stop = math.ceil(stop / sc.window_s - 1e-9) * sc.window_s
    for inst in instances:
        inst.sample(stop, final=True)
    if sums is not None:  # the hub's tick task goes on after the traffic: the last windows' sums
        for inst in instances:
            for index, weight in inst.ledger.to_publish(stop):
                inst.ledger.published(index, weight, sums.add(window_key("sim", index), inst.name, weight))
        for inst in instances:
            inst.settle(stop + sc.settle_s)
    out = Outcome(
        sc,
        shares,
        [inst.ledger.totals(stop) for inst in instances],
        meter_j=engine.reported_joules(stop) - engine.reported_joules(0.0),
        wall_gpu_s=stop,
    )
    out.truth_j, out.truth_idle_j = _truth(sc, plans, stop)
    out.truth_weight = {p.call_id: len(p.token_times) + sc.prefill_weight * p.prompt for p in plans}
    return out


def _truth(sc: Scenario, plans: list[_Plan], stop: float) -> tuple[dict[str, float], float]:
    """Each request's exact energy: per 10 ms slice, its tokens' joules plus the slice's idle power
    split by tokens; slices without tokens are idle."""
    dt = 0.01
    slices: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for p in plans:
        for t in [*p.token_times, *p.unseen]:
            slices[int(t / dt)][p.call_id] += 1.0
        first = p.token_times[0] if p.token_times else p.end
        slices[int(first / dt)][p.call_id] += sc.prefill_weight * p.prompt
    truth: dict[str, float] = defaultdict(float)
    for weights in slices.values():
        total = sum(weights.values())
        for cid, w in weights.items():
            truth[cid] += sc.joules_per_token * w + sc.idle_watts * dt * w / total
    idle = sc.idle_watts * (stop - dt * len(slices))
    return dict(truth), idle

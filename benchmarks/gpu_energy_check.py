"""GPU energy check: our NVML counter source vs our power-integration fallback on a known workload.

Runs torch bf16 matmuls in phases (idle, light, heavy, idle again; ~30 s in all) on one NVIDIA GPU
and reads the energy of every phase two ways, both through ``thinkbudget_litellm.meter``:

(a) ``NvmlSource`` on the energy counter (``nvmlDeviceGetTotalEnergyConsumption``), and
(b) ``NvmlSource(force_power=True)``: ``nvmlDeviceGetPowerUsage`` polled every ``--power-poll-ms``
    and integrated with the trapezoid rule (the fallback for GPUs without the counter).

It reports both per phase and their difference, the idle watts, the counter's observed update
period, and a token-share attribution demo: three overlapping synthetic "requests" charged with
the real counter readings through ``attribution.Ledger``, next to the naive time-share charge.

Needs only torch, numpy, nvidia-ml-py and this package's meter modules (no pydantic, no litellm)::

    PYTHONPATH=. python benchmarks/gpu_energy_check.py --out benchmarks/results

Exit status 2 with a one-line reason when there is no usable GPU, torch or NVML.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from thinkbudget_litellm.meter.attribution import Ledger, LedgerConfig, Measured, Pending  # noqa: E402
from thinkbudget_litellm.meter.sources.base import SourceError  # noqa: E402
from thinkbudget_litellm.meter.sources.nvml import NvmlLibrary, NvmlSource  # noqa: E402

Clock = Callable[[], float]


class CheckError(RuntimeError):
    """A precondition failed (no GPU, no torch, no NVML): reported in one line, exit status 2."""


# ----------------------------------------------------------------------------- pure analysis


@dataclass
class PhaseResult:
    name: str
    seconds: float
    iterations: int
    tflop: float
    counter_j: float
    power_j: float

    @property
    def diff_j(self) -> float:
        return self.power_j - self.counter_j

    @property
    def diff_pct(self) -> float | None:
        return 100.0 * self.diff_j / self.counter_j if self.counter_j > 0 else None

    @property
    def counter_w(self) -> float:
        return self.counter_j / self.seconds if self.seconds > 0 else 0.0

    @property
    def power_w(self) -> float:
        return self.power_j / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(diff_j=self.diff_j, diff_pct=self.diff_pct, counter_w=self.counter_w, power_w=self.power_w)
        out["j_per_tflop"] = self.counter_j / self.tflop if self.tflop > 0 else None
        return out


def update_period(samples: Sequence[tuple[float, float]]) -> dict[str, float | int | None]:
    """How often a counter changed, from fast ``(time, value)`` polling: median/p10/p90 seconds."""
    changes = [t for (t, v), (_, prev) in zip(samples[1:], samples[:-1], strict=True) if v != prev]
    gaps = [b - a for a, b in itertools.pairwise(changes)]
    if not gaps:
        return {"changes": len(changes), "median_s": None, "p10_s": None, "p90_s": None}
    gaps.sort()
    return {
        "changes": len(changes),
        "median_s": statistics.median(gaps),
        "p10_s": gaps[int(0.1 * (len(gaps) - 1))],
        "p90_s": gaps[int(0.9 * (len(gaps) - 1))],
    }


def value_at(samples: Sequence[tuple[float, float]], t: float) -> float:
    """The last sampled value at or before ``t`` (the first sample when ``t`` is earlier)."""
    lo, hi = 0, len(samples)
    while lo < hi:
        mid = (lo + hi) // 2
        if samples[mid][0] <= t:
            lo = mid + 1
        else:
            hi = mid
    return samples[max(0, lo - 1)][1]


@dataclass(frozen=True)
class DemoRequest:
    call_id: str
    start: float  # seconds into the demo window
    end: float
    tokens_per_s: float
    prompt_tokens: int


def attribution_demo(
    samples: Sequence[tuple[float, float]],
    t0: float,
    t1: float,
    requests: Sequence[DemoRequest],
    tick_s: float = 0.2,
    prefill_weight: float = 0.1,
) -> dict[str, Any]:
    """Charge synthetic overlapping requests with real counter readings, tick by tick (our ledger),
    and compare with the naive time-share charge (each request pays the whole GPU for its time)."""
    ledger = Ledger(LedgerConfig(prefill_weight=prefill_weight, source_label="measured:nvml"), start=t0)
    last = value_at(samples, t0)
    owed_tokens = {r.call_id: 0.0 for r in requests}
    shares: dict[str, Any] = {}
    started: set[str] = set()
    k = 0
    t = t0
    while t < t1 - 1e-9:
        k += 1
        t_next = min(t0 + k * tick_s, t1)
        for r in requests:
            a, b = t0 + r.start, t0 + r.end
            if r.call_id not in started and a < t_next:
                ledger.start_request(r.call_id, max(a, t), r.prompt_tokens, streaming=True)
                started.add(r.call_id)
            overlap = max(0.0, min(b, t_next) - max(a, t))
            if overlap > 0:
                owed_tokens[r.call_id] += r.tokens_per_s * overlap
                whole = int(owed_tokens[r.call_id])
                if whole:
                    ledger.add_tokens(r.call_id, whole)
                    owed_tokens[r.call_id] -= whole
        ending = [r for r in requests if t < t0 + r.end <= t_next]
        for r in ending:
            ledger.finish_request(r.call_id, t0 + r.end, None)
        value = value_at(samples, t_next)
        ledger.close_tick(t_next, Measured(value - last) if value != last else Pending())
        last = value
        for r in ending:
            share = ledger.settle_request(r.call_id, t_next)
            assert share is not None
            shares[r.call_id] = share
        t = t_next
    for r in requests:  # requests outliving the window end with it
        if r.call_id not in shares:
            ledger.finish_request(r.call_id, t1, None)
            share = ledger.settle_request(r.call_id, t1)
            assert share is not None
            shares[r.call_id] = share
    window_j = value_at(samples, t1) - value_at(samples, t0)
    totals = ledger.totals()
    rows = []
    for r in requests:
        s = shares[r.call_id]
        a, b = t0 + max(0.0, r.start), t0 + min(r.end, t1 - t0)
        naive = value_at(samples, b) - value_at(samples, a)
        rows.append(
            {
                "request": r.call_id,
                "seconds": b - a,
                "tokens_per_s": r.tokens_per_s,
                "prompt_tokens": r.prompt_tokens,
                "weight_tokens": s.weight,
                "token_share_j": s.joules,
                "estimated_j": s.estimated_joules,
                "time_share_j": naive,
            }
        )
    attributed = sum(row["token_share_j"] or 0.0 for row in rows)
    naive_total = sum(row["time_share_j"] for row in rows)
    return {
        "tick_s": tick_s,
        "window_s": t1 - t0,
        "window_j": window_j,
        "requests": rows,
        "token_share_total_j": attributed,
        "idle_j": totals.idle_bucket_j,
        "carry_j": totals.carry_j,
        "conservation_gap_j": window_j - (attributed + totals.idle_bucket_j + totals.carry_j),
        "time_share_total_j": naive_total,
        "time_share_overcount": naive_total / window_j if window_j > 0 else None,
    }


def render_markdown(report: dict[str, Any]) -> str:
    lines = [
        "# GPU energy check",
        "",
        f"- device: {report['device']['name']} (NVML index {report['device']['nvml_index']}, "
        f"driver {report['device']['driver']})",
        f"- counter source: `{report['counter_label']}`; fallback: `{report['power_label']}` polled every "
        f"{report['power_poll_ms']} ms",
        f"- idle power: {_fmt(report['idle_w'], 1)} W",
        f"- counter update period: median {_fmt(report['update_period']['median_s'], 1, 1000)} ms "
        f"(p10 {_fmt(report['update_period']['p10_s'], 1, 1000)}, "
        f"p90 {_fmt(report['update_period']['p90_s'], 1, 1000)} ms; "
        f"{report['update_period']['changes']} changes)",
        "",
        "| phase | s | iters | TFLOP | counter J | power-int J | diff J | diff % | counter W | power W | J/TFLOP |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in report["phases"]:
        lines.append(
            f"| {p['name']} | {p['seconds']:.2f} | {p['iterations']} | {p['tflop']:.1f} "
            f"| {p['counter_j']:.1f} | {p['power_j']:.1f} | {p['diff_j']:+.1f} | {_fmt(p['diff_pct'], 2)} "
            f"| {p['counter_w']:.1f} "
            f"| {p['power_w']:.1f} | {_fmt(p['j_per_tflop'], 2)} |"
        )
    demo = report["attribution_demo"]
    lines += [
        "",
        f"## Token-share attribution demo ({demo['window_s']:.1f} s window, tick {demo['tick_s']} s)",
        "",
        "| request | s | tok/s | prompt | weight | token-share J | time-share J |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in demo["requests"]:
        lines.append(
            f"| {r['request']} | {r['seconds']:.2f} | {r['tokens_per_s']:.0f} | {r['prompt_tokens']} "
            f"| {r['weight_tokens']:.0f} | {_fmt(r['token_share_j'], 1)} | {r['time_share_j']:.1f} |"
        )
    lines += [
        "",
        f"- measured in the window: {demo['window_j']:.1f} J; "
        f"token shares {demo['token_share_total_j']:.1f} J "
        f"+ idle {demo['idle_j']:.1f} J + carry {demo['carry_j']:.1f} J "
        f"(gap {demo['conservation_gap_j']:+.3f} J)",
        f"- naive time-share charges {demo['time_share_total_j']:.1f} J "
        f"({_fmt(demo['time_share_overcount'], 2)}x the measured energy)",
        "",
    ]
    return "\n".join(lines)


def _fmt(value: float | None, digits: int, scale: float = 1.0) -> str:
    return "n/a" if value is None else f"{value * scale:.{digits}f}"


# ----------------------------------------------------------------------------- measurement shell


class Workload(Protocol):
    def calibrate(self, kind: str, target_s: float) -> int: ...

    def run(self, kind: str, iterations: int) -> None: ...

    def tflop(self, kind: str, iterations: int) -> float: ...


class TorchMatmuls:
    """bf16 matmuls: ``heavy`` back to back (8192^2), ``light`` 4096^2 bursts with pauses.

    Synchronising every few launches keeps the launch queue short, so the main thread waits in
    ``synchronize`` (GIL released) and the polling thread keeps its cadence.
    """

    SIZES: ClassVar[dict[str, int]] = {"heavy": 8192, "light": 4096}
    LIGHT_BURST = 8
    LIGHT_PAUSE_S = 0.004
    HEAVY_SYNC = 16

    def __init__(self, torch: Any, device: int) -> None:
        self._torch = torch
        self._dev = torch.device("cuda", device)
        self._mats = {
            kind: tuple(torch.randn(n, n, device=self._dev, dtype=torch.bfloat16) for _ in range(3))
            for kind, n in self.SIZES.items()
        }
        self.sync()

    def sync(self) -> None:
        self._torch.cuda.synchronize(self._dev)

    def run(self, kind: str, iterations: int) -> None:
        a, b, c = self._mats[kind]
        for i in range(iterations):
            self._torch.matmul(a, b, out=c)
            if kind == "light" and (i + 1) % self.LIGHT_BURST == 0:
                self.sync()
                time.sleep(self.LIGHT_PAUSE_S)
            elif kind == "heavy" and (i + 1) % self.HEAVY_SYNC == 0:
                self.sync()
        self.sync()

    def calibrate(self, kind: str, target_s: float) -> int:
        probe = 4 * self.LIGHT_BURST
        self.run(kind, probe)  # warm up
        t = time.perf_counter()
        self.run(kind, probe)
        per_iter = (time.perf_counter() - t) / probe
        return max(1, round(target_s / per_iter))

    def tflop(self, kind: str, iterations: int) -> float:
        n = self.SIZES[kind]
        return 2.0 * n**3 * iterations / 1e12


class Poller(threading.Thread):
    """Polls the counter source fast (update period, boundaries) and the power source every poll_s."""

    def __init__(
        self, counter: NvmlSource, power: NvmlSource, clock: Clock, counter_poll_s: float, power_poll_s: float
    ) -> None:
        super().__init__(daemon=True)
        self.counter, self.power, self.clock = counter, power, clock
        self.counter_poll_s, self.power_poll_s = counter_poll_s, power_poll_s
        self.lock = threading.Lock()
        self.counter_samples: list[tuple[float, float]] = []
        self.power_samples: list[tuple[float, float]] = []
        self.stop_event = threading.Event()
        self.error: BaseException | None = None

    def read_both(self) -> tuple[float, float, float]:
        """(time, counter J, power-integrated J) right now."""
        with self.lock:
            now = self.clock()
            c = self.counter.read_now(now)
            p = self.power.read_now(now)
            self.counter_samples.append((now, c))
            self.power_samples.append((now, p))
            return now, c, p

    def run(self) -> None:
        next_power = 0.0
        try:
            while not self.stop_event.is_set():
                with self.lock:
                    now = self.clock()
                    self.counter_samples.append((now, self.counter.read_now(now)))
                    if now >= next_power:
                        self.power_samples.append((now, self.power.read_now(now)))
                        next_power = now + self.power_poll_s
                self.stop_event.wait(self.counter_poll_s)
        except BaseException as exc:  # reported by the main thread
            self.error = exc


@dataclass
class Plan:
    idle_s: float = 6.0
    light_s: float = 8.0
    heavy_s: float = 10.0
    cooldown_s: float = 4.0
    phases: list[tuple[str, str, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.phases = [
            ("idle", "idle", self.idle_s),
            ("light", "light", self.light_s),
            ("heavy", "heavy", self.heavy_s),
            ("idle-after", "idle", self.cooldown_s),
        ]


DEMO_REQUESTS = (
    # over the light+heavy phases; times as fractions of that window, scaled below
    ("A", 0.00, 0.90, 40.0, 300),
    ("B", 0.35, 1.00, 90.0, 4000),
    ("C", 0.20, 0.60, 15.0, 1200),
)


def run_check(
    workload: Workload,
    library: NvmlLibrary,
    nvml_index: int,
    plan: Plan,
    power_poll_s: float = 0.1,
    counter_poll_s: float = 0.005,
    clock: Clock = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Measure every phase both ways; return the report (plain dict)."""
    counter = NvmlSource([nvml_index], library=library)
    power = NvmlSource([nvml_index], library=library, force_power=True)
    nvml = library.get()
    handle = nvml.nvmlDeviceGetHandleByIndex(nvml_index)
    name = _text(nvml.nvmlDeviceGetName(handle))
    driver = _text(nvml.nvmlSystemGetDriverVersion())
    counter.read_now(clock())
    if counter.device_modes().get(nvml_index) != "counter":
        log("warning: this GPU has no energy counter; (a) is power integration too")
    iterations = {kind: workload.calibrate(kind, s) for _, kind, s in plan.phases if kind != "idle"}
    poller = Poller(counter, power, clock, counter_poll_s, power_poll_s)
    poller.start()
    phases = []
    bounds: dict[str, tuple[float, float]] = {}
    try:
        t_prev, c_prev, p_prev = poller.read_both()
        for name_, kind, seconds in plan.phases:
            log(f"phase {name_}: {seconds:.0f} s")
            if kind == "idle":
                sleep(seconds)
                n = 0
            else:
                n = iterations[kind]
                workload.run(kind, n)
            t, c, p = poller.read_both()
            phases.append(
                PhaseResult(name_, t - t_prev, n, workload.tflop(kind, n) if n else 0.0, c - c_prev, p - p_prev)
            )
            bounds[name_] = (t_prev, t)
            t_prev, c_prev, p_prev = t, c, p
    finally:
        poller.stop_event.set()
        poller.join(timeout=5)
    if poller.error is not None:
        raise CheckError(f"polling NVML failed: {poller.error}")
    samples = sorted(poller.counter_samples)
    idle = next(p for p in phases if p.name == "idle")
    t0, t1 = bounds["light"][0], bounds["heavy"][1]
    span = t1 - t0
    demo = attribution_demo(
        samples,
        t0,
        t1,
        [DemoRequest(cid, a * span, b * span, rate, prompt) for cid, a, b, rate, prompt in DEMO_REQUESTS],
    )
    return {
        "device": {"name": name, "nvml_index": nvml_index, "driver": driver},
        "counter_label": counter.label,
        "power_label": power.label,
        "power_poll_ms": round(power_poll_s * 1000),
        "counter_poll_ms": round(counter_poll_s * 1000, 1),
        "idle_w": idle.counter_w,
        "update_period": update_period(samples),
        "phases": [p.as_dict() for p in phases],
        "attribution_demo": demo,
        "total_counter_j": sum(p.counter_j for p in phases),
        "total_power_j": sum(p.power_j for p in phases),
    }


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def print_table(report: dict[str, Any], out: Callable[[str], None] = print) -> None:
    out(render_markdown(report))


def write_outputs(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    json_path = out_dir / f"gpu_energy_check-{stamp}.json"
    md_path = out_dir / f"gpu_energy_check-{stamp}.md"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    md_path.write_text(render_markdown(report))
    return json_path, md_path


def _nvml_index(cuda_index: int, explicit: int | None) -> int:
    if explicit is not None:
        return explicit
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")
    if cuda_index < len(visible) and visible[cuda_index].strip().isdigit():
        return int(visible[cuda_index])
    return cuda_index


def _load_torch(cuda_index: int) -> Any:
    try:
        import torch
    except ImportError as exc:
        raise CheckError(f"torch is not installed ({exc})") from None
    if not torch.cuda.is_available():
        raise CheckError("no CUDA GPU visible to torch (torch.cuda.is_available() is False)")
    if cuda_index >= torch.cuda.device_count():
        raise CheckError(f"CUDA device {cuda_index} absent: {torch.cuda.device_count()} visible")
    return torch


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results", help="directory for JSON+md")
    ap.add_argument("--device", type=int, default=0, help="CUDA device index")
    ap.add_argument("--nvml-index", type=int, default=None, help="NVML index (default: from CUDA_VISIBLE_DEVICES)")
    ap.add_argument("--power-poll-ms", type=float, default=100.0, help="power polling period for (b)")
    ap.add_argument("--idle-s", type=float, default=6.0)
    ap.add_argument("--light-s", type=float, default=8.0)
    ap.add_argument("--heavy-s", type=float, default=10.0)
    ap.add_argument("--cooldown-s", type=float, default=4.0)
    args = ap.parse_args(argv)
    if not 10 <= args.power_poll_ms <= 2000:
        ap.error("--power-poll-ms must be within 10..2000")
    for name in ("idle_s", "light_s", "heavy_s", "cooldown_s"):
        if not 0.5 <= getattr(args, name) <= 120:
            ap.error(f"--{name.replace('_', '-')} must be within 0.5..120 s")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        torch = _load_torch(args.device)
        library = NvmlLibrary()
        index = _nvml_index(args.device, args.nvml_index)
        try:
            NvmlSource([index], library=library).read_now(time.monotonic())
        except SourceError as exc:
            raise CheckError(f"NVML unusable: {exc}") from None
        workload = TorchMatmuls(torch, args.device)
        plan = Plan(args.idle_s, args.light_s, args.heavy_s, args.cooldown_s)
        report = run_check(workload, library, index, plan, power_poll_s=args.power_poll_ms / 1000)
    except CheckError as exc:
        print(f"gpu_energy_check: {exc}", file=sys.stderr)
        return 2
    report["torch"] = torch.__version__
    print_table(report)
    json_path, md_path = write_outputs(report, args.out)
    print(f"wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

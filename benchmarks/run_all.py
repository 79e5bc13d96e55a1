"""Run every benchmark and refresh benchmarks/results/ (``make bench``).

    PYTHONPATH=. python benchmarks/run_all.py [--quick]

Steps, each bounded by a timeout and logged to benchmarks/results/<step>.txt:

1. classifier: benchmarks/classifier_bench.py --quick --json results/classifier.json
2. stream: benchmarks/stream_bench.py --json results/stream_bench.json (hook cost + proxy throughput ratio)
3. writer: benchmarks/writer_bench.py (needs PostgreSQL server binaries; skipped with a message without them)
4. savings: benchmarks/run_benchmark.py (baseline vs thinkbudget through the real proxy) and
   benchmarks/compare.py (report.md, PNGs, savings_summary.json)

Sized to finish in well under 15 minutes on a 2-core machine; prints a summary at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
BENCH = ROOT / "benchmarks"


@dataclass
class Step:
    name: str
    status: str  # ok | failed (rc N) | timed out | skipped: reason
    seconds: float


def run_step(name: str, argv: Sequence[str], timeout_s: float) -> Step:
    """Run one benchmark, echoing and logging its output to results/<name>.txt."""
    log_path = RESULTS / f"{name}.txt"
    root_prefix = f"{ROOT}{os.sep}"
    print(f"\n=== {name}: {' '.join(str(a) for a in argv[1:])}", flush=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    t0 = time.perf_counter()
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            list(argv), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
        deadline = t0 + timeout_s
        status = "ok"
        assert proc.stdout is not None
        for raw in proc.stdout:  # the step's own timeouts keep it producing or ending
            line = raw.replace(root_prefix, "")  # logs are committed: paths relative to the repository
            sys.stdout.write(line)
            sys.stdout.flush()
            log.write(line)
            if time.perf_counter() > deadline:
                status = "timed out"
                break
        if status == "timed out" or proc.poll() is None:
            try:
                proc.wait(timeout=max(1.0, deadline - time.perf_counter()))
            except subprocess.TimeoutExpired:
                status = "timed out"
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        if status == "ok" and proc.returncode != 0:
            status = f"failed (rc {proc.returncode})"
    return Step(name, status, time.perf_counter() - t0)


def skipped(name: str, reason: str) -> Step:
    print(f"\n=== {name}: skipped: {reason}", flush=True)
    (RESULTS / f"{name}.txt").write_text(f"skipped: {reason}\n")
    return Step(name, f"skipped: {reason}", 0.0)


def postgres_missing() -> str | None:
    from tests.pg_fixtures import find_pg_bin_dir

    return None if find_pg_bin_dir() is not None else "PostgreSQL server binaries (initdb, pg_ctl) not found"


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def sec(ms: float | None) -> str:
    return "n/a" if ms is None else f"{ms / 1000:.2f}s"


def summary_lines(steps: Sequence[Step], total_s: float) -> list[str]:
    lines = [f"{s.name:<11} {s.status:<40} {s.seconds:6.1f} s" for s in steps]
    lines.append(f"{'total':<11} {'':<40} {total_s:6.1f} s")
    savings = read_json(RESULTS / "savings_summary.json")
    for workload, modes in (savings.get("comparisons") or {}).items():
        for mode, stats in modes.items():
            a = next((s for s in stats if s.get("group") == "all"), None)
            if a is None:
                continue
            lines.append(
                f"savings {workload}/{mode}: thinking {a['think_base']:.0f} -> {a['think_ext']:.0f} "
                f"tokens/request (saved {pct(a['think_saved'])}), output saved {pct(a['output_saved'])}, "
                f"cost saved {pct(a['cost_saved'])}, energy saved {pct(a['energy_saved'])}, "
                f"cut {pct(a['cut_frac'])}, p50 latency {sec(a['latency_p50_base'])} -> "
                f"{sec(a['latency_p50_ext'])}, p50 time to answer {sec(a['ttfa_p50_base'])} -> "
                f"{sec(a['ttfa_p50_ext'])}"
            )
    for tier in (savings.get("comparisons") or {}).get("labelled", {}).get("native", []):
        if tier.get("group") != "all":
            lines.append(
                f"  labelled/native {tier['group']:<8}: thinking {tier['think_base']:.0f} -> "
                f"{tier['think_ext']:.0f}, cut {100 * (tier['cut_frac'] or 0):.0f}%, under-budgeted "
                f"{100 * (tier['under_budget_frac'] or 0):.0f}%"
            )
    stream = read_json(RESULTS / "stream_bench.json")
    if stream.get("hook"):
        lines.append(f"stream hook: {stream['hook']['enforcer_us_per_chunk']:.2f} us per chunk")
    if stream.get("throughput"):
        t = stream["throughput"]
        lines.append(
            f"stream throughput: plain {t['plain_tokens_per_s']:.0f} tok/s, thinkbudget "
            f"{t['ext_tokens_per_s']:.0f} tok/s, median per-round ratio {t['ratio']:.3f} "
            f"(pooled {t.get('ratio_pooled', t['ratio']):.3f}; target >= 0.95)"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke run, a few minutes)")
    args = p.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    t0 = time.perf_counter()
    steps: list[Step] = []

    classifier = BENCH / "classifier_bench.py"
    if classifier.exists():
        steps.append(
            run_step(
                "classifier",
                [py, str(classifier), "--quick", "--json", str(RESULTS / "classifier.json")],
                240,
            )
        )
    else:
        steps.append(skipped("classifier", f"{classifier.relative_to(ROOT)} not found"))

    stream_sizes = ["--tokens", "600", "--rounds", "2"] if args.quick else ["--tokens", "1000", "--rounds", "5"]
    steps.append(
        run_step(
            "stream",
            [py, str(BENCH / "stream_bench.py"), *stream_sizes, "--json", str(RESULTS / "stream_bench.json")],
            300,
        )
    )

    missing = postgres_missing()
    if missing:
        steps.append(skipped("writer_bench", missing))
    else:
        steps.append(run_step("writer_bench", [py, str(BENCH / "writer_bench.py"), "--records", "10000"], 180))

    sizes = ["--per-tier", "2", "--mix-size", "10"] if args.quick else ["--per-tier", "4", "--mix-size", "30"]
    savings = run_step("savings", [py, str(BENCH / "run_benchmark.py"), *sizes], 660)
    steps.append(savings)
    if (RESULTS / "savings_raw.json").exists():
        steps.append(run_step("compare", [py, str(BENCH / "compare.py")], 120))
    else:
        steps.append(skipped("compare", "no savings_raw.json (the savings run failed)"))

    total = time.perf_counter() - t0
    (RESULTS / "run_all.json").write_text(
        json.dumps({"steps": [asdict(s) for s in steps], "total_s": round(total, 1)}, indent=1) + "\n"
    )
    print("\n=== summary (benchmarks/results/report.md has the details)")
    for line in summary_lines(steps, total):
        print(line)
    return 0 if all(s.status == "ok" or s.status.startswith("skipped") for s in steps) else 1


if __name__ == "__main__":
    sys.exit(main())

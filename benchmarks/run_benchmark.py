"""Savings benchmark: the same streaming workload through plain LiteLLM (baseline) and through
LiteLLM with thinkbudget, against the simulated reasoning backend (default) or any
OpenAI-compatible backend (``--backend-url``). Writes the per-request results as JSON for
``benchmarks/compare.py``.

    PYTHONPATH=. python benchmarks/run_benchmark.py [--per-tier 4] [--mix-size 30]
        [--labelled-modes native] [--mix-modes native,stream] [--concurrency 4]
        [--tokens-per-second 120] [--out benchmarks/results/savings_raw.json]

Workloads: ``labelled`` (a stratified subset of the held-out labelled prompts) and ``mix`` (a
production-like traffic mix drawn from them; see benchmarks/workloads/selection.py). Each workload
runs once through the baseline proxy and once per enforcement mode through the extension proxy:
``native`` (the backend caps thinking itself: sim --native-budget) and ``stream`` (the backend has
no cap: the proxy cuts the stream and asks for the answer). Without a budget the two simulated
backends behave identically, so one baseline run serves both modes.

Figures: thinking/answer tokens are counted at the client (cl100k) in both runs. Energy and cost of
the baseline are its run's DCGM-counter delta (and GPU-time bill) split over its requests by token
share (generated + 0.1 x prompt tokens), the same rule thinkbudget's meter applies; the extension
run's figures are thinkbudget's own per-request records. With the simulator every joule and second
of GPU time is SIMULATED.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import json
import os
import platform
import secrets
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import httpx  # noqa: E402
import yaml  # noqa: E402

from benchmarks.workloads.items import BenchItem, DatasetError, load_items  # noqa: E402
from benchmarks.workloads.natural_lengths import natural_lengths  # noqa: E402
from benchmarks.workloads.proxy_configs import Backend, proxy_config  # noqa: E402
from benchmarks.workloads.results import (  # noqa: E402
    BASELINE,
    RequestResult,
    StreamText,
    answer_matches,
    counter_joules,
    share_by_weight,
)
from benchmarks.workloads.savings import PREFILL_WEIGHT, token_weight  # noqa: E402
from benchmarks.workloads.selection import TRAFFIC_MIX, Request, stratified, traffic_mix  # noqa: E402
from thinkbudget_litellm.demo.stack import Service, StackError, running_stack, start_proxy, start_sim  # noqa: E402
from thinkbudget_litellm.enforce.token_count import count_tokens, counter_name  # noqa: E402
from thinkbudget_litellm.tiers import Task, Tier  # noqa: E402

DATASET = ROOT / "benchmarks" / "datasets" / "test.jsonl"
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "savings_raw.json"
SIM_MODEL = "deepseek-r1-distill-qwen-7b"
MODES = ("native", "stream")


@dataclass
class RunInfo:
    """One pass of one workload through one proxy."""

    workload: str
    run: str
    deployment: str
    wall_s: float = 0.0
    counter_j: float | None = None  # DCGM counter delta over the run (all GPUs)
    bill_usd: float | None = None  # GPU-hours of the run's wall time at the GPU price
    tokens: int = 0  # thinking + answer tokens the client received
    failures: int = 0
    records_found: int | None = None
    records_energy_j: float | None = None
    records_cost_usd: float | None = None
    engine_generation_tokens: float | None = None  # delta of the engine's vllm:generation_tokens_total
    engine_prompt_tokens: float | None = None  # delta of the engine's vllm:prompt_tokens_total
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- client


def _delta(chunk: dict[str, Any]) -> tuple[str | None, str | None]:
    choices = chunk.get("choices") or []
    if not choices:
        return None, None
    delta = choices[0].get("delta") or {}
    reasoning = delta.get("reasoning_content") or delta.get("reasoning")
    return reasoning, delta.get("content")


async def send(
    client: httpx.AsyncClient,
    base: str,
    key: str,
    deployment: str,
    req: Request,
    run: str,
    workload: str,
    lengths: tuple[int, int] | None,
    inline: bool,
    max_tokens: int | None,
    max_completion_tokens: int | None = None,
    temperature: float | None = None,
) -> RequestResult:
    item = req.item
    row = RequestResult(workload, run, req.request_id, item.id, item.tier.value, item.task.value)
    if lengths is not None:
        row.natural_think, row.natural_answer = lengths
    body: dict[str, Any] = {
        "model": deployment,
        "messages": list(item.messages),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if lengths is not None:
        body["sim"] = {"think_tokens": lengths[0], "answer_tokens": lengths[1]}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    if max_completion_tokens is not None:
        body["max_completion_tokens"] = max_completion_tokens
    if temperature is not None:
        body["temperature"] = temperature
    text = StreamText(inline=inline)
    t0 = time.perf_counter()
    try:
        async with client.stream(
            "POST", base + "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
        ) as resp:
            row.call_id = resp.headers.get("x-litellm-call-id")
            row.tier = resp.headers.get("x-thinkbudget-tier")
            budget = resp.headers.get("x-thinkbudget-budget")
            row.budget = int(budget) if budget and budget.isdigit() else None
            if resp.status_code != 200:
                raw = (await resp.aread()).decode("utf-8", "replace")
                row.ok, row.error = False, f"HTTP {resp.status_code}: {raw[:300]}"
                return row
            async for line in resp.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                if "error" in chunk:
                    row.ok, row.error = False, f"stream error: {str(chunk['error'])[:300]}"
                    return row
                usage = chunk.get("usage")
                if isinstance(usage, dict) and usage.get("prompt_tokens") is not None:
                    row.prompt_tokens = int(usage["prompt_tokens"])
                any_text, answer_text = text.add(*_delta(chunk))
                now = (time.perf_counter() - t0) * 1000
                if any_text and row.ttft_ms is None:
                    row.ttft_ms = now
                if answer_text and row.ttfa_ms is None:
                    row.ttfa_ms = now
        row.latency_ms = (time.perf_counter() - t0) * 1000
    except (httpx.HTTPError, json.JSONDecodeError) as exc:
        row.ok, row.error = False, f"{type(exc).__name__}: {exc}"[:300]
        return row
    thinking, answer = text.texts()
    row.thinking_tokens = count_tokens(thinking) if thinking else 0
    row.answer_tokens = count_tokens(answer) if answer.strip() else 0
    if item.answer is not None and lengths is None:  # only a real model's answer can be scored
        row.answer_correct = answer_matches(item.answer, answer)
    return row


async def run_requests(
    base: str,
    key: str,
    deployment: str,
    requests: Sequence[Request],
    run: str,
    workload: str,
    simulated: bool,
    concurrency: int,
    timeout_s: float,
    inline: bool,
    max_tokens: int | None,
    max_completion_tokens: int | None = None,
    temperature: float | None = None,
) -> list[RequestResult]:
    """Send every request with at most ``concurrency`` in flight, longest natural thinking first
    (the same order in every run), each bounded by ``timeout_s``."""
    lengths = {r.request_id: natural_lengths(r.item.id, r.item.tier) if simulated else None for r in requests}
    order = sorted(requests, key=lambda r: -(lengths[r.request_id] or (0, 0))[0]) if simulated else requests
    queue: asyncio.Queue[Request] = asyncio.Queue()
    for r in order:
        queue.put_nowait(r)
    results: dict[str, RequestResult] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0), limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                r = queue.get_nowait()
                coro = send(
                    client, base, key, deployment, r, run, workload, lengths[r.request_id], inline, max_tokens,
                    max_completion_tokens, temperature,
                )  # fmt: skip
                try:
                    results[r.request_id] = await asyncio.wait_for(coro, timeout_s)
                except TimeoutError:
                    row = RequestResult(workload, run, r.request_id, r.item.id, r.item.tier.value, r.item.task.value)
                    row.ok, row.error = False, f"timed out after {timeout_s:.0f}s"
                    results[r.request_id] = row

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return [results[r.request_id] for r in requests]


async def warm_up(base: str, key: str, deployment: str, simulated: bool) -> None:
    """Two short requests, not measured: the first requests through a fresh proxy load modules, the
    tokenizer and the record writer, and would otherwise inflate the first measured latencies."""
    item = BenchItem("warm-up", ({"role": "user", "content": "hello"},), Tier.TRIVIAL, Task.CHAT)
    lengths = (8, 4) if simulated else None
    async with httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=10.0)) as client:
        for _ in range(2):
            row = await send(client, base, key, deployment, Request("warm-up", item), "warm-up", "", lengths, False, 16)
            if not row.ok:
                raise StackError(f"warm-up request to {deployment} failed: {row.error}")


# ---------------------------------------------------------------------------- figures


def read_counter(metrics_url: str | None) -> float | None:
    if metrics_url is None:
        return None
    try:
        return counter_joules(httpx.get(metrics_url, timeout=5).text)
    except httpx.HTTPError:
        return None


def read_engine_counters(metrics_url: str | None) -> tuple[float, float] | None:
    """The engine's own ``vllm:generation_tokens_total`` and ``vllm:prompt_tokens_total`` (summed
    over their label sets), or None where there is no such endpoint."""
    if metrics_url is None:
        return None
    try:
        text = httpx.get(metrics_url, timeout=5).text
    except httpx.HTTPError:
        return None
    sums = {"vllm:generation_tokens_total": 0.0, "vllm:prompt_tokens_total": 0.0}
    for line in text.splitlines():
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in sums:
            sums[name] += float(line.rsplit(" ", 1)[1])
    return sums["vllm:generation_tokens_total"], sums["vllm:prompt_tokens_total"]


def read_records(db_path: Path, call_ids: set[str], wait_s: float = 10.0) -> dict[str, dict[str, Any]]:
    """Our request records for these call ids, waiting for the background writer to catch up."""
    deadline = time.monotonic() + wait_s
    rows: dict[str, dict[str, Any]] = {}
    while True:
        if db_path.exists():
            with contextlib.closing(sqlite3.connect(db_path)) as db:
                db.row_factory = sqlite3.Row
                try:
                    found = db.execute("SELECT * FROM request_records").fetchall()
                except sqlite3.OperationalError:
                    found = []
            rows = {r["litellm_call_id"]: dict(r) for r in found if r["litellm_call_id"] in call_ids}
        if len(rows) >= len(call_ids) or time.monotonic() > deadline:
            return rows
        time.sleep(0.5)


def apply_window_shares(rows: Sequence[RequestResult], info: RunInfo, overwrite: bool) -> None:
    """Split the run's counter delta and GPU bill over its successful requests by token share."""
    ok = [r for r in rows if r.ok]
    weights = [token_weight(r) for r in ok]
    energy = share_by_weight(info.counter_j, weights) if info.counter_j is not None else [None] * len(ok)
    cost = share_by_weight(info.bill_usd, weights) if info.bill_usd is not None else [None] * len(ok)
    for r, e, c in zip(ok, energy, cost, strict=True):
        if overwrite or r.figures_from is None:
            r.energy_j, r.cost_usd, r.figures_from = e, c, "run-window share"


def apply_records(rows: Sequence[RequestResult], records: dict[str, dict[str, Any]]) -> None:
    for r in rows:
        rec = records.get(r.call_id or "")
        if rec is None:
            continue
        # a stream cut is recorded as such; a native cap shows as thinking that reached the budget
        budget, thinking = rec["budget"], rec["thinking_tokens"]
        r.cut = bool(rec["cut"]) or (budget is not None and budget > 0 and thinking >= budget)
        r.energy_j, r.cost_usd = rec["energy_j"], rec["cost_usd"]
        r.energy_source, r.record_thinking_tokens = rec["energy_source"], rec["thinking_tokens"]
        r.figures_from = "record"
        if r.tier is None:
            r.tier = rec["tier"]
        if r.budget is None:
            r.budget = rec["budget"]


# ---------------------------------------------------------------------------- stack


def sim_args(args: argparse.Namespace, native: bool) -> list[str]:
    return [
        "--model-name", SIM_MODEL,
        "--style", args.style,
        "--native-budget" if native else "--no-native-budget",
        "--tokens-per-second", str(args.tokens_per_second),
        "--joules-per-token", str(args.joules_per_token),
        "--idle-watts", str(args.idle_watts),
    ]  # fmt: skip


def start_backends(args: argparse.Namespace, modes: Sequence[str], log_dir: Path, stack: Any) -> dict[str, Backend]:
    backends: dict[str, Backend] = {}
    for mode in modes:
        if args.backend_url:
            backends[mode] = Backend(
                mode, args.backend_url.rstrip("/"), args.backend_model, args.backend_metrics, simulated=False,
                gpu_name=args.gpu_name, gpu_cost_per_hour=args.gpu_cost_per_hour,
                max_model_len=args.max_model_len, template_preopens_think=args.template_preopens_think,
            )  # fmt: skip
            continue
        svc: Service = start_sim(f"sim-{mode}", sim_args(args, native=mode == "native"), log_dir)
        stack.services.append(svc)
        backends[mode] = Backend(
            mode, svc.base + "/v1", f"hosted_vllm/{SIM_MODEL}", svc.base + "/metrics", simulated=True,
            gpu_name="H100 (simulated)", gpu_cost_per_hour=args.gpu_cost_per_hour,
        )  # fmt: skip
    return backends


def start_proxies(
    backends: dict[str, Backend], log_dir: Path, db_path: Path, key: str, stack: Any
) -> tuple[Service, Service]:
    """Baseline and extension proxies, started side by side."""
    env = {"LITELLM_MASTER_KEY": key, "THINKBUDGET_DATABASE_URL": f"sqlite+aiosqlite:///{db_path}"}
    configs = {}
    for name, ext in (("baseline", False), ("thinkbudget", True)):
        path = log_dir / f"{name}.yaml"
        path.write_text(yaml.safe_dump(proxy_config(backends, with_extension=ext), sort_keys=False))
        configs[name] = path
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futures = {n: pool.submit(start_proxy, p, log_dir / n, env) for n, p in configs.items()}
        started = {}
        for n, f in futures.items():
            try:
                started[n] = f.result()
                stack.services.append(started[n])
            except StackError:
                for other in futures.values():
                    with contextlib.suppress(Exception):
                        stack.services.append(other.result())
                raise
    return started["baseline"], started["thinkbudget"]


# ---------------------------------------------------------------------------- main


def classifier_label() -> str:
    """First docstring line of the classifier module the proxy loads (shows a placeholder as such)."""
    import thinkbudget_litellm.classify as classify

    doc = (classify.__doc__ or "").strip().splitlines()
    return doc[0] if doc else "thinkbudget_litellm.classify"


def parse_modes(text: str) -> list[str]:
    modes = [m.strip() for m in text.split(",") if m.strip()]
    bad = [m for m in modes if m not in MODES]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown mode(s) {bad}; choose from {list(MODES)}")
    return modes


def build_workloads(items: Sequence[BenchItem], args: argparse.Namespace) -> list[tuple[str, list[Request], list[str]]]:
    plan = []
    if args.labelled_modes and args.per_tier > 0:
        plan.append(("labelled", stratified(items, args.per_tier), args.labelled_modes))
    if args.mix_modes and args.mix_size > 0:
        plan.append(("mix", traffic_mix(items, args.mix_size), args.mix_modes))
    return plan


async def one_run(
    args: argparse.Namespace, proxy: Service, key: str, backend: Backend, workload: str, run: str,
    requests: Sequence[Request],
) -> tuple[list[RequestResult], RunInfo]:  # fmt: skip
    info = RunInfo(workload, run, backend.deployment)
    before = read_counter(backend.metrics_url)
    engine_before = read_engine_counters(args.engine_metrics)
    t0 = time.perf_counter()
    rows = await run_requests(
        proxy.base, key, backend.deployment, requests, run, workload, backend.simulated,
        args.concurrency, args.request_timeout, args.style != "parser", args.max_tokens, args.max_completion_tokens,
        args.temperature,
    )  # fmt: skip
    info.wall_s = time.perf_counter() - t0
    after = read_counter(backend.metrics_url)
    engine_after = read_engine_counters(args.engine_metrics)
    if engine_before is not None and engine_after is not None:
        info.engine_generation_tokens = engine_after[0] - engine_before[0]
        info.engine_prompt_tokens = engine_after[1] - engine_before[1]
    info.counter_j = after - before if before is not None and after is not None else None
    info.bill_usd = info.wall_s * backend.gpu_cost_per_hour / 3600.0 if backend.metrics_url else None
    info.tokens = sum(r.thinking_tokens + r.answer_tokens for r in rows if r.ok)
    info.failures = sum(not r.ok for r in rows)
    return rows, info


async def run_all_workloads(
    args: argparse.Namespace, plan: list[tuple[str, list[Request], list[str]]], backends: dict[str, Backend],
    baseline: Service, ext: Service, key: str, db_path: Path,
) -> tuple[list[RequestResult], list[RunInfo]]:  # fmt: skip
    all_rows: list[RequestResult] = []
    infos: list[RunInfo] = []
    used = {(BASELINE, backends[modes[0]].deployment) for _, _, modes in plan}
    used |= {(m, backends[m].deployment) for _, _, modes in plan for m in modes}
    for run, deployment in sorted(used):
        proxy = baseline if run == BASELINE else ext
        await warm_up(proxy.base, key, deployment, next(iter(backends.values())).simulated)
    for workload, requests, modes in plan:
        runs = [(BASELINE, baseline, backends[modes[0]])] + [(m, ext, backends[m]) for m in modes]
        for run, proxy, backend in runs:
            print(f"  {workload:<8} {run:<8} {len(requests)} requests via {backend.deployment} ...", flush=True)
            rows, info = await one_run(args, proxy, key, backend, workload, run, requests)
            if run == BASELINE:
                apply_window_shares(rows, info, overwrite=True)
            else:
                await asyncio.sleep(1.0)  # the record writer flushes in the background
                ids = {r.call_id for r in rows if r.ok and r.call_id}
                records = read_records(db_path, ids)
                apply_records(rows, records)
                info.records_found = len(records)
                got = [r for r in rows if r.figures_from == "record"]
                energies = [r.energy_j for r in got if r.energy_j is not None]
                costs = [r.cost_usd for r in got if r.cost_usd is not None]
                info.records_energy_j = sum(energies) if energies else None
                info.records_cost_usd = sum(costs) if costs else None
                missing = len(ids) - len(records)
                if missing:
                    info.notes.append(f"{missing} records missing: their figures are run-window shares")
                apply_window_shares(rows, info, overwrite=False)
            rate = info.tokens / max(info.wall_s, 1e-9)
            engine = f", engine generated {info.engine_generation_tokens:.0f}" if info.engine_generation_tokens else ""
            print(f"    {info.wall_s:6.1f} s, {info.tokens} tokens ({rate:.0f}/s){engine}, {info.failures} failed")
            for r in rows:
                if not r.ok:
                    print(f"    failed {r.request_id}: {r.error}", flush=True)
            all_rows += rows
            infos.append(info)
    return all_rows, infos


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", type=Path, action="append", help=f"JSONL items (default {DATASET})")
    p.add_argument("--per-tier", type=int, default=4, help="labelled workload: items per label tier")
    p.add_argument("--labelled-modes", type=parse_modes, default=["native"], help="e.g. native,stream ('' skips)")
    p.add_argument("--mix-size", type=int, default=30, help="traffic-mix workload: number of requests")
    p.add_argument("--mix-modes", type=parse_modes, default=["native", "stream"], help="('' skips)")
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--request-timeout", type=float, default=300.0, help="seconds per request")
    p.add_argument("--tokens-per-second", type=float, default=120.0, help="simulator: per-stream decode rate")
    p.add_argument("--joules-per-token", type=float, default=0.5, help="simulator: energy per generated token")
    p.add_argument("--idle-watts", type=float, default=70.0, help="simulator: idle power per GPU")
    p.add_argument("--gpu-cost-per-hour", type=float, default=1.70, help="USD per GPU-hour (H100 rental)")
    p.add_argument("--style", choices=("parser", "inline", "preopened"), default="parser",
                   help="how the backend returns thinking")  # fmt: skip
    p.add_argument("--backend-url", help="a real OpenAI-compatible backend (…/v1) instead of the simulator")
    p.add_argument("--backend-model", default=f"hosted_vllm/{SIM_MODEL}", help="LiteLLM model for --backend-url")
    p.add_argument("--backend-metrics", help="DCGM exporter /metrics of the backend's GPU (energy), optional")
    p.add_argument("--gpu-name", default="H100")
    p.add_argument("--max-tokens", type=int, help="client max_tokens (real backends; the simulator needs none)")
    p.add_argument(
        "--max-completion-tokens",
        type=int,
        help="client max_completion_tokens: thinking + answer together (real backends)",
    )
    p.add_argument("--temperature", type=float, help="client temperature (default: the backend's)")
    p.add_argument("--max-model-len", type=int, help="--backend-url: the engine's context window (model_info)")
    p.add_argument(
        "--template-preopens-think",
        action="store_true",
        help="--backend-url: the chat template opens <think> in the generation prompt (R1-style)",
    )
    p.add_argument("--engine-metrics", help="the engine's own /metrics (vLLM token counters), optional")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--log-dir", type=Path, help="keep proxy/simulator logs here (default: a temp dir)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.concurrency < 1 or args.request_timeout <= 0:
        sys.exit("--concurrency must be >= 1 and --request-timeout > 0")
    try:
        items = load_items(args.dataset or [DATASET])
    except DatasetError as exc:
        sys.exit(f"dataset: {exc}")
    text_items = [i for i in items if i.text_only]
    plan = build_workloads(text_items, args)
    if not plan:
        sys.exit("nothing to run: give --per-tier/--labelled-modes or --mix-size/--mix-modes")
    modes = sorted({m for _, _, ms in plan for m in ms}, key=MODES.index)
    key = "sk-" + secrets.token_hex(32)
    t_start = time.perf_counter()
    with running_stack() as stack, tempfile.TemporaryDirectory(prefix="thinkbudget-bench-") as tmp:
        log_dir = args.log_dir or Path(tmp)
        log_dir.mkdir(parents=True, exist_ok=True)
        db_path = log_dir / "records.sqlite"
        with contextlib.suppress(FileNotFoundError):
            db_path.unlink()
        try:
            backends = start_backends(args, modes, log_dir, stack)
            baseline, ext = start_proxies(backends, log_dir, db_path, key, stack)
        except StackError as exc:
            sys.exit(f"could not start the stack:\n{exc}")
        print(f"stack ready after {time.perf_counter() - t_start:.1f} s", flush=True)
        try:
            rows, infos = asyncio.run(run_all_workloads(args, plan, backends, baseline, ext, key, db_path))
        except StackError as exc:
            print(stack.logs(), file=sys.stderr)
            sys.exit(str(exc))
        except BaseException:
            print(stack.logs(), file=sys.stderr)
            raise
    simulated = not args.backend_url
    meta = {
        "simulated": simulated,
        "classifier": classifier_label(),
        "backend": "thinkbudget-litellm sim-backend (SIMULATED)" if simulated else args.backend_url,
        "sim": {
            "model": SIM_MODEL,
            "style": args.style,
            "tokens_per_second_per_stream": args.tokens_per_second,
            "joules_per_token": args.joules_per_token,
            "prefill_weight": PREFILL_WEIGHT,
            "idle_watts": args.idle_watts,
        }
        if simulated
        else None,
        "real_backend": None
        if simulated
        else {
            "model": args.backend_model,
            "max_model_len": args.max_model_len,
            "template_preopens_think": args.template_preopens_think,
            "client_max_tokens": args.max_tokens,
            "client_max_completion_tokens": args.max_completion_tokens,
            "client_temperature": args.temperature,
            "engine_metrics": args.engine_metrics,
        },
        "gpu_cost_per_hour": args.gpu_cost_per_hour,
        "concurrency": args.concurrency,
        "dataset": [str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p) for p in (args.dataset or [DATASET])],
        "items": len(items),
        "excluded_non_text": len(items) - len(text_items),
        "traffic_mix": {t.value: s for t, s in TRAFFIC_MIX.items()},
        "token_counter": counter_name(),
        "workloads": {w: {"requests": len(r), "modes": m} for w, r, m in plan},
        "runtime_s": round(time.perf_counter() - t_start, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
    }
    out = {"meta": meta, "runs": [vars(i) for i in infos], "requests": [r.as_dict() for r in rows]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out} ({len(rows)} request rows) in {meta['runtime_s']} s")
    return 1 if any(i.failures for i in infos) else 0


if __name__ == "__main__":
    sys.exit(main())

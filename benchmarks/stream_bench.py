"""Streaming overhead of thinkbudget: per-chunk cost of our hook in-process, and proxy throughput
with and without the extension, measured in one run as a ratio. Prints figures; asserts nothing.

    PYTHONPATH=. python benchmarks/stream_bench.py [--chunks 4000] [--streams 4]
        [--tokens 2000] [--rounds 3] [--json benchmarks/results/stream_bench.json]

1. Hook cost: ``StreamEnforcer.run`` (ThinkingStream state machine, token counting, meter
   ledger) over synthetic LiteLLM ``ModelResponseStream`` chunks of one token each, minus a plain
   async pass-through of the same chunks; best of several rounds, CPU time.
2. Throughput: one unpaced simulated backend (``--tokens-per-second 0``), two real LiteLLM proxies
   in front of it: plain, and with thinkbudget (stream enforcement, energy meter and SQLite records
   on; budgets so large that nothing is cut). ``--streams`` concurrent streams of ``--tokens``
   thinking tokens each; tokens/s received by the client; rounds interleaved A/B, B/A, ... to spread
   the machine's noise over both. The ratio reported is the median of the per-round ratios (one
   disturbed round moves it less than the pooled ratio, which is printed too). Target: >= 0.95.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import httpx  # noqa: E402
import yaml  # noqa: E402

from benchmarks.workloads.proxy_configs import Backend, proxy_config  # noqa: E402
from thinkbudget_litellm.demo.stack import StackError, running_stack, start_proxy, start_sim  # noqa: E402
from thinkbudget_litellm.tiers import TIER_ORDER  # noqa: E402

SIM_MODEL = "deepseek-r1-distill-qwen-7b"
SENTENCE = "let me think about whether the sum of the first n primes is even so we check again"


# ---------------------------------------------------------------------------- 1. hook cost


def synthetic_chunks(n: int) -> list[Any]:
    """``n`` one-token ModelResponseStream chunks: three quarters thinking, then the answer."""
    from litellm.types.utils import Delta, ModelResponseStream, StreamingChoices

    split = n * 3 // 4
    words = SENTENCE.split()
    chunks = []
    for i in range(n):
        word = " " + words[i % len(words)]
        delta = Delta(reasoning_content=word) if i < split else Delta(content=word)
        chunks.append(ModelResponseStream(id="chatcmpl-bench", choices=[StreamingChoices(index=0, delta=delta)]))
    return chunks


async def _source(chunks: Sequence[Any]) -> AsyncIterator[Any]:
    for c in chunks:
        yield c


async def _passthrough(chunks: Sequence[Any]) -> int:
    n = 0
    async for _ in _source(chunks):
        n += 1
    return n


async def _enforcer(call_id: str) -> Any:
    from thinkbudget_litellm.handler.litellm_io import Caller
    from thinkbudget_litellm.handler.runtime import Runtime
    from thinkbudget_litellm.handler.state import RequestContext
    from thinkbudget_litellm.handler.stream_enforcer import StreamEnforcer
    from thinkbudget_litellm.lifecycle import Admission, RequestLifecycle
    from thinkbudget_litellm.policy.budget import BudgetDecision, BudgetScope
    from thinkbudget_litellm.settings import DeploymentSettings, Enforcement, ThinkBudgetSettings
    from thinkbudget_litellm.tiers import Task, Tier

    rt = Runtime(ThinkBudgetSettings())
    dep = DeploymentSettings.model_validate(
        {
            "enforcement": "stream",
            "gpu": {"cost_per_hour": 1.7},
            "energy": {"source": "estimate", "watts": 300},
        }
    )
    rt.meter.configure("bench-dep", dep)
    admission = Admission(
        call_id=call_id,
        decision=BudgetDecision(Tier.DEEP, 10**9, BudgetScope.TIER, None),
        task=Task.MATH,
        score=1.0,
        model_group="r1",
        stream=True,
        enforcement=Enforcement.STREAM,
    )
    caller = Caller(None, None, None, None, None, None, {}, {})
    ctx = RequestContext(caller=caller, lifecycle=RequestLifecycle(admission, rt.meter, time.monotonic))
    ctx.deployment_id, ctx.deployment = "bench-dep", dep
    await ctx.lifecycle.attempt_started("bench-dep", 0, priced=True, enforcement=Enforcement.STREAM)
    return StreamEnforcer(rt, ctx, {"litellm_call_id": call_id, "messages": []})


async def _through_enforcer(enforcer: Any, chunks: Sequence[Any]) -> int:
    n = 0
    async for _ in enforcer.run(_source(chunks)):
        n += 1
    return n


async def _close_enforcer(enforcer: Any) -> None:
    await enforcer.lc.settled()  # the stream's end completed the request and closed its meter entry
    await enforcer.rt.meter.stop()


def _feed_only(chunks: Sequence[Any]) -> None:
    from thinkbudget_litellm.enforce.thinking_stream import ThinkingStream
    from thinkbudget_litellm.enforce.token_count import count_tokens

    ts = ThinkingStream(budget=10**9, counter=count_tokens)
    for c in chunks:
        d = c.choices[0].delta
        ts.feed(getattr(d, "reasoning_content", None), getattr(d, "content", None))
    ts.finish()


def hook_cost(n_chunks: int, rounds: int) -> dict[str, float]:
    """Best-of-``rounds`` CPU microseconds per chunk: pass-through, enforcer, feed alone."""
    chunks = synthetic_chunks(n_chunks)
    loop = asyncio.new_event_loop()
    try:
        best = {"passthrough": float("inf"), "enforcer": float("inf"), "feed": float("inf")}
        for r in range(rounds):
            t = time.process_time_ns()
            assert loop.run_until_complete(_passthrough(chunks)) == n_chunks
            best["passthrough"] = min(best["passthrough"], time.process_time_ns() - t)
            enforcer = loop.run_until_complete(_enforcer(f"bench-{r}"))
            t = time.process_time_ns()
            assert loop.run_until_complete(_through_enforcer(enforcer, chunks)) == n_chunks
            best["enforcer"] = min(best["enforcer"], time.process_time_ns() - t)
            loop.run_until_complete(_close_enforcer(enforcer))
            t = time.process_time_ns()
            _feed_only(chunks)
            best["feed"] = min(best["feed"], time.process_time_ns() - t)
    finally:
        loop.close()
    per = {k: v / 1000 / n_chunks for k, v in best.items()}
    return {
        "chunks": n_chunks,
        "passthrough_us_per_chunk": per["passthrough"],
        "enforcer_total_us_per_chunk": per["enforcer"],
        "enforcer_us_per_chunk": per["enforcer"] - per["passthrough"],
        "feed_us_per_chunk": per["feed"],
    }


# ---------------------------------------------------------------------------- 2. throughput


def cpu_seconds_from_stat(stat: str, ticks_per_s: float) -> float:
    """User + system CPU seconds from a /proc/<pid>/stat line (utime and stime, fields 14 and 15)."""
    fields = stat.rsplit(")", 1)[1].split()  # the command name may hold spaces and parentheses
    return (int(fields[11]) + int(fields[12])) / ticks_per_s


def process_cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return cpu_seconds_from_stat(fh.read(), os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


async def _stream_once(client: httpx.AsyncClient, base: str, key: str, tokens: int) -> int:
    body = {
        "model": "r1-stream",
        "stream": True,
        "messages": [{"role": "user", "content": "Prove that there are infinitely many primes."}],
        "sim": {"think_tokens": tokens, "answer_tokens": 50},
    }
    n = 0
    async with client.stream(
        "POST", base + "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
    ) as resp:
        if resp.status_code != 200:
            raise RuntimeError(f"HTTP {resp.status_code}: {(await resp.aread())[:300]!r}")
        async for line in resp.aiter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                n += 1
    return n


async def _round(base: str, key: str, streams: int, tokens: int) -> tuple[int, float]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=10.0)) as client:
        t0 = time.perf_counter()
        counts = await asyncio.gather(*(_stream_once(client, base, key, tokens) for _ in range(streams)))
        return sum(counts), time.perf_counter() - t0


def throughput(streams: int, tokens: int, rounds: int) -> dict[str, Any]:
    key = "sk-" + secrets.token_hex(32)
    with running_stack() as stack, tempfile.TemporaryDirectory(prefix="thinkbudget-streambench-") as tmp:
        log_dir = Path(tmp)
        sim = start_sim("sim", ["--model-name", SIM_MODEL, "--tokens-per-second", "0"], log_dir)
        stack.services.append(sim)
        backend = Backend("stream", sim.base + "/v1", f"hosted_vllm/{SIM_MODEL}", sim.base + "/metrics")
        big = {t.value: 4 * tokens + 1000 for t in TIER_ORDER}  # nothing is cut
        env = {
            "LITELLM_MASTER_KEY": key,
            "THINKBUDGET_DATABASE_URL": f"sqlite+aiosqlite:///{log_dir / 'records.sqlite'}",
        }
        paths = {}
        for name, with_ext in (("plain", False), ("thinkbudget", True)):
            cfg = proxy_config({"stream": backend}, with_extension=with_ext, budgets=big)
            paths[name] = log_dir / f"{name}.yaml"
            paths[name].write_text(yaml.safe_dump(cfg, sort_keys=False))
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            futures = {n: pool.submit(start_proxy, p, log_dir / n, env) for n, p in paths.items()}
            proxies = {}
            for label, future in futures.items():
                proxies[label] = future.result()
                stack.services.append(proxies[label])
        for p in proxies.values():  # warm up: first requests load modules, the tokenizer, the DB
            asyncio.run(_round(p.base, key, 1, 200))
        results: dict[str, list[tuple[int, float]]] = {"plain": [], "thinkbudget": []}
        cpu: dict[str, list[float]] = {"plain": [], "thinkbudget": []}  # proxy CPU seconds per round
        for r in range(rounds):
            order = ("plain", "thinkbudget") if r % 2 == 0 else ("thinkbudget", "plain")
            for name in order:
                before = process_cpu_seconds(proxies[name].proc.pid)
                count, wall = asyncio.run(_round(proxies[name].base, key, streams, tokens))
                after = process_cpu_seconds(proxies[name].proc.pid)
                results[name].append((count, wall))
                if before is not None and after is not None:
                    cpu[name].append(after - before)
                print(f"  round {r + 1} {name:<11} {count} chunks in {wall:5.2f} s = {count / wall:6.0f}/s")
    plain = sum(n for n, _ in results["plain"]) / sum(w for _, w in results["plain"])
    ext = sum(n for n, _ in results["thinkbudget"]) / sum(w for _, w in results["thinkbudget"])
    per_round = [(e[0] / e[1]) / (p[0] / p[1]) for p, e in zip(results["plain"], results["thinkbudget"], strict=True)]
    cpu_us = {
        name: 1e6 * sum(cpu[name]) / sum(n for n, _ in results[name])
        for name in results
        if len(cpu[name]) == len(results[name])
    }
    return {
        "proxy_cpu_us_per_chunk_plain": cpu_us.get("plain"),
        "proxy_cpu_us_per_chunk_ext": cpu_us.get("thinkbudget"),
        "streams": streams,
        "tokens_per_stream": tokens,
        "rounds": rounds,
        "plain_tokens_per_s": plain,
        "ext_tokens_per_s": ext,
        "ratio": statistics.median(per_round),
        "ratio_pooled": ext / plain,
        "ratio_per_round": per_round,
        "enforcement": "stream",
        "note": "chunks counted as SSE data events (one token each from the simulator)",
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--chunks", type=int, default=4000, help="hook cost: chunks per stream")
    p.add_argument("--hook-rounds", type=int, default=5)
    p.add_argument("--streams", type=int, default=4, help="throughput: concurrent streams")
    p.add_argument("--tokens", type=int, default=1000, help="throughput: thinking tokens per stream")
    p.add_argument("--rounds", type=int, default=5, help="throughput: rounds per proxy (interleaved)")
    p.add_argument("--no-proxy", action="store_true", help="only the in-process hook cost")
    p.add_argument("--json", type=Path, help="write the figures here")
    args = p.parse_args(argv)
    if min(args.chunks, args.hook_rounds, args.streams, args.tokens, args.rounds) < 1:
        sys.exit("all sizes must be >= 1")
    out: dict[str, Any] = {}
    print(f"hook cost: {args.chunks} one-token chunks, best of {args.hook_rounds} rounds (CPU time)")
    out["hook"] = hook = hook_cost(args.chunks, args.hook_rounds)
    print(f"  pass-through             {hook['passthrough_us_per_chunk']:7.2f} us/chunk")
    print(f"  StreamEnforcer.run       {hook['enforcer_total_us_per_chunk']:7.2f} us/chunk")
    print(f"  => our hook adds         {hook['enforcer_us_per_chunk']:7.2f} us/chunk")
    print(f"  ThinkingStream.feed only {hook['feed_us_per_chunk']:7.2f} us/chunk")
    if not args.no_proxy:
        sizes = f"{args.streams} streams x {args.tokens} tokens, {args.rounds} rounds per proxy"
        print(f"throughput: {sizes}, A/B interleaved")
        try:
            out["throughput"] = thr = throughput(args.streams, args.tokens, args.rounds)
        except (StackError, RuntimeError, httpx.HTTPError) as exc:
            sys.exit(f"throughput run failed: {exc}")
        print(
            f"  plain LiteLLM {thr['plain_tokens_per_s']:.0f} tokens/s, with thinkbudget "
            f"{thr['ext_tokens_per_s']:.0f} tokens/s (pooled ratio {thr['ratio_pooled']:.3f}); median ratio "
            f"{thr['ratio']:.3f} (per round {', '.join(f'{x:.3f}' for x in thr['ratio_per_round'])}; target >= 0.95)"
        )
        if thr["proxy_cpu_us_per_chunk_plain"] and thr["proxy_cpu_us_per_chunk_ext"]:
            plain_us, ext_us = thr["proxy_cpu_us_per_chunk_plain"], thr["proxy_cpu_us_per_chunk_ext"]
            print(
                f"  proxy CPU per chunk: plain {plain_us:.0f} us, with thinkbudget {ext_us:.0f} us "
                f"({ext_us / plain_us - 1:+.1%})"
            )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

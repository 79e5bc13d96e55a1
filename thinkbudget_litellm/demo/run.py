"""The demo: simulated backends + a real LiteLLM proxy with thinkbudget, a handful of prompts
across all tiers, streaming and not, and a table of what happened. No GPU, no database server,
no network beyond loopback."""

from __future__ import annotations

import os
import secrets
import shlex
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
from rich.console import Console
from rich.table import Table

from thinkbudget_litellm.demo.stack import REPO_ROOT, running_stack, start_proxy, start_sim
from thinkbudget_litellm.record.database_url import resolve_database_target

DEMO_CONFIG = REPO_ROOT / "config" / "demo.yaml"
DEMO_KEYS = REPO_ROOT / "config" / "demo_keys.yaml"

# (prompt, model, stream, natural thinking tokens the simulated model would spend unbudgeted).
# The natural lengths follow published figures: reasoning models think for hundreds of tokens even
# on trivial queries (OptimalThinkingBench), and thousands on hard problems (ML.ENERGY v3: ~7k
# output tokens per problem-solving response).
PROMPTS: tuple[tuple[str, str, bool, int], ...] = (
    ("hi there!", "r1-stream", True, 420),
    ("What is the capital of Peru?", "r1-native", False, 650),
    ("Convert 5 miles to kilometres.", "r1-stream", False, 700),
    ("Compare REST and GraphQL for a public API.", "r1-native", True, 1400),
    ("Write a Python function that reverses the words in a sentence.", "r1-stream", True, 1200),
    (
        "Design a rate limiter for 10k requests per second across 3 regions; discuss trade-offs.",
        "r1-native",
        True,
        3200,
    ),
    ("Find the bug: def mean(xs): return sum(xs) / len(xs) - 1", "r1-stream", True, 2600),
    ("Prove that there are infinitely many primes of the form 4k+3.", "r1-native", False, 5200),
)


@dataclass
class Row:
    call_id: str
    prompt: str
    model: str
    stream: bool
    tier: str
    budget: str
    thinking: int
    answer: int
    cut: str
    cost: str
    energy: str
    seconds: float


def _count(text: str) -> int:
    from thinkbudget_litellm.enforce.token_count import count_tokens

    return count_tokens(text) if text else 0


def _ask(client: openai.OpenAI, prompt: str, model: str, stream: bool, natural: int) -> Row:
    t0 = time.perf_counter()
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "extra_body": {"sim": {"think_tokens": natural}},
    }
    reasoning, content = "", ""
    if stream:
        raw = client.chat.completions.with_raw_response.create(stream=True, **kwargs)
        headers = raw.headers
        for chunk in raw.parse():
            for choice in chunk.choices:
                delta = choice.delta
                reasoning += getattr(delta, "reasoning_content", None) or ""
                content += delta.content or ""
    else:
        raw = client.chat.completions.with_raw_response.create(**kwargs)
        headers = raw.headers
        msg = raw.parse().choices[0].message
        reasoning = getattr(msg, "reasoning_content", None) or ""
        content = msg.content or ""
    thinking = _count(reasoning) if reasoning else _count(content.split("</think>")[0]) if "</think>" in content else 0
    answer_text = content.split("</think>")[-1]
    budget = headers.get("x-thinkbudget-budget", "?")
    cut = "?"
    cost = headers.get("x-thinkbudget-cost")
    energy = headers.get("x-thinkbudget-energy-j")
    return Row(
        call_id=headers.get("x-litellm-call-id", ""),
        prompt=prompt,
        model=model,
        stream=stream,
        tier=headers.get("x-thinkbudget-tier", "?"),
        budget=budget,
        thinking=thinking,
        answer=_count(answer_text),
        cut=cut,
        cost=f"${float(cost):.6f}" if cost else "not recorded",
        energy=f"{float(energy):.1f} J" if energy else "not recorded",
        seconds=time.perf_counter() - t0,
    )


def records_database_url(env: dict[str, str] | None = None) -> str:
    """Where the demo's proxy writes its records: where ``thinkbudget-litellm report`` looks too
    (``THINKBUDGET_DATABASE_URL``, ``DATABASE_URL``, ..., else ``thinkbudget.sqlite`` here), with an
    SQLite path made absolute (the proxy runs in a directory of its own)."""
    target = resolve_database_target(dict(os.environ) if env is None else env)
    if target.dialect != "sqlite":
        return target.url
    path = target.url.split(":///", 1)[1]
    return f"sqlite+aiosqlite:///{Path(path).resolve()}"


def serve_lines(proxy_base: str, master_key: str) -> list[str]:
    """What ``demo --serve`` prints: the dashboard's URL and a request to try."""
    body = '{"model": "r1-stream", "messages": [{"role": "user", "content": "Why is the sky blue?"}]}'
    curl = " ".join(
        [
            "curl -i",
            shlex.quote(f"{proxy_base}/v1/chat/completions"),
            "-H 'Authorization: Bearer sk-demo-research'",
            "-H 'Content-Type: application/json'",
            "-d",
            shlex.quote(body),
        ]
    )
    return [
        f"dashboard: {proxy_base}/thinkbudget/ui#key={master_key}",
        f"  (the master key {master_key} sees every team; sk-demo-research sees team research only)",
        f"try: {curl}",
        "send the same request twice: the second is a cache hit (0 J, $0; see X-ThinkBudget-Cache).",
        "report: thinkbudget-litellm report --since 1h   (reads the same records)",
        "Ctrl-C stops everything.",
    ]


def run_demo(console: Console | None = None, tokens_per_second: float = 2000.0, serve: bool = False) -> list[Row]:
    console = console or Console(width=160)
    t_start = time.perf_counter()
    with running_stack() as stack, tempfile.TemporaryDirectory(prefix="thinkbudget-demo-") as tmp:
        log_dir = Path(tmp)
        common = [
            "--model-name",
            "deepseek-r1-distill-qwen-7b",
            "--tokens-per-second",
            str(tokens_per_second),
            "--joules-per-token",
            "0.3",
            "--idle-watts",
            "70",
        ]
        console.print("[bold]thinkbudget-litellm demo[/bold]: starting the simulated backends and the LiteLLM proxy…")
        native = start_sim("sim-native", ["--style", "parser", "--native-budget", *common], log_dir)
        stack.services.append(native)
        streamed = start_sim("sim-stream", ["--style", "inline", *common], log_dir)
        stack.services.append(streamed)
        env = {
            "THINKBUDGET_SIM_NATIVE_URL": native.base + "/v1",
            "THINKBUDGET_SIM_NATIVE_METRICS": native.base + "/metrics",
            "THINKBUDGET_SIM_STREAM_URL": streamed.base + "/v1",
            "THINKBUDGET_SIM_STREAM_METRICS": streamed.base + "/metrics",
            "THINKBUDGET_EMULATED_KEYS": str(DEMO_KEYS),
            "THINKBUDGET_DATABASE_URL": records_database_url(),
            "THINKBUDGET_SPOOL_DIR": str(log_dir / "spool"),
            "LITELLM_MASTER_KEY": "sk-demo-master-" + secrets.token_hex(8),
        }
        proxy = start_proxy(DEMO_CONFIG, log_dir, env=env)
        stack.services.append(proxy)
        console.print(f"proxy ready on {proxy.base} after {time.perf_counter() - t_start:.1f}s")
        client = openai.OpenAI(base_url=proxy.base + "/v1", api_key="sk-demo-research", max_retries=0, timeout=60)
        rows = []
        try:
            for prompt, model, stream, natural in PROMPTS:
                rows.append(_ask(client, prompt, model, stream, natural))
            if env["THINKBUDGET_DATABASE_URL"].startswith("sqlite"):
                _fill_from_records(rows, env["THINKBUDGET_DATABASE_URL"])
        except Exception:
            console.print(stack.logs(), markup=False, highlight=False)
            raise
        _print_table(console, rows)
        console.print(f"records: {env['THINKBUDGET_DATABASE_URL'].split('@')[-1]}", markup=False)
        if serve:
            for line in serve_lines(proxy.base, env["LITELLM_MASTER_KEY"]):
                console.print(line, markup=False, highlight=False, soft_wrap=True)
            console.file.flush()
            while all(svc.proc.poll() is None for svc in stack.services):
                time.sleep(1.0)
            console.print(stack.logs(), markup=False, highlight=False)
            raise RuntimeError("a demo process exited; its log is above")
    console.print(f"done in {time.perf_counter() - t_start:.1f}s; all processes stopped.")
    return rows


def _fill_from_records(rows: list[Row], database_url: str, wait_s: float = 5.0) -> None:
    """Cost, energy and the cut flag from the records the proxy wrote (streams carry no cost header)."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url.replace("+aiosqlite", ""))
    ids = [r.call_id for r in rows if r.call_id]
    found: dict[str, Any] = {}
    deadline = time.monotonic() + wait_s
    try:
        while len(found) < len(ids) and time.monotonic() < deadline:
            try:
                with engine.connect() as conn:
                    query = sa.text(
                        "SELECT litellm_call_id, cut, cost_usd, energy_j, energy_source FROM request_records "
                        "WHERE litellm_call_id IN :ids"
                    ).bindparams(sa.bindparam("ids", expanding=True))
                    found = {row[0]: row for row in conn.execute(query, {"ids": ids})}
            except sa.exc.OperationalError:
                pass  # the writer has not created the table yet
            time.sleep(0.2)
    finally:
        engine.dispose()
    for r in rows:
        rec = found.get(r.call_id)
        if rec is None:
            continue
        r.cut = "yes" if rec[1] else "no"
        r.cost = f"${rec[2]:.6f}" if rec[2] is not None else "n/a"
        r.energy = f"{rec[3]:.1f} J" if rec[3] is not None else f"n/a ({rec[4]})"


def _print_table(console: Console, rows: list[Row]) -> None:
    table = Table(title="thinkbudget through a real LiteLLM proxy (simulated reasoning backend)")
    for col in (
        "prompt",
        "model",
        "stream",
        "tier",
        "budget",
        "thinking",
        "answer",
        "cut",
        "cost",
        "energy",
        "s",
    ):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r.prompt,
            r.model,
            "yes" if r.stream else "no",
            r.tier,
            r.budget,
            str(r.thinking),
            str(r.answer),
            r.cut,
            r.cost,
            r.energy,
            f"{r.seconds:.2f}",
        )
    console.print(table)
    console.print(
        "thinking = thinking tokens the client received (for cut requests it includes the ~24-token transition "
        "sentence that closes the thinking). Energy and cost come from the simulated backend's DCGM-style meter "
        "(labelled 'simulated'): they show the accounting path, not a real GPU."
    )

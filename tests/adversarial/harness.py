"""The adversarial suite's running stack and the helpers its tests share.

:class:`AdvStack` holds the simulated backends, the test doubles (:mod:`doubles`), the records database and
one real ``litellm`` proxy subprocess (restartable, for the kill test). The helpers read what each
side saw: the simulator's received bodies, LiteLLM's logging events (recorder callback), our
records (polled with a deadline), the proxy's ``/metrics`` and the ``report`` command's output.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from tests.adversarial import stack_config
from tests.adversarial.doubles import EngineDouble, HostileDcgm
from thinkbudget_litellm.demo.stack import OFFLINE_ENV, REPO_ROOT, Service, Stack, start_proxy
from thinkbudget_litellm.enforce.token_count import count_tokens

CHAT = "/v1/chat/completions"
DEEP = "Prove that there are infinitely many primes of the form 4k+3."
HI = "hi"
SIMPLE = "Convert 5 miles to kilometres."
# Thinking the client may see past the budget: the transition sentence the proxy appends at a cut.
STREAM_SLACK_TOKENS = 40


@dataclass
class AdvStack:
    stack: Stack
    proxy: Service
    sims: dict[str, Service]
    dcgm: HostileDcgm
    engine: EngineDouble
    log_dir: Path
    config_path: Path
    proxy_env: dict[str, str]
    events_path: Path
    database_url: str
    postgres: bool
    restarts: int = 0
    _engine: sa.Engine | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return self.proxy.base

    def client(self, key: str, timeout: float = 60.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=timeout)

    def async_client(self, key: str, connections: int = 64, timeout: float = 60.0) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=0)
        return httpx.AsyncClient(
            base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=timeout, limits=limits
        )

    # ------------------------------------------------------------------ proxy process
    def restart_proxy(self) -> Service:
        """Start a new proxy on the same config, database and spool directory (the old one is dead)."""
        self.restarts += 1
        self.proxy = start_proxy(self.config_path, self.log_dir / f"restart-{self.restarts}", env=self.proxy_env)
        self.stack.services.append(self.proxy)
        return self.proxy

    # ------------------------------------------------------------------ what the simulator saw
    def sim_stats(self, sim: str) -> dict[str, Any]:
        stats: dict[str, Any] = httpx.get(self.sims[sim].base + "/sim/stats", timeout=5).json()
        return stats

    def sim_bodies(self, sim: str) -> list[dict[str, Any]]:
        """The last request bodies the simulator received (it keeps 20)."""
        bodies: list[dict[str, Any]] = self.sim_stats(sim).get("last_bodies") or []
        return bodies

    # ------------------------------------------------------------------ what LiteLLM logged
    def events(self, call_id: str | None = None, wait_s: float = 5.0, count: int = 1) -> list[dict[str, Any]]:
        deadline = time.monotonic() + wait_s
        while True:
            found = []
            if self.events_path.exists():
                for line in self.events_path.read_text(encoding="utf-8", errors="replace").splitlines():
                    try:
                        ev = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a line the proxy is still writing
                    if call_id is None or ev.get("litellm_call_id") == call_id:
                        found.append(ev)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    # ------------------------------------------------------------------ our records
    def sync_engine(self) -> sa.Engine:
        """A synchronous engine on the records database (for the tests' own queries)."""
        if self._engine is None:
            url = self.database_url.replace("+asyncpg", "+psycopg").replace("+aiosqlite", "")
            self._engine = sa.create_engine(url)
        return self._engine

    def records(self, call_ids: Iterable[str], wait_s: float = 15.0) -> dict[str, list[dict[str, Any]]]:
        """Rows per call id (a list, so a duplicate would show), once all are there or at the deadline."""
        return self.records_by("litellm_call_id", call_ids, wait_s)

    def records_by(
        self, column: str, values: Iterable[str], wait_s: float = 15.0, need: Iterable[str] | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """Rows whose ``column`` is one of ``values``, grouped by it; polled until every value in
        ``need`` (default: all of them) has a row, or the deadline passes."""
        wanted = sorted(set(values))
        needed = set(wanted if need is None else need)
        table = "thinkbudget.request_records" if self.postgres else "request_records"
        query = sa.text(f"SELECT * FROM {table} WHERE {column} IN :values").bindparams(
            sa.bindparam("values", expanding=True)
        )
        deadline = time.monotonic() + wait_s
        while True:
            rows: list[sa.RowMapping] = []
            try:
                with self.sync_engine().connect() as conn:
                    for i in range(0, len(wanted), 500):
                        rows.extend(conn.execute(query, {"values": wanted[i : i + 500]}).mappings())
            except sa.exc.DBAPIError:
                rows = []  # the writer has not created the table yet
            out: dict[str, list[dict[str, Any]]] = {}
            for r in rows:
                out.setdefault(r[column], []).append(dict(r))
            if needed <= out.keys() or time.monotonic() > deadline:
                return out
            time.sleep(0.2)

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # ------------------------------------------------------------------ proxy metrics
    def metrics_text(self) -> str:
        """The proxy's Prometheus page (LiteLLM asks for a key there too)."""
        with self.client(stack_config.PLAIN, timeout=10) as c:
            r = c.get("/metrics", follow_redirects=True)
        r.raise_for_status()
        return r.text

    def in_flight(self, wait_s: float = 20.0) -> float:
        """``thinkbudget_requests_in_flight`` on the proxy's /metrics, once 0 or at the deadline."""
        deadline = time.monotonic() + wait_s
        while True:
            text = self.metrics_text()
            value = next(
                (float(ln.split()[-1]) for ln in text.splitlines() if ln.startswith("thinkbudget_requests_in_flight ")),
                float("nan"),
            )
            if value == 0 or time.monotonic() > deadline:
                return value
            time.sleep(0.2)

    # ------------------------------------------------------------------ the report command
    def report(self, by: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "thinkbudget_litellm.cli.main", "report", "--by", by, "--since", "1d"]
        env = {**self.proxy_env, **OFFLINE_ENV, "PYTHONPATH": str(REPO_ROOT), "COLUMNS": "200"}
        return subprocess.run(
            [*argv, "--url", self.database_url],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="backslashreplace",
            timeout=120,
            env=env,
            cwd=str(self.log_dir),
            check=False,
        )


# ---------------------------------------------------------------------- response parsing (pure)
def sse_events(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            try:
                out.append(json.loads(line[6:]))
            except json.JSONDecodeError:
                out.append({"unparsable": line})
    return out


def stream_thinking(text: str) -> tuple[str, str]:
    """(thinking, answer) the client saw in an SSE chat stream (reasoning field or inline <think>)."""
    reasoning, content = "", ""
    for ev in sse_events(text):
        for ch in ev.get("choices") or []:
            delta = ch.get("delta") or {}
            reasoning += delta.get("reasoning_content") or delta.get("reasoning") or ""
            content += delta.get("content") or ""
    if reasoning:
        return reasoning, content
    if "</think>" in content:
        think, answer = content.split("</think>", 1)
        return think.replace("<think>", ""), answer
    if "<think>" in content:  # never closed: all of it is thinking
        return content.replace("<think>", ""), ""
    return "", content


def thinking_tokens_seen(text: str) -> int:
    return count_tokens(stream_thinking(text)[0])


def budget_headers(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    return headers.get("x-thinkbudget-tier"), headers.get("x-thinkbudget-budget")


def chat_body(model: str, prompt: str, *, stream: bool = False, tag: str = "", **extra: Any) -> dict[str, Any]:
    """A chat request; ``sim`` drives the simulator (think long unless told) and carries ``tag``,
    by which the test finds the body the engine received."""
    sim = {"think_tokens": 2000, "answer_tokens": 20, "tag": tag, **extra.pop("sim", {})}
    return {"model": model, "messages": [{"role": "user", "content": prompt}], "stream": stream, "sim": sim, **extra}


def body_with_tag(bodies: Iterable[Mapping[str, Any]], tag: str) -> Mapping[str, Any] | None:
    for b in bodies:
        sim = b.get("sim")
        if isinstance(sim, Mapping) and sim.get("tag") == tag:
            return b
    return None

"""Session-wide end-to-end stack: simulated backends + a real ``litellm`` proxy subprocess that
loads thinkbudget from its config, with emulated virtual keys (custom_auth)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e import stack_config
from tests.proxy_stack import proxy_env, records_url, stack_logs_on_failure, stack_or_fail, start_sims
from thinkbudget_litellm.demo.stack import Service, Stack, start_proxy


@dataclass
class E2E:
    stack: Stack
    proxy: Service
    sims: dict[str, Service]
    events_path: Path
    log_dir: Path
    database_url: str
    pg: Any = None  # the throwaway Postgres (tests.pg_fixtures.ThrowawayPostgres) when available
    pg_db: str | None = None

    @property
    def url(self) -> str:
        return self.proxy.base

    def client(self, key: str = "sk-plain") -> httpx.Client:
        return httpx.Client(base_url=self.proxy.base, headers={"Authorization": f"Bearer {key}"}, timeout=60)

    def events(self, call_id: str | None = None, wait_s: float = 5.0, count: int = 1) -> list[dict[str, Any]]:
        """LiteLLM logging events recorded in the proxy (optionally for one call id, waiting for ``count``)."""
        deadline = time.monotonic() + wait_s
        while True:
            evs = []
            if self.events_path.exists():
                for line in self.events_path.read_text().splitlines():
                    try:
                        ev = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # the proxy is still writing this line; it is read on the next poll
                    if call_id is None or ev.get("litellm_call_id") == call_id:
                        evs.append(ev)
            if len(evs) >= count or time.monotonic() > deadline:
                return evs
            time.sleep(0.05)

    def sim_stats(self, sim: str) -> dict[str, Any]:
        return httpx.get(self.sims[sim].base + "/sim/stats", timeout=5).json()

    def sim_bodies(self, sim: str) -> list[dict[str, Any]]:
        stats = self.sim_stats(sim)
        return stats.get("last_bodies") or stats.get("bodies") or []


def _litellm_postgres() -> tuple[Any, str | None]:
    """A throwaway Postgres holding LiteLLM's real tables and the emulated keys and teams, or
    (None, None) where no server binaries exist (the records then go to SQLite)."""
    from tests.pg_fixtures import PostgresUnavailable, start_litellm_postgres

    try:
        pg = start_litellm_postgres()
    except PostgresUnavailable:
        return None, None
    db = pg.create_database(with_litellm=True)
    pg.run_sql(stack_config.litellm_rows_sql(), db)
    return pg, db


@pytest.fixture(scope="session")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2E]:
    log_dir = tmp_path_factory.mktemp("e2e")
    pg, pg_db = _litellm_postgres()
    with stack_or_fail("end-to-end", on_stop=pg.destroy if pg is not None else None) as stack:
        sims = start_sims(stack, stack_config.SIMS, stack_config.COMMON_SIM_FLAGS, log_dir)
        cfg, keys = stack_config.write(log_dir)
        events = log_dir / "events.jsonl"
        database_url = records_url(pg.url(pg_db) if pg is not None else None, log_dir)
        env = proxy_env(sims, "SIM_", keys, events, database_url, log_dir)
        proxy = start_proxy(cfg, log_dir, env=env)
        stack.services.append(proxy)
        e = E2E(
            stack=stack,
            proxy=proxy,
            sims=sims,
            events_path=events,
            log_dir=log_dir,
            database_url=database_url,
            pg=pg,
            pg_db=pg_db,
        )
        _warm_up(e)
        yield e


pytest_runtest_makereport = stack_logs_on_failure("e2e")


def _warm_up(e: E2E) -> None:
    """One request per metered simulator: a meter's first reading is only its baseline, so a cold
    proxy's very first request is honestly labelled ``unmetered(fallback:dcgm first reading)``; the
    tests measure the warm path."""
    with e.client() as c:
        for model in ("r1-native", "r1-parser-stream"):
            body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "sim": {"think_tokens": 8}}
            c.post("/v1/chat/completions", json=body)

"""A proxy of its own for routing (tests/routing_e2e/stack_config.py), started once per session."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.proxy_stack import proxy_env, records_url, stack_logs_on_failure, stack_or_fail, start_sims
from tests.routing_e2e import stack_config
from thinkbudget_litellm.demo.stack import Service, Stack, start_proxy


@dataclass
class RoutingStack:
    stack: Stack
    proxy: Service
    sims: dict[str, Service]
    events_path: Path
    database_url: str

    def post(self, key: str, content: str, model: str = "auto", **extra: Any) -> httpx.Response:
        body = {"model": model, "messages": [{"role": "user", "content": content}], **extra}
        body.setdefault("sim", {"think_tokens": 40, "answer_tokens": 20})
        return httpx.post(
            self.proxy.base + "/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )

    def sim_requests(self) -> dict[str, int]:
        return {n: int(httpx.get(s.base + "/sim/stats", timeout=5).json()["requests"]) for n, s in self.sims.items()}

    def record(self, call_id: str, wait_s: float = 10.0) -> dict[str, Any]:
        url = self.database_url.replace("+aiosqlite", "")
        engine = sa.create_engine(url)
        deadline = time.monotonic() + wait_s
        try:
            while True:
                with engine.connect() as conn:
                    try:
                        row = (
                            conn.execute(
                                sa.text("SELECT * FROM request_records WHERE litellm_call_id = :id"), {"id": call_id}
                            )
                            .mappings()
                            .first()
                        )
                    except sa.exc.OperationalError:  # the writer has not created the table yet
                        row = None
                if row is not None:
                    return dict(row)
                if time.monotonic() > deadline:
                    raise AssertionError(f"no record for {call_id}")
                time.sleep(0.1)
        finally:
            engine.dispose()

    def events(self, call_id: str, wait_s: float = 5.0) -> list[dict[str, Any]]:
        import json

        deadline = time.monotonic() + wait_s
        while True:
            found = []
            if self.events_path.exists():
                for line in self.events_path.read_text().splitlines():
                    try:
                        ev = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    if ev.get("litellm_call_id") == call_id:
                        found.append(ev)
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


@pytest.fixture(scope="session")
def routing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RoutingStack]:
    log_dir = tmp_path_factory.mktemp("routing")
    with stack_or_fail("routing") as stack:
        sims = start_sims(stack, stack_config.SIMS, stack_config.COMMON_SIM_FLAGS, log_dir)
        cfg, keys = stack_config.write(log_dir)
        events = log_dir / "events.jsonl"
        database_url = records_url(None, log_dir)
        proxy = start_proxy(cfg, log_dir, env=proxy_env(sims, "RSIM_", keys, events, database_url, log_dir))
        stack.services.append(proxy)
        yield RoutingStack(stack, proxy, sims, events, database_url)


pytest_runtest_makereport = stack_logs_on_failure("routing")

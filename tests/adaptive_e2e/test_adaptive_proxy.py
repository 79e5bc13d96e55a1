"""End to end through two real LiteLLM proxies sharing one records database: once records exist, a
running proxy applies calibrated budgets without a restart, both instances apply the same one, and
headers and records say ``adaptive``."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.proxy_stack import stack_or_fail
from thinkbudget_litellm.demo.stack import Service, start_proxy, start_sim

REFRESH_S = 4.0
SETTLE_S = 1.0  # calibrate.refresher.settle_s(REFRESH_S)
MODEL = "r1-stream"
LENGTHS = (10, 12, 14, 16, 18, 20)  # natural thinking, all below the trivial default (32): uncensored


def _config(path: Path) -> Path:
    config = {
        "model_list": [
            {
                "model_name": MODEL,
                "litellm_params": {
                    "model": "hosted_vllm/deepseek-r1-distill-qwen-7b",
                    "api_base": "os.environ/SIM_URL",
                    "api_key": "sim",
                },
                "model_info": {"thinkbudget": {"enforcement": "stream"}},
            }
        ],
        "litellm_settings": {"callbacks": ["thinkbudget_litellm.proxy_handler"]},
        "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"},
        "thinkbudget": {
            "adaptive": {
                "enabled": True,
                "min_samples": len(LENGTHS),
                "refresh_s": REFRESH_S,
                "explore_share": 0.0,
                "bounds": {"min": 1, "max": 4096},
            }
        },
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[Service], Path, str]]:
    log_dir = tmp_path_factory.mktemp("adaptive")
    db = log_dir / "records.sqlite"
    key = "sk-adaptive-test"
    with stack_or_fail("adaptive") as stack:
        sim = start_sim(
            "sim",
            ["--style", "parser", "--tokens-per-second", "0", "--model-name", "deepseek-r1-distill-qwen-7b"],
            log_dir,
        )
        stack.services.append(sim)
        cfg = _config(log_dir / "config.yaml")
        proxies = []
        for name in ("a", "b"):
            env = {
                "SIM_URL": sim.base + "/v1",
                "LITELLM_MASTER_KEY": key,
                "THINKBUDGET_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
                "THINKBUDGET_SPOOL_DIR": str(log_dir / f"spool-{name}"),
            }
            proxies.append(start_proxy(cfg, log_dir / name, env=env))
            stack.services.append(proxies[-1])
        yield proxies, db, key


def _ask(proxy: Service, key: str, think_tokens: int) -> httpx.Response:
    body: dict[str, Any] = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "hi"}],
        "sim": {"think_tokens": think_tokens, "answer_tokens": 4},
    }
    response = httpx.post(
        proxy.base + "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=60
    )
    assert response.status_code == 200, response.text
    return response


def _records(db: Path) -> list[tuple[str, int, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT litellm_call_id, budget, budget_scope FROM request_records").fetchall()


def _wait_until_next_refresh() -> None:
    """Sleep until just after the next refresh of every instance (boundary + settle + margin)."""
    now = time.time()
    time.sleep((now // REFRESH_S + 1) * REFRESH_S + SETTLE_S + 0.8 - now)


def test_budgets_follow_the_records_without_a_restart_and_instances_agree(stack) -> None:
    (a, b), db, key = stack
    first = _ask(a, key, LENGTHS[0])
    assert first.headers["x-thinkbudget-budget-scope"] == "tier"
    assert first.headers["x-thinkbudget-budget"] == "32"
    for n in LENGTHS[1:]:
        _ask(b if n % 4 else a, key, n)  # both instances write to the shared database

    deadline = time.monotonic() + 60
    while True:  # the records land, a refresh period passes, both instances pick the new budget up
        _wait_until_next_refresh()
        ra, rb = _ask(a, key, 20), _ask(b, key, 20)
        scopes = (ra.headers["x-thinkbudget-budget-scope"], rb.headers["x-thinkbudget-budget-scope"])
        if scopes == ("adaptive", "adaptive") or time.monotonic() > deadline:
            break
    assert scopes == ("adaptive", "adaptive")
    assert ra.headers["x-thinkbudget-budget"] == rb.headers["x-thinkbudget-budget"]
    budget = int(ra.headers["x-thinkbudget-budget"])
    assert 18 <= budget <= 20  # the 0.9 quantile of 10..20, not the default 32

    deadline = time.monotonic() + 30
    wanted = {ra.headers.get("x-litellm-call-id"), rb.headers.get("x-litellm-call-id")}
    while time.monotonic() < deadline:
        rows = {r[0]: r for r in _records(db)}
        if wanted <= set(rows):
            break
        time.sleep(0.2)
    assert rows[ra.headers["x-litellm-call-id"]][1:] == (budget, "adaptive")
    assert rows[rb.headers["x-litellm-call-id"]][1:] == (budget, "adaptive")
    assert rows[first.headers["x-litellm-call-id"]][2] == "tier"

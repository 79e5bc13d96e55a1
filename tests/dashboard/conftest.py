"""A small stack of its own for the dashboard's proxy tests: one simulated vLLM (metered), a real
``litellm`` proxy with thinkbudget, LiteLLM's response cache (in-memory; ``cached_dash`` also runs
one on a throwaway Redis), carbon intensity, a measured baseline, emulated keys for two teams,
records in SQLite."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.proxy_stack import EMULATED_AUTH, proxy_env, records_url, stack_logs_on_failure, stack_or_fail, start_sims
from tests.redis_fixtures import RedisUnavailable, throwaway_redis
from thinkbudget_litellm.demo.stack import Service, Stack, start_proxy

MASTER = "sk-dashboard-master-0123456789abcdef"
KEYS = {
    "sk-dash-team-a": {"key_alias": "alpha-key", "team_id": "team-a", "team_alias": "Team A"},
    "sk-dash-team-b": {"key_alias": "beta-key", "team_id": "team-b", "team_alias": "Team B"},
    "sk-dash-no-team": {"key_alias": "loner"},
}
G_PER_KWH = 400.0
SIM_FLAGS = ["--style", "parser", "--native-budget", "--tokens-per-second", "1500"]
COMMON = ["--model-name", "deepseek-r1-distill-qwen-7b", "--joules-per-token", "0.5", "--idle-watts", "60"]


def proxy_config(cache_params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "model_list": [
            {
                "model_name": "r1",
                "litellm_params": {
                    "model": "hosted_vllm/deepseek-r1-distill-qwen-7b",
                    "api_base": "os.environ/SIM_NATIVE_URL",
                    "api_key": "sim",
                },
                "model_info": {
                    "input_cost_per_token": 2.0e-7,
                    "output_cost_per_token": 8.0e-7,
                    "thinkbudget": {
                        "enforcement": "native",
                        "engine": "vllm",
                        "gpu": {"name": "sim", "count": 1, "cost_per_hour": 3.6},
                        "energy": {
                            "source": "dcgm",
                            "url": "os.environ/SIM_NATIVE_METRICS",
                            "simulated": True,
                            "tick_s": 0.1,
                            "timeout_s": 2.0,
                        },
                        "carbon": {"g_per_kwh": G_PER_KWH},
                    },
                },
            }
        ],
        "litellm_settings": {
            "callbacks": [
                "thinkbudget_litellm.proxy_handler",
                "thinkbudget_litellm.demo.emulated_keys.spend_tracker",
            ],
            "cache": True,
            "cache_params": cache_params or {"type": "local"},
        },
        "thinkbudget": {
            "baseline_thinking_tokens": {"trivial": 400, "simple": 700, "moderate": 1500, "complex": 3000, "deep": 5000}
        },
        "general_settings": dict(EMULATED_AUTH),
    }


@dataclass
class Dash:
    stack: Stack
    proxy: Service
    sim: Service
    database_url: str
    log_dir: Path
    redis_port: int | None = None  # LiteLLM's response cache lives in this Redis (else in memory)

    @property
    def url(self) -> str:
        return self.proxy.base

    def client(self, key: str | None = MASTER) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.proxy.base, headers=headers, timeout=60)

    def sim_requests(self) -> int:
        return int(httpx.get(self.sim.base + "/sim/stats", timeout=5).json()["requests"])

    def ask(self, key: str, prompt: str, *, stream: bool = False, think: int = 60) -> tuple[str, httpx.Headers]:
        body = {
            "model": "r1",
            "messages": [{"role": "user", "content": prompt}],
            "stream": stream,
            "sim": {"think_tokens": think},
        }
        with self.client(key) as c:
            if stream:
                with c.stream("POST", "/v1/chat/completions", json=body) as response:
                    assert response.status_code == 200, response.read()
                    "".join(response.iter_text())
                    return response.headers.get("x-litellm-call-id", ""), response.headers
            response = c.post("/v1/chat/completions", json=body)
            assert response.status_code == 200, response.text
            return response.headers.get("x-litellm-call-id", ""), response.headers

    def records(self, call_ids: list[str], wait_s: float = 15.0) -> dict[str, dict[str, Any]]:
        """The records of ``call_ids`` once all are written (as the dashboard's API returns them)."""
        deadline = time.monotonic() + wait_s
        found: dict[str, dict[str, Any]] = {}
        with self.client() as c:
            while time.monotonic() < deadline:
                response = c.get("/thinkbudget/api/requests", params={"since": "1h", "limit": 500})
                if response.status_code == 200:
                    found = {r["call_id"]: r for r in response.json()["requests"] if r["call_id"] in call_ids}
                    if len(found) == len(set(call_ids)):
                        return found
                time.sleep(0.2)
        return found


@contextlib.contextmanager
def _dash_stack(log_dir: Path, cache_params: dict[str, Any] | None = None) -> Iterator[Dash]:
    with stack_or_fail("dashboard") as stack:
        sims = start_sims(stack, {"native": SIM_FLAGS}, COMMON, log_dir)
        cfg = log_dir / "config.yaml"
        cfg.write_text(yaml.safe_dump(proxy_config(cache_params)))
        keys = log_dir / "keys.yaml"
        keys.write_text(yaml.safe_dump(KEYS))
        database_url = records_url(None, log_dir)
        env = proxy_env(sims, "SIM_", keys, log_dir / "events.jsonl", database_url, log_dir)
        env["LITELLM_MASTER_KEY"] = MASTER
        proxy = start_proxy(cfg, log_dir, env=env)
        stack.services.append(proxy)
        d = Dash(stack, proxy, sims["native"], database_url, log_dir)
        d.ask(MASTER, "hi")  # the meter's first reading is only a baseline: warm it
        yield d


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dash]:
    with _dash_stack(tmp_path_factory.mktemp("dashboard")) as d:
        yield d


@pytest.fixture(scope="module", params=["local", "redis"])
def cached_dash(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dash]:
    """The stack with LiteLLM's response cache of each type: in-memory (``dash`` itself), and Redis
    (a stack of its own on a throwaway ``redis-server``; skipped, saying why, where there is none)."""
    if request.param == "local":
        yield request.getfixturevalue("dash")
        return
    with contextlib.ExitStack() as cleanup:
        try:
            port = cleanup.enter_context(throwaway_redis(tmp_path_factory.mktemp("redis")))
        except RedisUnavailable as exc:
            pytest.skip(str(exc))
        d = cleanup.enter_context(
            _dash_stack(
                tmp_path_factory.mktemp("dashboard-redis"), {"type": "redis", "host": "127.0.0.1", "port": port}
            )
        )
        d.redis_port = port
        yield d


pytest_runtest_makereport = stack_logs_on_failure("dash", "cached_dash")

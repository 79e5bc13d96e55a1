"""Several proxy instances on one simulated engine (issue 15): one ``sim-backend`` with a DCGM-style
energy counter and vLLM token counters, a throwaway Redis (LiteLLM's coordination Redis), a
throwaway Postgres (the shared records database) and three real ``litellm --config`` processes with
the same config. Started once per session (each proxy takes ~20 s); the tests use two or all three.
Skips, saying why, where redis-server or the PostgreSQL server binaries are missing."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import yaml

from tests.proxy_stack import EMULATED_AUTH, Redis
from thinkbudget_litellm.demo.stack import Service, Stack, StackError, start_proxy, start_sim

INSTANCES = 3
MODEL = "r1"
SESSION_CAP = 1500
BUDGETS = {"trivial": 60, "simple": 60, "moderate": 60, "complex": 60, "deep": 60}
SIM_FLAGS = [
    "--style",
    "parser",
    "--model-name",
    "deepseek-r1-distill-qwen-7b",
    "--tokens-per-second",
    "10",  # per request: 64 streams make 640 tokens/s, which two shared cores can relay (see the test)
    "--joules-per-token",
    "0.5",
    "--idle-watts",
    "30",
]
GPU_COST_PER_HOUR = 3.6
PRICES = {"input_cost_per_token": 2.0e-7, "output_cost_per_token": 8.0e-7}
TICK_S = 0.2
WINDOW_S = 2.0
KEYS: dict[str, dict[str, Any]] = {
    "sk-plain": {"key_alias": "plain", "team_id": "team-plain", "user_id": "dave"},
    "sk-session": {
        "key_alias": "session-key",
        "team_id": "team-s",
        "team_metadata": {"thinkbudget": {"session_max_thinking_tokens": SESSION_CAP}},
    },
}


def proxy_config(redis_port: int) -> dict[str, Any]:
    metrics = "os.environ/SIM_METRICS"
    thinkbudget = {
        "enforcement": "stream",
        "gpu": {"name": "sim", "count": 1, "cost_per_hour": GPU_COST_PER_HOUR},
        "energy": {"source": "dcgm", "url": metrics, "simulated": True, "tick_s": TICK_S, "timeout_s": 2.0},
        "tokens": {"source": "vllm", "url": metrics, "window_s": WINDOW_S},
    }
    return {
        "model_list": [
            {
                "model_name": MODEL,
                "litellm_params": {
                    "model": "hosted_vllm/deepseek-r1-distill-qwen-7b",
                    "api_base": "os.environ/SIM_URL",
                    "api_key": "sim",
                },
                "model_info": {**PRICES, "thinkbudget": thinkbudget},
            }
        ],
        "litellm_settings": {"callbacks": ["thinkbudget_litellm.proxy_handler", "prometheus"]},
        "router_settings": {"num_retries": 0},
        "thinkbudget": {"budgets": BUDGETS},
        "general_settings": {**EMULATED_AUTH, "coordination_redis": {"host": "127.0.0.1", "port": redis_port}},
    }


@dataclass
class MultiProxy:
    sim: Service
    proxies: list[Service]
    database_url: str  # the records database (asyncpg URL), shared by every proxy
    redis: Redis
    stack: Stack

    def records(self, where: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        engine = sa.create_engine(self.database_url.replace("+asyncpg", "+psycopg"))
        try:
            with engine.connect() as conn:
                sql = f"SELECT * FROM thinkbudget.request_records WHERE {where}"
                return [dict(r) for r in conn.execute(sa.text(sql), params).mappings().all()]
        finally:
            engine.dispose()


def _warm_up(proxy: Service) -> None:
    """One request per proxy: its meter's first reading is a baseline, and an instance that has seen
    no token of its own yet holds its idle share until it has."""
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "sim": {"think_tokens": 8}}
    auth = {"Authorization": "Bearer sk-plain"}
    r = httpx.post(proxy.base + "/v1/chat/completions", json=body, headers=auth, timeout=60)
    r.raise_for_status()


@pytest.fixture(scope="session")
def multi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MultiProxy]:
    from tests.pg_fixtures import PostgresUnavailable, start_litellm_postgres

    redis_bin = shutil.which("redis-server")
    if redis_bin is None:
        pytest.skip("redis-server is not installed: the shared session caps need LiteLLM's coordination Redis")
    try:
        pg = start_litellm_postgres()
    except PostgresUnavailable as exc:
        pytest.skip(f"no throwaway PostgreSQL for the shared records database: {exc}")
    log_dir = tmp_path_factory.mktemp("multi_proxy")
    stack = Stack()
    redis: Redis | None = None
    try:
        redis = Redis(redis_bin, log_dir)
        database_url = pg.url(pg.create_database(with_litellm=True))
        sim = start_sim("sim", SIM_FLAGS, log_dir)
        stack.services.append(sim)
        cfg = log_dir / "proxy_config.yaml"
        cfg.write_text(yaml.safe_dump(proxy_config(redis.port), sort_keys=False))
        keys = log_dir / "keys.yaml"
        keys.write_text(yaml.safe_dump(KEYS, sort_keys=False))

        def start(i: int) -> Service:
            own = log_dir / f"proxy{i}"
            env = {
                "THINKBUDGET_EMULATED_KEYS": str(keys),
                "THINKBUDGET_DATABASE_URL": database_url,
                "THINKBUDGET_SPOOL_DIR": str(own / "spool"),
                "SIM_URL": sim.base + "/v1",
                "SIM_METRICS": sim.base + "/metrics",
            }
            proxy = start_proxy(cfg, own, env=env)
            proxy.name = f"litellm-{i}"
            return proxy

        # started at once (each spends ~15 s importing LiteLLM; a proxy that loses its port to
        # another is started again on a new one, and answers only to its own master key)
        with ThreadPoolExecutor(INSTANCES) as pool:
            futures = [pool.submit(start, i) for i in range(INSTANCES)]
        errors = [e for f in futures if (e := f.exception()) is not None]
        proxies = [f.result() for f in futures if f.exception() is None]
        stack.services.extend(proxies)
        if errors:
            raise errors[0]
        for proxy in proxies:
            _warm_up(proxy)
    except (StackError, httpx.HTTPError) as exc:
        stack.stop()
        if redis is not None:
            redis.stop()
        pg.destroy()
        pytest.fail(f"could not start the multi-proxy stack:\n{exc}\n{stack.logs()}")
    yield MultiProxy(sim=sim, proxies=proxies, database_url=database_url, redis=redis, stack=stack)
    stack.stop()
    redis.stop()
    pg.destroy()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed and "multi" in item.fixturenames:
        m: MultiProxy = item.funcargs["multi"]  # type: ignore[attr-defined]
        rep.sections.append(("proxy and simulator logs", m.stack.logs()))

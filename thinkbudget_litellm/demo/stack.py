"""Start and stop the simulated backend(s) and a real ``litellm`` proxy as subprocesses on free
loopback ports. Used by the demo, the end-to-end tests and the benchmarks."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]

OFFLINE_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # 1.106.2 otherwise retries downloading its price map
    "LITELLM_OFFLINE_MODE": "true",
    "LITELLM_TELEMETRY": "False",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}


class StackError(RuntimeError):
    """A subprocess failed to start; the message includes the tail of its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Service:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


def _python_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(OFFLINE_ENV)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    if extra:
        env.update(extra)
    return env


def _spawn(name: str, argv: Sequence[str], port: int, log_dir: Path, env: Mapping[str, str]) -> Service:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    fh = log_path.open("wb")
    proc = subprocess.Popen(
        list(argv),
        stdout=fh,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=dict(env),
        cwd=str(log_dir),
        start_new_session=True,
    )
    fh.close()
    return Service(name=name, port=port, proc=proc, log_path=log_path)


def wait_ready(svc: Service, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    url = svc.base + path
    while time.monotonic() < deadline:
        if svc.proc.poll() is not None:
            raise StackError(f"{svc.name} exited with {svc.proc.returncode}:\n{svc.log_tail()}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    svc.stop()
    raise StackError(f"{svc.name} not ready at {url} after {timeout:.0f}s:\n{svc.log_tail()}")


def start_sim(name: str, args: Sequence[str], log_dir: Path, timeout: float = 30.0) -> Service:
    port = free_port()
    argv = [sys.executable, "-m", "thinkbudget_litellm.cli.main", "sim-backend", "--port", str(port), *args]
    svc = _spawn(name, argv, port, log_dir, _python_env())
    wait_ready(svc, "/v1/models", timeout)
    return svc


def litellm_executable() -> list[str]:
    exe = Path(sys.executable).with_name("litellm")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("litellm")
    if found:
        return [found]
    return [sys.executable, "-c", "from litellm.proxy.proxy_cli import run_server; run_server()"]


def start_proxy(config: Path, log_dir: Path, env: Mapping[str, str] | None = None, timeout: float = 120.0) -> Service:
    port = free_port()
    argv = [*litellm_executable(), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    proxy_env = _python_env(env)
    # LiteLLM refuses to start without a master key; the emulated keys authenticate through custom_auth.
    proxy_env.setdefault("LITELLM_MASTER_KEY", "sk-" + secrets.token_hex(32))
    svc = _spawn("litellm", argv, port, log_dir, proxy_env)
    wait_ready(svc, "/health/liveliness", timeout)
    return svc


@dataclass
class Stack:
    """Running services; ``stop()`` ends them all (also on Ctrl-C via ``running_stack``)."""

    services: list[Service] = field(default_factory=list)

    def stop(self) -> None:
        for svc in reversed(self.services):
            svc.stop()

    def logs(self) -> str:
        return "\n".join(f"===== {s.name} ({s.log_path}) =====\n{s.log_tail()}" for s in self.services)


@contextlib.contextmanager
def running_stack() -> Iterator[Stack]:
    stack = Stack()
    previous = signal.getsignal(signal.SIGTERM)

    def _term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if previous is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _term)
    try:
        yield stack
    finally:
        stack.stop()
        if previous is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, previous)

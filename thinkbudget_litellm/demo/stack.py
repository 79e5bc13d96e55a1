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
from collections.abc import Callable, Iterator, Mapping, Sequence
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


Identify = Callable[[httpx.Response], bool]


def wait_ready(
    svc: Service,
    path: str,
    timeout: float,
    headers: Mapping[str, str] | None = None,
    is_ours: Identify | None = None,
) -> None:
    """Wait until ``svc`` answers ``path``. ``is_ours`` tells its answer from that of another
    process that took the same port between ``free_port()`` and the bind (parallel test workers
    do): until it says yes the wait goes on, and a service that exits ends it."""
    deadline = time.monotonic() + timeout
    url = svc.base + path
    while time.monotonic() < deadline:
        if svc.proc.poll() is not None:
            raise StackError(f"{svc.name} exited with {svc.proc.returncode}:\n{svc.log_tail()}")
        try:
            r = httpx.get(url, timeout=1.0, headers=dict(headers or {}))
            if r.status_code < 500 and (is_ours is None or is_ours(r)):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2)
    svc.stop()
    raise StackError(f"{svc.name} not ready at {url} after {timeout:.0f}s:\n{svc.log_tail()}")


_PORT_TAKEN = ("address already in use", "errno 98")
_START_TRIES = 4


def _start(
    name: str,
    argv_for: Callable[[int], Sequence[str]],
    log_dir: Path,
    env: Mapping[str, str],
    path: str,
    timeout: float,
    headers: Mapping[str, str] | None,
    is_ours: Callable[[Service], Identify],
) -> Service:
    """Spawn on a free port and wait until it answers as itself; when another process took the
    port first (the service exits saying so), try again on a new one. On any interruption (Ctrl-C
    included) the half-started service is stopped."""
    for attempt in range(1, _START_TRIES + 1):
        port = free_port()
        svc = _spawn(name, argv_for(port), port, log_dir, env)
        try:
            wait_ready(svc, path, timeout, headers, is_ours(svc))
            return svc
        except StackError:
            svc.stop()
            if attempt < _START_TRIES and any(m in svc.log_tail().lower() for m in _PORT_TAKEN):
                continue
            raise
        except BaseException:
            svc.stop()
            raise
    raise AssertionError("unreachable: the last try returns or raises")


def start_sim(name: str, args: Sequence[str], log_dir: Path, timeout: float = 30.0) -> Service:
    def argv(port: int) -> list[str]:
        return [sys.executable, "-m", "thinkbudget_litellm.cli.main", "sim-backend", "--port", str(port), *args]

    def same_pid(svc: Service) -> Identify:
        return lambda r: bool(r.json().get("pid") == svc.proc.pid)

    return _start(name, argv, log_dir, _python_env(), "/sim/stats", timeout, None, same_pid)


def litellm_executable() -> list[str]:
    exe = Path(sys.executable).with_name("litellm")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("litellm")
    if found:
        return [found]
    return [sys.executable, "-c", "from litellm.proxy.proxy_cli import run_server; run_server()"]


def start_proxy(config: Path, log_dir: Path, env: Mapping[str, str] | None = None, timeout: float = 120.0) -> Service:
    def argv(port: int) -> list[str]:
        return [*litellm_executable(), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]

    proxy_env = _python_env(env)
    # LiteLLM refuses to start without a master key; the emulated keys authenticate through
    # custom_auth. Unless the caller names one, the key is this proxy's own, so a proxy that
    # answers on the port but refuses it is another process's.
    if not (env and "LITELLM_MASTER_KEY" in env):
        proxy_env["LITELLM_MASTER_KEY"] = "sk-" + secrets.token_hex(32)
    auth = {"Authorization": f"Bearer {proxy_env['LITELLM_MASTER_KEY']}"}

    def accepts_our_key(svc: Service) -> Identify:
        return lambda r: r.status_code == 200

    return _start("litellm", argv, log_dir, proxy_env, "/v1/models", timeout, auth, accepts_our_key)


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

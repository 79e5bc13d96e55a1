"""What the proxy-based test tiers (tests/e2e, tests/adversarial, ...) share to start their stacks."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from thinkbudget_litellm.demo.stack import Service, Stack, StackError, free_port, start_sim

# The callbacks every test proxy loads: ours, the emulated keys' spend tracker, LiteLLM's logging
# events recorder (tests/e2e/recorder.py) and Prometheus.
TEST_CALLBACKS = (
    "thinkbudget_litellm.proxy_handler",
    "thinkbudget_litellm.demo.emulated_keys.spend_tracker",
    "tests.e2e.recorder.recorder",
    "prometheus",
)
# Keys and teams are emulated (LiteLLM's database mode cannot start here), behind the master key.
EMULATED_AUTH = {
    "custom_auth": "thinkbudget_litellm.demo.emulated_keys.user_api_key_auth",
    "master_key": "os.environ/LITELLM_MASTER_KEY",
}


def start_sims(
    stack: Stack, sims: Mapping[str, Sequence[str]], common_flags: Sequence[str], log_dir: Path
) -> dict[str, Service]:
    """One simulated backend per entry (name -> its flags), each added to ``stack`` for teardown."""
    started = {}
    for name, flags in sims.items():
        started[name] = start_sim(f"sim-{name}", [*flags, *common_flags], log_dir)
        stack.services.append(started[name])
    return started


def proxy_env(
    sims: Mapping[str, Service], sim_env_prefix: str, keys: Path, events: Path, database_url: str, log_dir: Path
) -> dict[str, str]:
    """The proxy's environment: emulated keys, the event recorder, the records database and spool,
    and ``<prefix><NAME>_URL`` / ``<prefix><NAME>_METRICS`` for each simulator (the configs' env refs)."""
    env = {
        "THINKBUDGET_EMULATED_KEYS": str(keys),
        "THINKBUDGET_TEST_EVENTS": str(events),
        "THINKBUDGET_DATABASE_URL": database_url,
        "THINKBUDGET_SPOOL_DIR": str(log_dir / "spool"),
    }
    for name, svc in sims.items():
        env[f"{sim_env_prefix}{name.upper()}_URL"] = svc.base + "/v1"
        env[f"{sim_env_prefix}{name.upper()}_METRICS"] = svc.base + "/metrics"
    return env


def records_url(pg_url: str | None, log_dir: Path) -> str:
    """The throwaway Postgres database when there is one, else an SQLite file in ``log_dir``."""
    return pg_url if pg_url is not None else f"sqlite+aiosqlite:///{log_dir / 'records.sqlite'}"


@contextlib.contextmanager
def stack_or_fail(what: str, on_stop: Callable[[], None] | None = None) -> Iterator[Stack]:
    """A ``Stack`` for a test fixture to start its services in: a service that fails to start
    (``StackError``) fails the test with its log tail, naming ``what``; when the block ends, however
    it ends, the services are stopped, then ``on_stop`` runs (e.g. destroying a throwaway Postgres)."""
    stack = Stack()
    try:
        yield stack
    except StackError as exc:
        pytest.fail(f"could not start the {what} stack:\n{exc}")
    finally:
        stack.stop()
        if on_stop is not None:
            on_stop()


def stack_logs_on_failure(*fixtures: str) -> Callable[[pytest.Item, pytest.CallInfo[Any]], Generator[None, Any, None]]:
    """A conftest's ``pytest_runtest_makereport`` hook: a failed test that used one of ``fixtures``
    (objects with a ``stack``) gets their proxy and simulator logs in its report."""

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, None]:
        outcome = yield
        rep = outcome.get_result()
        if rep.when != "call" or not rep.failed:
            return
        for fixture in fixtures:
            if fixture in item.fixturenames:  # type: ignore[attr-defined]
                stack: Stack = item.funcargs[fixture].stack  # type: ignore[attr-defined]
                rep.sections.append((f"proxy and simulator logs ({fixture})", stack.logs()))

    return pytest_runtest_makereport


class Redis:
    """A throwaway redis-server on a free loopback port, no persistence."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.port = free_port()
        argv = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(
            [*argv, "--dir", str(workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise StackError(f"redis-server exited with {self.proc.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.05)
        self.stop()
        raise StackError("redis-server did not accept connections within 15 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


@dataclass
class Books:
    """One proxy's meter books (J, GPU-s) by part, summed over its deployments."""

    joules: dict[str, float] = field(default_factory=dict)
    gpu_s: dict[str, float] = field(default_factory=dict)

    def minus(self, other: Books) -> Books:
        return Books(
            {k: v - other.joules.get(k, 0.0) for k, v in self.joules.items()},
            {k: v - other.gpu_s.get(k, 0.0) for k, v in self.gpu_s.items()},
        )


def books(proxy: Service) -> Books:
    text = httpx.get(
        proxy.base + "/metrics", headers={"Authorization": "Bearer sk-plain"}, timeout=10, follow_redirects=True
    ).text
    out = Books()
    for fam in text_string_to_metric_families(text):
        target = {"thinkbudget_meter_joules": out.joules, "thinkbudget_meter_gpu_seconds": out.gpu_s}.get(fam.name)
        if target is None:
            continue
        for s in fam.samples:
            target[s.labels["part"]] = target.get(s.labels["part"], 0.0) + s.value
    return out

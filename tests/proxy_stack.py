"""What the proxy-based test tiers (tests/e2e, tests/adversarial) share to start their stacks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from thinkbudget_litellm.demo.stack import Service, Stack, start_sim

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

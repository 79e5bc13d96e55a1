"""Issue: records survive a SIGKILL of the proxy under load (replayed from the spool, no duplicates)."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import pytest

from tests.e2e import stack_config
from tests.e2e.test_cost_and_records import _records
from thinkbudget_litellm.demo.stack import start_proxy

pytestmark = [pytest.mark.proxy, pytest.mark.slow]

BOUND_S = 1.0  # README: nothing lost for requests that finished more than a second before a SIGKILL


def test_sigkill_of_the_proxy_loses_nothing_outside_the_bound(e2e, tmp_path):
    spool = tmp_path / "spool"
    cfg, keys = stack_config.write(tmp_path)
    env = {
        "THINKBUDGET_EMULATED_KEYS": str(keys),
        "THINKBUDGET_DATABASE_URL": e2e.database_url,
        "THINKBUDGET_SPOOL_DIR": str(spool),
    }
    for name, svc in e2e.sims.items():
        env[f"SIM_{name.upper()}_URL"] = svc.base + "/v1"
        env[f"SIM_{name.upper()}_METRICS"] = svc.base + "/metrics"
    proxy = start_proxy(cfg, tmp_path, env=env)
    finished: list[tuple[str, float]] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=proxy.base, headers={"Authorization": "Bearer sk-plain"}, timeout=10) as c:
            i = 0
            while not stop.is_set():
                i += 1
                body = {
                    "model": "r1-native",
                    "messages": [{"role": "user", "content": f"What is {i} plus {i}?"}],
                    "sim": {"think_tokens": 40, "answer_tokens": 10},
                }
                try:
                    r = c.post("/v1/chat/completions", json=body)
                except httpx.HTTPError:
                    return
                if r.status_code == 200:
                    finished.append((r.headers["x-litellm-call-id"], time.monotonic()))

    workers = [threading.Thread(target=load) for _ in range(4)]
    for w in workers:
        w.start()
    try:
        time.sleep(8.0)
        killed_at = time.monotonic()
        os.killpg(proxy.proc.pid, signal.SIGKILL)
        proxy.proc.wait(timeout=10)
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=15)
        proxy.stop()
    must_survive = [cid for cid, t in finished if t < killed_at - BOUND_S]
    assert len(must_survive) >= 5, f"too little load: {len(finished)} requests"

    # The restarted proxy adopts the dead one's spool as it starts, before any request arrives
    # (it used to wait for the first request).
    (tmp_path / "restarted").mkdir()
    restarted = start_proxy(cfg, tmp_path / "restarted", env=env)
    try:
        rows = _records(e2e, must_survive, wait_s=30)
    finally:
        restarted.stop()
    missing = [cid for cid in must_survive if cid not in rows]
    assert not missing, f"{len(missing)} of {len(must_survive)} records lost"
    lost = [cid for cid, _ in finished if cid not in _records(e2e, [c for c, _ in finished], wait_s=0)]
    print(
        f"{len(finished)} requests, {len(must_survive)} finished >{BOUND_S}s before the kill, all recorded; "
        f"{len(lost)} of those that finished within {BOUND_S}s of the kill were lost"
    )

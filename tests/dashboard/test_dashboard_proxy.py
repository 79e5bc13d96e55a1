"""Through the real proxy: the dashboard behind LiteLLM's own auth, and LiteLLM's response cache,
in-memory and on Redis (a cache hit runs no GPU, is recorded as such, and the meter's books still
balance)."""

from __future__ import annotations

import time
import uuid

import pytest
import redis

from tests.dashboard.conftest import G_PER_KWH, MASTER, Dash

pytestmark = pytest.mark.proxy


def test_the_dashboard_is_behind_litellms_auth(dash: Dash) -> None:
    a_call, _ = dash.ask("sk-dash-team-a", f"What is the capital of Peru? {uuid.uuid4()}")
    b_call, _ = dash.ask("sk-dash-team-b", f"What is the capital of Chile? {uuid.uuid4()}")
    assert dash.records([a_call, b_call])
    with dash.client(None) as c:
        assert c.get("/thinkbudget/api/requests").status_code == 401
    with dash.client("sk-not-a-key") as c:
        assert c.get("/thinkbudget/api/stats").status_code == 401
    with dash.client("sk-dash-no-team") as c:
        assert c.get("/thinkbudget/api/stats").status_code == 401
    with dash.client("sk-dash-team-a") as c:
        rows = c.get("/thinkbudget/api/requests", params={"since": "1h"}).json()["requests"]
        assert a_call in {r["call_id"] for r in rows} and b_call not in {r["call_id"] for r in rows}
        assert {r["team"] for r in rows} == {"team-a"}
        assert c.get("/thinkbudget/api/stats", params={"team": "team-b"}).status_code == 403
    with dash.client(MASTER) as c:
        rows = c.get("/thinkbudget/api/requests", params={"since": "1h"}).json()["requests"]
        assert {a_call, b_call} <= {r["call_id"] for r in rows}
    with dash.client() as c:  # the page itself carries no data and needs no key
        assert c.get("/thinkbudget/ui", headers={"Authorization": ""}).status_code == 200


def _response_cache_entries(d: Dash) -> set[bytes]:
    """The keys of LiteLLM's response cache in ``d``'s Redis (its counters are ``{...}:tokens``)."""
    if d.redis_port is None:
        return set()
    return {k for k in redis.Redis(host="127.0.0.1", port=d.redis_port).scan_iter() if not k.startswith(b"{")}


@pytest.mark.parametrize("stream", [False, True])
def test_a_cache_hit_runs_no_gpu_and_the_meter_still_balances(cached_dash: Dash, stream: bool) -> None:
    prompt = f"Explain why the sky is blue, briefly. ({uuid.uuid4()})"
    with cached_dash.client() as c:
        before = c.get("/thinkbudget/api/gpu").json()["deployments"][0]["attributed_j"]
    backend_before = cached_dash.sim_requests()
    entries_before = _response_cache_entries(cached_dash)
    first, _ = cached_dash.ask("sk-dash-team-a", prompt, stream=stream, think=300)
    second, second_headers = cached_dash.ask("sk-dash-team-a", prompt, stream=stream, think=300)
    assert cached_dash.sim_requests() == backend_before + 1  # the backend saw the first request only
    assert second_headers.get("x-thinkbudget-cache") == "hit"
    assert second_headers.get("x-thinkbudget-energy-j") == "0"
    if cached_dash.redis_port is not None:  # the first response went to Redis, the hit added none
        assert len(_response_cache_entries(cached_dash) - entries_before) == 1
    records = cached_dash.records([first, second])
    original, hit = records[first], records[second]
    assert original["status"] == "success" and hit["status"] == "cache_hit"
    assert original["energy_j"] and original["energy_j"] > 0 and original["cost_usd"] > 0
    assert original["co2e_g"] == pytest.approx(original["energy_j"] / 3.6e6 * G_PER_KWH)
    assert hit["energy_j"] == 0.0 and hit["cost_usd"] == 0.0 and hit["co2e_g"] == 0.0
    assert hit["cache_saved_usd"] == pytest.approx(original["cost_usd"])  # what the original cost
    if not stream:
        assert float(second_headers["x-thinkbudget-saved-cost"]) == pytest.approx(original["cost_usd"])
    # both requests' energy is everything the meter attributed to requests meanwhile (settled ticks)
    deadline = time.monotonic() + 5
    while True:
        with cached_dash.client() as c:
            after = c.get("/thinkbudget/api/gpu").json()["deployments"][0]["attributed_j"]
        if (
            after - before == pytest.approx(original["energy_j"] + hit["energy_j"], rel=1e-6)
            or time.monotonic() > deadline
        ):
            break
        time.sleep(0.2)
    assert after - before == pytest.approx(original["energy_j"] + hit["energy_j"], rel=1e-6)

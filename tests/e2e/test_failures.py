"""Failed attempts, retries and fallbacks: the request keeps its budget, its GPU cost and one record."""

from __future__ import annotations

import pytest

from tests.e2e.test_cost_and_records import _records
from tests.e2e.test_proxy_basics import sse_events
from tests.e2e.test_stream_enforcement import _post

pytestmark = pytest.mark.proxy

DEEP = "Prove that there are infinitely many primes of the form 4k+3."


@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
def test_fallback_after_failed_attempts_keeps_budget_cost_and_one_record(e2e, stream):
    """r1-dead refuses connections; LiteLLM retries it, then falls back to r1-native under the same call id."""
    r = _post(e2e, "r1-dead", stream, prompt=DEEP, natural=6000)
    assert r.status_code == 200, r.text
    call_id = r.headers["x-litellm-call-id"]
    assert r.headers["x-thinkbudget-tier"] == "deep" and r.headers["x-thinkbudget-budget"] == "8192"
    body = next(b for b in reversed(e2e.sim_bodies("native")) if b.get("messages", [{}])[-1].get("content") == DEEP)
    assert body.get("thinking_token_budget") == 8192, body  # the native cap reached the fallback deployment
    row = _records(e2e, [call_id])[call_id]
    assert row["status"] == "success", row
    extra = row["extra"]
    assert extra["failed_attempts"] >= 1 and extra.get("failed_attempt_cost_usd", 0) > 0, extra
    assert row["deployment"] is not None and row["thinking_tokens"] > 0
    success = [ev for ev in e2e.events(call_id, count=2, wait_s=3) if ev["status"] == "success"]
    assert len(success) == 1
    assert success[0]["response_cost"] == pytest.approx(row["cost_usd"])  # GPU cost, not LiteLLM's price
    if stream:
        assert any(ev.get("choices") for ev in sse_events(r.text))
    else:
        assert float(r.headers["x-thinkbudget-cost"]) == pytest.approx(row["cost_usd"])


def test_failed_request_is_recorded_once(e2e):
    r = _post(e2e, "r1-dead-only", False, prompt=DEEP)
    assert r.status_code >= 400
    call_id = r.headers.get("x-litellm-call-id")
    assert call_id, dict(r.headers)
    row = _records(e2e, [call_id])[call_id]
    assert row["status"] == "failure" and row["tier"] == "deep"
    assert row["extra"]["failed_attempts"] >= 1


def test_midstream_failure_is_recorded(e2e):
    r = _post(e2e, "r1-native", True, prompt=DEEP, sim={"think_tokens": 2000, "fail": "midstream:50"})
    call_id = r.headers["x-litellm-call-id"]
    assert any("error" in ev for ev in sse_events(r.text)), r.text[-400:]
    row = _records(e2e, [call_id])[call_id]
    assert row["status"] == "failure", row
    # LiteLLM bills no spend for a failure; what the GPU did is kept aside in extra
    assert row["cost_usd"] is None and row["extra"]["failed_attempt_cost_usd"] > 0, row


def test_mixed_failures_under_concurrency_leave_one_record_each_and_nothing_in_flight(e2e):
    """Fallbacks, dead deployments, mid-stream failures, cut streams and clients that leave, all at once."""
    import asyncio

    import httpx

    from tests.e2e.test_load import _in_flight

    kinds = ["fallback", "dead", "midstream", "cut", "leave", "leave_after_cut"] * 8
    expected = {
        "fallback": {"success"},
        "dead": {"failure"},
        "midstream": {"failure"},
        "cut": {"cut"},
        "leave": {"cancelled"},
        # the client may leave before the cut (cancelled, not cut) or during the continuation
        "leave_after_cut": {"cancelled"},
    }

    def body(kind: str, i: int) -> dict:
        prompt = f"Convert {i} miles to kilometres."  # simple tier: budget 128
        model = {"fallback": "r1-dead", "dead": "r1-dead-only", "midstream": "r1-native"}.get(kind, "r1-inline-stream")
        sim: dict = {"think_tokens": 600, "answer_tokens": 30}
        if kind == "midstream":
            sim["fail"] = "midstream:40"
        return {"model": model, "messages": [{"role": "user", "content": prompt}], "stream": True, "sim": sim}

    async def one(client: httpx.AsyncClient, kind: str, i: int) -> tuple[str, str]:
        async with client.stream("POST", "/v1/chat/completions", json=body(kind, i)) as r:
            call_id = r.headers.get("x-litellm-call-id", "")
            seen = 0
            async for line in r.aiter_lines():
                seen += line.startswith("data: {")
                if kind == "leave" and seen >= 10:
                    break  # leave while the model is thinking
                if kind == "leave_after_cut" and "</think>" in line:
                    break  # leave at the closing of the thinking, while the continuation starts
        return kind, call_id

    async def run() -> list[tuple[str, str]]:
        limits = httpx.Limits(max_connections=len(kinds), max_keepalive_connections=0)
        async with httpx.AsyncClient(
            base_url=e2e.url, headers={"Authorization": "Bearer sk-plain"}, timeout=120, limits=limits
        ) as client:
            return await asyncio.gather(*(one(client, k, i) for i, k in enumerate(kinds)))

    results = asyncio.run(run())
    assert all(cid for _, cid in results)
    assert _in_flight(e2e, wait_s=30) == 0  # every request completed, however it ended
    rows = _records(e2e, [cid for _, cid in results], wait_s=15)
    assert len(rows) == len(results)
    wrong = [(k, rows[cid]["status"]) for k, cid in results if rows[cid]["status"] not in expected[k]]
    assert not wrong, wrong

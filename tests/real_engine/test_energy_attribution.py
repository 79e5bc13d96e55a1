"""Energy attribution with ``tokens.source: vllm`` against the real engine's counters (issue 13,
deliverable 5; issue 15's check on a real engine). The ``tiny-metered`` deployment is metered as a
shared engine: its energy comes from a configured estimate (300 W while a request is active; a CPU
has no energy counter), each settlement window is divided by the weight vLLM's own
``vllm:generation_tokens_total`` and ``vllm:prompt_tokens_total`` grew by, and a request takes the
share its own tokens make of that.

Traffic: streamed requests cut at the budget and continued, non-streamed two-step requests and one
client that leaves mid-stream, four at once. Checked: the records' energy is what the meter
attributed; records + idle + carry + held add up to the metered energy and GPU-seconds within 2%
(the window's weight is summed in LiteLLM's coordination Redis, so the tokens the engine's counters
grew by that the proxy never saw, in flight when it closed a stream, are paid by the ones it saw;
without Redis they go to ``others``, measured 2-20% here); one record per request."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.proxy_stack import Books, books
from tests.real_engine.client import body, record
from tests.real_engine.conftest import METERED, METERED_WATTS, RealStack, metric_sum

pytestmark = [pytest.mark.real_engine, pytest.mark.proxy]

TEMPLATE = "keeps"  # the metered deployment's server
SETTLE_S = 60.0


def _engine_tokens(real: RealStack) -> tuple[float, float]:
    text = httpx.get(real.vllm[TEMPLATE].base + "/metrics", timeout=10).text
    return metric_sum(text, "vllm:generation_tokens_total"), metric_sum(text, "vllm:prompt_tokens_total")


def _settled_books(real: RealStack) -> Books:
    """The proxy's books once nothing is held in an unpriced window (twice in a row)."""
    deadline = time.monotonic() + SETTLE_S
    stable = 0
    while True:
        b = books(real.proxy)
        held = abs(b.joules.get("held", 0.0)) + abs(b.gpu_s.get("held", 0.0))
        stable = stable + 1 if held < 1e-9 else 0
        if stable >= 2:
            return b
        assert time.monotonic() < deadline, f"the metered deployment's windows did not settle: {b}"
        time.sleep(0.5)


async def _send(real: RealStack, stream: bool, leave_after: int | None = None) -> str:
    payload = body(real, METERED, "hi", stream, max_tokens=40)
    headers = {"Authorization": "Bearer sk-plain"}
    async with (
        httpx.AsyncClient(base_url=real.proxy.base, headers=headers, timeout=120) as c,
        c.stream("POST", "/v1/chat/completions", json=payload) as r,
    ):
        assert r.status_code == 200, await r.aread()
        events = 0
        async for line in r.aiter_lines():
            if line.startswith("data:"):
                events += 1
                if leave_after is not None and events >= leave_after:
                    break  # the client leaves mid-stream
        return r.headers["x-litellm-call-id"]


async def _traffic(real: RealStack) -> list[str]:
    gate = asyncio.Semaphore(4)
    plan: list[tuple[bool, int | None]] = [(True, None)] * 5 + [(False, None)] * 4 + [(True, 5)]

    async def one(stream: bool, leave: int | None) -> str:
        async with gate:
            return await _send(real, stream, leave)

    return list(await asyncio.gather(*(one(s, leave) for s, leave in plan)))


def test_records_add_up_to_the_metered_energy_with_the_engines_token_counters(real: RealStack) -> None:
    if real.redis is None:
        pytest.skip("redis-server is not installed: a shared engine's windows are settled through LiteLLM's Redis")
    # one request first: idle seen before this instance's first token is held until its share is known
    asyncio.run(_send(real, stream=False))
    before = _settled_books(real)
    gen0, prompt0 = _engine_tokens(real)
    call_ids = asyncio.run(_traffic(real))
    rows = [record(real, cid, wait_s=30.0) for cid in call_ids]  # one record each (asserted there)
    after = _settled_books(real)
    gen1, prompt1 = _engine_tokens(real)

    d = after.minus(before)
    records_j = sum(float(r["energy_j"] or 0.0) for r in rows)
    records_g = sum(float(r["gpu_seconds"] or 0.0) for r in rows)
    part = {k: d.joules.get(k, 0.0) for k in ("metered", "attributed", "idle", "others", "carry", "held")}
    part_g = {k: d.gpu_s.get(k, 0.0) for k in ("metered", "attributed", "idle", "others", "carry", "held")}
    ours_j = records_j + part["idle"] + part["carry"] + part["held"]
    ours_g = records_g + part_g["idle"] + part_g["carry"] + part_g["held"]
    figures: dict[str, Any] = {
        "requests": len(rows),
        "statuses": sorted(str(r["status"]) for r in rows),
        "engine_generated": gen1 - gen0,
        "engine_prompt": prompt1 - prompt0,
        "metered_j": part["metered"],
        "records_j": records_j,
        **{f"{k}_j": v for k, v in part.items() if k not in ("metered", "attributed")},
        "energy_error": (ours_j - part["metered"]) / part["metered"] if part["metered"] else None,
        "gpu_error": (ours_g - part_g["metered"]) / part_g["metered"] if part_g["metered"] else None,
    }
    print("\nreal-engine attribution: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
    assert {"cut", "cancelled"} <= set(figures["statuses"]), figures
    assert all(r["energy_j"] is not None and r["energy_j"] > 0 for r in rows if r["status"] != "cancelled"), figures
    # the meter ran: busy at the configured watts for at least the engine's generation time
    assert part["metered"] > 0 and part["metered"] <= METERED_WATTS * 600, figures
    assert records_j == pytest.approx(part["attributed"], rel=1e-3), figures
    # the requests, idle and carry add up to what was metered: the tokens the engine's counters grew
    # by that this proxy never saw (in flight at the cuts and the departure) are paid by the ones it
    # saw through the window's shared sum, not lost to ``others``
    assert abs(figures["energy_error"]) < 0.02, figures
    assert abs(figures["gpu_error"]) < 0.02, figures

"""Issue 15, end to end: two and then three proxy instances share one simulated engine, its
Postgres and its Redis. Streaming and non-streaming traffic (some cut by stream enforcement, some
cancelled by the client), up to 64 at once, spread over the instances. The records' energy and
GPU-seconds, with what each instance books as its idle share and its carry (``thinkbudget_meter_*``
on each proxy's /metrics, see the README's "More than one proxy"), add up to the engine's meter
delta and GPU bill within 2%; no request is recorded twice; a session's cap holds across instances
within the stated bound (the tokens in flight at each cut)."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.multi_proxy.conftest import BUDGETS, MODEL, SESSION_CAP, MultiProxy
from tests.proxy_stack import Books, books
from thinkbudget_litellm.demo.stack import Service

pytestmark = [pytest.mark.proxy, pytest.mark.postgres]

CONCURRENCY = 64
PROMPTS = ("Compare REST and GraphQL.", "What is 2+2?", "Prove that there are infinitely many primes.")
SETTLE_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Call:
    proxy: int
    stream: bool
    think: int  # the engine's natural thinking (sim)
    cancel_after: int | None = None  # streaming: the client leaves after this many events
    key: str = "sk-plain"
    session: str | None = None


@dataclass
class Sent:
    call: Call
    status: int = 0
    call_id: str | None = None
    budget: int | None = None


def meter_joules(multi: MultiProxy) -> float:
    """The engine's DCGM energy counter (J, all GPUs)."""
    text = httpx.get(multi.sim.base + "/metrics", timeout=10).text
    return sum(
        s.value / 1000.0
        for fam in text_string_to_metric_families(text)
        if fam.name == "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"
        for s in fam.samples
    )


@dataclass
class Reading:
    at: float
    meter_j: float
    books: list[Books]


READ_SPREAD_J = 15.0  # the meter's advance while every instance's books are read (idle: 30 W x 0.5 s)


def read_all(multi: MultiProxy) -> Reading:
    """The meter and every instance's books at one moment: the books are read at once (one thread
    per proxy) between two meter reads, and read again while the meter moved more than
    ``READ_SPREAD_J`` meanwhile. Read one after the other, a proxy slow to answer under load books
    seconds of idle energy that the meter reading before it did not count (30 W a second)."""
    with ThreadPoolExecutor(len(multi.proxies)) as pool:
        for _ in range(20):
            t0, m0 = time.monotonic(), meter_joules(multi)
            found = list(pool.map(books, multi.proxies))
            t1, m1 = time.monotonic(), meter_joules(multi)
            if m1 - m0 <= READ_SPREAD_J:
                break
        return Reading((t0 + t1) / 2, (m0 + m1) / 2, found)


async def _one(client: httpx.AsyncClient, proxy: Service, call: Call, user: str, sent: Sent) -> None:
    body: dict[str, Any] = {
        "model": MODEL,
        "messages": [{"role": "user", "content": random.choice(PROMPTS)}],
        "stream": call.stream,
        "user": user,
        "sim": {"think_tokens": call.think, "answer_tokens": 8},
    }
    if call.session is not None:
        body["litellm_session_id"] = call.session
    headers = {"Authorization": f"Bearer {call.key}"}
    url = proxy.base + "/v1/chat/completions"
    if not call.stream:
        r = await client.post(url, json=body, headers=headers)
        sent.status, sent.call_id = r.status_code, r.headers.get("x-litellm-call-id")
        sent.budget = int(r.headers["x-thinkbudget-budget"]) if "x-thinkbudget-budget" in r.headers else None
        return
    async with client.stream("POST", url, json=body, headers=headers) as r:
        sent.status, sent.call_id = r.status_code, r.headers.get("x-litellm-call-id")
        sent.budget = int(r.headers["x-thinkbudget-budget"]) if "x-thinkbudget-budget" in r.headers else None
        events = 0
        async for line in r.aiter_lines():
            if line.startswith("data:"):
                events += 1
                if call.cancel_after is not None and events >= call.cancel_after:
                    return  # the client leaves: the connection closes mid-stream


async def send_all(multi: MultiProxy, calls: Sequence[Call], user: str) -> list[Sent]:
    gate = asyncio.Semaphore(CONCURRENCY)
    sent = [Sent(c) for c in calls]
    limits = httpx.Limits(max_connections=CONCURRENCY * 2, max_keepalive_connections=0)

    async with httpx.AsyncClient(timeout=300, limits=limits) as client:

        async def go(s: Sent) -> None:
            async with gate:
                await _one(client, multi.proxies[s.call.proxy], s.call, user, s)

        await asyncio.gather(*(go(s) for s in sent))
    return sent


def traffic(instances: int, n: int, seed: int) -> list[Call]:
    """Round robin over the instances; a third non-streaming, a sixth of the streams cancelled;
    natural thinking from below to well above the 60-token budget (so about half are cut)."""
    rng = random.Random(seed)
    calls = []
    for i in range(n):
        stream = rng.random() > 1 / 3
        cancel = rng.randint(3, 30) if stream and rng.random() < 1 / 6 else None
        calls.append(Call(proxy=i % instances, stream=stream, think=rng.randint(10, 110), cancel_after=cancel))
    return calls


def wait_settled(multi: MultiProxy, user: str | None, expected: int = 0) -> list[dict[str, Any]]:
    """Every request of ``user`` recorded and every instance's settlement windows priced (nothing
    ``held``), twice in a row: the books are final. Polls, never sleeps a guessed time."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    stable = 0
    while True:
        rows = multi.records("end_user = :u", {"u": user}) if user is not None else []
        held = [(b.joules.get("held", 0.0), b.gpu_s.get("held", 0.0)) for b in (books(p) for p in multi.proxies)]
        done = len(rows) >= expected and all(abs(j) < 1e-6 and abs(g) < 1e-6 for j, g in held)
        stable = stable + 1 if done else 0
        if stable >= 2:
            return rows
        if time.monotonic() > deadline:
            pytest.fail(f"not settled after {SETTLE_TIMEOUT_S:.0f}s: {len(rows)}/{expected} records, held {held}")
        time.sleep(0.5)


def _assert_recorded_once(multi: MultiProxy, rows: list[dict[str, Any]], sent: list[Sent]) -> None:
    ids = [r["litellm_call_id"] for r in rows]
    assert len(ids) == len(set(ids)), "a request was recorded twice"
    dupes = multi.records(
        "litellm_call_id IN (SELECT litellm_call_id FROM thinkbudget.request_records "
        "GROUP BY litellm_call_id HAVING count(*) > 1)",
        {},
    )
    assert dupes == [], dupes
    seen = {s.call_id for s in sent if s.call_id}
    assert seen <= set(ids), f"requests answered but not recorded: {sorted(seen - set(ids))[:5]}"


def _run(multi: MultiProxy, instances: int, n: int, seed: int) -> dict[str, float]:
    user = f"multi-{instances}-{uuid.uuid4().hex[:8]}"
    calls = traffic(instances, n, seed)
    wait_settled(multi, None)  # earlier traffic's windows priced: nothing of it is held at the start
    before = read_all(multi)
    sent = asyncio.run(send_all(multi, calls, user))
    traffic_s = time.monotonic() - before.at
    assert all(s.status == 200 for s in sent), [(s.call, s.status) for s in sent if s.status != 200][:5]
    rows = wait_settled(multi, user, len(calls))
    after = read_all(multi)
    _assert_recorded_once(multi, rows, sent)
    assert len(rows) == len(calls)
    statuses = [r["status"] for r in rows]
    assert statuses.count("cut") > 0 and statuses.count("cancelled") > 0, statuses
    assert all(r["energy_j"] is not None and r["gpu_seconds"] is not None for r in rows)

    deltas = [a.minus(b) for a, b in zip(after.books, before.books, strict=True)]
    records_j = sum(r["energy_j"] for r in rows)
    records_g = sum(r["gpu_seconds"] for r in rows)
    booked = {part: sum(d.joules.get(part, 0.0) for d in deltas) for part in ("idle", "carry", "held", "attributed")}
    booked_g = {part: sum(d.gpu_s.get(part, 0.0) for d in deltas) for part in ("idle", "carry", "held", "attributed")}
    meter_j = after.meter_j - before.meter_j
    bill_s = after.at - before.at  # one GPU
    ours_j = records_j + booked["idle"] + booked["carry"] + booked["held"]
    ours_g = records_g + booked_g["idle"] + booked_g["carry"] + booked_g["held"]
    figures = {
        "instances": instances,
        "requests": len(rows),
        "cut": statuses.count("cut"),
        "cancelled": statuses.count("cancelled"),
        "traffic_s": traffic_s,
        "meter_j": meter_j,
        "records_j": records_j,
        "idle_j": booked["idle"],
        "carry_j": booked["carry"],
        "energy_error": (ours_j - meter_j) / meter_j,
        "bill_gpu_s": bill_s,
        "records_gpu_s": records_g,
        "idle_gpu_s": booked_g["idle"],
        "carry_gpu_s": booked_g["carry"],
        "gpu_error": (ours_g - bill_s) / bill_s,
        "metered_gpu_s_per_instance": sum(d.gpu_s.get("metered", 0.0) for d in deltas) / len(deltas),
    }
    print(f"\nmulti-proxy {instances} instances: " + ", ".join(f"{k}={v:.4g}" for k, v in figures.items()))
    for i, d in enumerate(deltas):  # each instance's books over the phase (a failure shows whose are off)
        print(f"  instance {i} J: " + ", ".join(f"{k}={v:.1f}" for k, v in sorted(d.joules.items())))
    # the records are what the instances credited to these requests (nothing else ran meanwhile)
    assert records_j == pytest.approx(booked["attributed"], rel=1e-3), figures
    assert records_g == pytest.approx(booked_g["attributed"], rel=1e-3), figures
    assert abs(figures["energy_error"]) < 0.02, figures
    assert abs(figures["gpu_error"]) < 0.02, figures
    return figures


# Issue 15's acceptance check. The windows are priced with every instance's weight summed in the
# shared Redis (README "More than one proxy"); measured +0.56% / +0.26% (2 instances) and -0.07% /
# -0.20% (3) on a 2-core machine at load ~7. Before that: -1.5% to -6.8% (tokens no proxy saw) and
# +44% under heavy load (a CPU-starved proxy's late tokens).
def test_two_then_three_instances_add_up_to_the_meter_and_the_bill(multi: MultiProxy) -> None:
    _run(multi, instances=2, n=128, seed=1)
    _run(multi, instances=3, n=192, seed=2)


def test_session_cap_holds_across_instances(multi: MultiProxy) -> None:
    """48 requests of one session, all at once, over the three instances: far more natural thinking
    than the cap. The budgets were reserved through the shared Redis, so the session's thinking
    exceeds its cap only by what its cut requests thought past their budgets (one instance's own
    count, as without Redis, would let each instance grant the whole cap)."""
    session = f"s-{uuid.uuid4().hex}"
    user = f"session-{uuid.uuid4().hex[:8]}"
    calls = [
        Call(proxy=i % len(multi.proxies), stream=i % 4 != 0, think=400, key="sk-session", session=session)
        for i in range(48)
    ]
    sent = asyncio.run(send_all(multi, calls, user))
    assert all(s.status == 200 for s in sent), [(s.call, s.status) for s in sent if s.status != 200][:5]
    rows = wait_settled(multi, user, len(calls))
    _assert_recorded_once(multi, rows, sent)
    thinking = sum(r["thinking_tokens"] for r in rows)
    over_budget = sum(max(0, r["thinking_tokens"] - (r["budget"] or 0)) for r in rows)
    granted = [r["budget"] or 0 for r in rows]
    print(
        f"\nsession cap {SESSION_CAP}: thinking {thinking}, past budgets {over_budget}, "
        f"granted {sum(granted)} over {len(rows)} requests ({granted.count(0)} got none)"
    )
    assert max(granted) <= BUDGETS["simple"]
    assert granted.count(0) > 0  # the cap was reached
    assert thinking > SESSION_CAP // 2  # the session did think
    # the stated bound: the cap plus what in-flight requests thought past their own budgets ...
    assert thinking <= SESSION_CAP + over_budget
    # ... which is the few tokens in flight at each cut, not a second cap
    assert over_budget <= 8 * len(rows), over_budget

"""A DCGM exporter that serves ``NaN``, ``+Inf``, ``-Inf``, ``-1e308`` and ``1e308`` between plausible
readings (doubles.HostileDcgm). Every figure the proxy derives from it must stay finite, non-negative
and physically plausible: the records' energy and cost, the response headers, the cost LiteLLM
records (and so key and team spend), and the Prometheus counters (one NaN poisons a counter for good).
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.adversarial import stack_config as cfg
from tests.adversarial.doubles import HOSTILE_VALUES
from tests.adversarial.harness import CHAT, SIMPLE, AdvStack, chat_body

pytestmark = pytest.mark.proxy

MODEL = "adv-hostile-energy"
MAX_GPU_WATTS = 2000.0  # no single GPU draws more (an H100 SXM is limited to 700 W)
USD_PER_GPU_SECOND = cfg.GPU_COST_PER_HOUR / 3600.0


def _finite_non_negative(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


# Bounds for figures that carry no duration: one request lasts seconds here (a minute is generous),
# and the suite's proxy lives well under an hour.
REQUEST_S, STACK_S = 60.0, 3600.0
LIMITS = {"energy": MAX_GPU_WATTS, "cost": USD_PER_GPU_SECOND}


def _within(kind: str, value: float, seconds: float) -> bool:
    """``value`` (joules or USD) is no more than one GPU can draw or cost in ``seconds``."""
    return value <= LIMITS[kind] * seconds * 1.01


def _plausible(energy_j: float, cost_usd: float, latency_s: float) -> bool:
    """At most one GPU at MAX_GPU_WATTS and its price for the request's duration (plus a tick's slack)."""
    window = latency_s + 1.0
    return _within("energy", energy_j, window) and _within("cost", cost_usd, window)


@pytest.fixture(scope="module")
def metered(adv: AdvStack) -> list[httpx.Response]:
    """16 requests in 4 waves 0.3 s apart, half of them streamed, so that the meter's ticks meet
    hostile values while requests are active."""
    # the meter starts with the proxy's first request: make sure it is scraping before the waves
    with adv.client(cfg.PLAIN) as c:
        assert c.post(CHAT, json=chat_body(MODEL, SIMPLE, sim={"think_tokens": 10})).status_code == 200
    deadline = time.monotonic() + 10
    scrapes_before = adv.dcgm.scrapes
    while adv.dcgm.scrapes < scrapes_before + 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    scrapes_before = adv.dcgm.scrapes

    async def one(client: httpx.AsyncClient, i: int) -> httpx.Response:
        await asyncio.sleep((i // 4) * 0.3)
        body = chat_body(MODEL, f"{SIMPLE} ({uuid.uuid4().hex[:6]})", stream=i % 2 == 1, user=f"adv-energy-{i}")
        body["sim"].update(think_tokens=600, answer_tokens=40)
        return await client.post(CHAT, json=body)

    async def run() -> list[httpx.Response]:
        async with adv.async_client(cfg.PLAIN) as client:
            return list(await asyncio.gather(*(one(client, i) for i in range(16))))

    responses = asyncio.run(run())
    scraped = adv.dcgm.scrapes - scrapes_before
    during = adv.dcgm.served[max(len(adv.dcgm.served) - scraped, 0) :] if scraped else []
    hostile = [v for v in during if v in HOSTILE_VALUES]
    assert len(hostile) >= 2, f"the meter met too few hostile readings while requests ran: {during}"
    return responses


def test_records_energy_and_cost_stay_finite_and_plausible(adv: AdvStack, metered: list[httpx.Response]) -> None:
    assert all(r.status_code == 200 for r in metered), [r.status_code for r in metered]
    call_ids = [r.headers["x-litellm-call-id"] for r in metered]
    rows = adv.records(call_ids, wait_s=20)
    problems = []
    for cid in call_ids:
        found = rows.get(cid, [])
        if len(found) != 1:
            problems.append(f"{cid}: {len(found)} records")
            continue
        row = found[0]
        energy, cost, latency_s = row["energy_j"], row["cost_usd"], (row["latency_ms"] or 0) / 1000.0
        if not (_finite_non_negative(energy) and _finite_non_negative(cost)):
            problems.append(f"{cid}: energy_j={energy!r} cost_usd={cost!r} ({row['energy_source']})")
        elif not _plausible(energy, cost, latency_s):
            problems.append(f"{cid}: implausible energy_j={energy} cost_usd={cost} for {latency_s:.2f} s")
        if not row["energy_source"]:
            problems.append(f"{cid}: the figures do not say where they came from")
    assert not problems, "\n".join(problems)


def test_response_headers_stay_finite_and_plausible(metered: list[httpx.Response]) -> None:
    problems = []
    headers = {"x-thinkbudget-energy-j": "energy", "x-thinkbudget-cost": "cost", "x-litellm-response-cost": "cost"}
    for r in metered:
        for name, kind in headers.items():
            if name in r.headers:
                try:
                    value = float(r.headers[name])
                except ValueError:
                    value = math.nan
                if not (_finite_non_negative(value) and _within(kind, value, REQUEST_S)):
                    problems.append(f"{r.headers.get('x-litellm-call-id')}: {name}: {r.headers[name]!r}")
    assert not problems, "\n".join(problems)


def test_litellm_recorded_cost_stays_finite_and_plausible(adv: AdvStack, metered: list[httpx.Response]) -> None:
    """What LiteLLM records (``response_cost``: SpendLogs, key and team spend) and our figures in its
    spend-log metadata."""
    problems = []
    for r in metered:
        cid = r.headers["x-litellm-call-id"]
        events = [ev for ev in adv.events(cid, wait_s=10) if ev["status"] == "success"]
        if len(events) != 1:
            problems.append(f"{cid}: {len(events)} success events")
            continue
        ev = events[0]
        slm = ev.get("spend_logs_metadata") or {}
        for name, kind, value in (
            ("response_cost", "cost", ev["response_cost"]),
            ("standard_logging_object.response_cost", "cost", ev["slo_response_cost"]),
            ("spend_logs_metadata.thinkbudget_energy_j", "energy", slm.get("thinkbudget_energy_j", 0.0)),
            ("spend_logs_metadata.thinkbudget_gpu_cost_usd", "cost", slm.get("thinkbudget_gpu_cost_usd", 0.0)),
        ):
            if not _finite_non_negative(value):
                problems.append(f"{cid}: {name}={value!r}")
            elif not _within(kind, value, REQUEST_S):
                problems.append(f"{cid}: {name}={value} is implausible for a request of seconds")
    assert not problems, "\n".join(problems)


def test_prometheus_counters_stay_finite_and_plausible(adv: AdvStack, metered: list[httpx.Response]) -> None:
    counters = {"thinkbudget_energy_joules_total{": "energy", "thinkbudget_cost_usd_total{": "cost"}
    samples = [
        (line, kind)
        for line in adv.metrics_text().splitlines()
        for prefix, kind in counters.items()
        if line.startswith(prefix) and f'model="{MODEL}"' in line
    ]
    assert samples, "no energy or cost counter for the hostile deployment"
    bad = [
        line
        for line, kind in samples
        if not (_finite_non_negative(value := float(line.rsplit(" ", 1)[1])) and _within(kind, value, STACK_S))
    ]
    assert not bad, bad

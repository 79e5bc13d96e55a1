"""Per-session thinking counters live in LiteLLM's shared cache, so proxy instances agree."""

from __future__ import annotations

import uuid

import pytest
from litellm.caching.dual_cache import DualCache
from litellm.caching.in_memory_cache import InMemoryCache
from litellm.caching.redis_cache import RedisCache

from thinkbudget_litellm.handler.session_ledger import SessionLedger


def _instance(port: int) -> SessionLedger:
    """One proxy instance: its own in-memory layer, the shared Redis behind it."""
    cache = DualCache(in_memory_cache=InMemoryCache(), redis_cache=RedisCache(host="127.0.0.1", port=port))
    ledger = SessionLedger()
    ledger.bind(cache, ttl_s=60)
    return ledger


async def test_two_instances_agree_through_redis(redis_port):
    a, b = _instance(redis_port), _instance(redis_port)
    session = f"s-{uuid.uuid4()}"
    assert await a.used(session) == 0
    await a.add(session, 300)
    await b.add(session, 200)
    assert await a.used(session) == 500
    assert await b.used(session) == 500


async def test_without_a_cache_it_counts_locally():
    ledger = SessionLedger()
    await ledger.add("s", 7)
    assert await ledger.used("s") == 7


async def test_local_counts_are_bounded():
    ledger = SessionLedger(max_local=3)
    for n in range(5):
        await ledger.add(f"s{n}", 1)
    await ledger.add("s2", 1)  # used again: kept
    await ledger.add("s5", 1)
    assert [await ledger.used(f"s{n}") for n in range(6)] == [0, 0, 2, 0, 1, 1]


async def test_concurrent_reservations_across_instances_never_exceed_the_cap(redis_port):
    """64 requests of one session on three instances at once: the budgets granted add up to the cap
    at most, and settling commits what was thought and releases the rest."""
    import asyncio

    instances = [_instance(redis_port) for _ in range(3)]
    session = f"s-{uuid.uuid4()}"
    cap, want = 10_000, 700
    grants = await asyncio.gather(*(instances[i % 3].reserve(session, want, cap) for i in range(64)))
    assert sum(grants) == cap  # 14 full grants, one partial, the rest refused
    assert sorted(set(grants)) == [0, 200, 700]
    assert await instances[0].used(session) == cap
    await asyncio.gather(*(instances[i % 3].settle(session, g // 2, g) for i, g in enumerate(grants)))
    assert await instances[1].used(session) == cap // 2
    assert await instances[2].reserve(session, 10_000, cap) == cap // 2


@pytest.mark.parametrize(
    ("steps", "committed"),
    [
        # (want, thought): a grant is min(want, cap - committed); settling commits what was thought
        ([(400, 300), (400, 400), (400, 0)], 700),
        ([(1_000, 1_000), (1_000, 5)], 1_000),  # the cap (1,000) was reached: the second got 0
        ([(600, 650)], 650),  # overshoot beyond its own budget (enforcement slack) is counted
    ],
)
async def test_reserve_and_settle_without_redis(steps, committed):
    ledger = SessionLedger()
    for want, thought in steps:
        grant = await ledger.reserve("s", want, 1_000)
        await ledger.settle("s", min(thought, grant) if thought <= want else thought, grant)
    assert await ledger.used("s") == committed


async def test_litellm_coordination_redis_is_used_when_the_auth_cache_has_none(redis_port):
    """LiteLLM's auth cache gets Redis only with enable_redis_auth_cache; its coordination Redis
    (rate limits, spend counters) is there whenever Redis is configured: the ledger uses that."""
    a, b = SessionLedger(), SessionLedger()
    for ledger in (a, b):
        ledger.bind(DualCache(in_memory_cache=InMemoryCache()), 60, redis=RedisCache(host="127.0.0.1", port=redis_port))
    session = f"s-{uuid.uuid4()}"
    assert await a.reserve(session, 600, 1_000) == 600
    assert await b.reserve(session, 600, 1_000) == 400
    await a.settle(session, 100, 600)
    assert await b.used(session) == 500 and a.shared and b.shared

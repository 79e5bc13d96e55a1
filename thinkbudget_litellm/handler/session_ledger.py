"""Cumulative thinking tokens per session in LiteLLM's Redis (the coordination Redis LiteLLM uses
for rate limits and spend counters, else the auth cache's), so several proxy instances agree on a
session's remaining allowance.

A session's counter holds its *committed* tokens: thinking tokens of finished requests plus the
budgets reserved by requests still running. Admission reserves atomically (one Lua script on
Redis, so concurrent requests on any instance never reserve the same allowance twice) and the
request's end settles it (``INCRBY actual - reserved``). So the budgets granted to a session's
requests never add up to more than its cap, and a session goes over its cap only by what its
requests in flight think beyond their own budgets (the enforcement's overshoot: ``slack_tokens``
for native caps, the tokens in flight at a stream cut). Without Redis the same bookkeeping runs in
this process (exact for one instance)."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("thinkbudget_litellm")

KEY_PREFIX = "thinkbudget:session:"

# KEYS[1] the session's committed tokens; ARGV: wanted, cap, ttl. Returns {granted, committed before}.
RESERVE_LUA = """
local committed = tonumber(redis.call('GET', KEYS[1]) or '0')
local want = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local grant = math.max(0, math.min(want, cap - committed))
if grant > 0 then redis.call('INCRBY', KEYS[1], grant) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return {grant, committed}
"""

ScriptRunner = Callable[..., Awaitable[Any]]


class SessionLedger:
    """``_local`` is this instance's own count, the fallback when the shared cache fails; it keeps
    the most recently used ``max_local`` sessions, so a long-lived proxy does not grow with them."""

    def __init__(self, max_local: int = 100_000) -> None:
        self._cache: Any = None
        self._ttl_s = 86_400
        self._local: OrderedDict[str, int] = OrderedDict()
        self._max_local = max_local
        self._reserve_script: ScriptRunner | None = None
        self._redis: Any = None

    @property
    def bound(self) -> bool:
        return self._cache is not None

    @property
    def shared(self) -> bool:
        """True when the counts live in Redis (shared by every proxy instance)."""
        return self._redis is not None

    def bind(self, cache: Any, ttl_s: int, redis: Any = None) -> None:
        """Use the proxy's ``DualCache`` (handed to ``async_pre_call_hook``) and LiteLLM's
        coordination ``RedisCache`` (``redis``; else the cache's own Redis, if any)."""
        self._cache = cache
        self._ttl_s = ttl_s
        self._redis = redis if redis is not None else getattr(cache, "redis_cache", None)
        self._reserve_script = None

    async def used(self, session_id: str) -> int:
        """The session's committed tokens (finished requests' thinking + running requests' budgets)."""
        key = KEY_PREFIX + session_id
        cache = self._cache
        try:
            redis = self._redis
            if redis is not None:  # read Redis directly: the in-memory layer may be stale across instances
                value = await redis.async_get_cache(key)
            elif cache is not None:
                value = await cache.async_get_cache(key)
            else:
                value = self._local.get(key)
            return int(float(value)) if value is not None else 0
        except Exception:
            log.warning("thinkbudget: session ledger read failed for %s", session_id, exc_info=True)
            return self._local.get(key, 0)

    async def reserve(self, session_id: str, want: int, cap: int) -> int:
        """Reserve up to ``want`` tokens of the session's ``cap``, atomically across instances;
        returns what was granted (0 when the cap is reached). Settle it with ``settle``."""
        want = max(0, int(want))
        key = KEY_PREFIX + session_id
        redis = self._redis
        if redis is not None:
            try:
                if self._reserve_script is None:
                    self._reserve_script = redis.async_register_script(RESERVE_LUA)
                result = await self._reserve_script(keys=[key], args=[want, cap, self._ttl_s])
                grant = int(result[0])
                self._count_local(key, grant)
                return grant
            except Exception:
                log.warning("thinkbudget: session reservation failed for %s; counted here", session_id, exc_info=True)
        elif self._cache is not None:  # an in-memory cache only: one instance, this process
            committed = await self.used(session_id)
            grant = max(0, min(want, cap - committed))
            await self._increment(key, grant)
            self._count_local(key, grant)
            return grant
        committed = self._local.get(key, 0)
        grant = max(0, min(want, cap - committed))
        self._count_local(key, grant)
        return grant

    async def settle(self, session_id: str, tokens: int, reserved: int) -> None:
        """A request that reserved ``reserved`` tokens thought ``tokens``: commit the difference."""
        await self.add(session_id, int(tokens) - int(reserved))

    async def add(self, session_id: str, tokens: int) -> None:
        """Add ``tokens`` (negative: release) to the session's committed count."""
        if tokens == 0:
            return
        key = KEY_PREFIX + session_id
        self._count_local(key, tokens)
        if self._cache is None:
            return
        await self._increment(key, tokens)

    async def _increment(self, key: str, tokens: int) -> None:
        try:
            if self._redis is not None:
                await self._redis.async_increment(key=key, value=tokens, ttl=self._ttl_s)
            else:
                await self._cache.async_increment_cache(key=key, value=tokens, ttl=self._ttl_s)
        except Exception:
            log.warning("thinkbudget: session ledger write failed for %s", key, exc_info=True)

    def _count_local(self, key: str, tokens: int) -> None:
        self._local[key] = max(0, self._local.pop(key, 0) + tokens)
        if len(self._local) > self._max_local:
            self._local.popitem(last=False)

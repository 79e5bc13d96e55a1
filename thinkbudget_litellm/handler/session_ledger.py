"""Cumulative thinking tokens per session in LiteLLM's shared cache (Redis when configured),
so several proxy instances agree on a session's remaining allowance."""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

log = logging.getLogger("thinkbudget_litellm")

KEY_PREFIX = "thinkbudget:session:"


class SessionLedger:
    """``_local`` is this instance's own count, the fallback when the shared cache fails; it keeps
    the most recently used ``max_local`` sessions, so a long-lived proxy does not grow with them."""

    def __init__(self, max_local: int = 100_000) -> None:
        self._cache: Any = None
        self._ttl_s = 86_400
        self._local: OrderedDict[str, int] = OrderedDict()
        self._max_local = max_local

    @property
    def bound(self) -> bool:
        return self._cache is not None

    def bind(self, cache: Any, ttl_s: int) -> None:
        """Use the proxy's ``DualCache`` (handed to ``async_pre_call_hook``)."""
        self._cache = cache
        self._ttl_s = ttl_s

    async def used(self, session_id: str) -> int:
        key = KEY_PREFIX + session_id
        cache = self._cache
        try:
            redis = getattr(cache, "redis_cache", None)
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

    async def add(self, session_id: str, tokens: int) -> None:
        key = KEY_PREFIX + session_id
        self._local[key] = self._local.pop(key, 0) + tokens
        if len(self._local) > self._max_local:
            self._local.popitem(last=False)
        if self._cache is None:
            return
        try:
            await self._cache.async_increment_cache(key=key, value=tokens, ttl=self._ttl_s)
        except Exception:
            log.warning("thinkbudget: session ledger write failed for %s", session_id, exc_info=True)

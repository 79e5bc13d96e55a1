"""Where proxy instances sharing one engine add up their token weight per settlement window.

A window's *sum* takes every instance's weight (each instance sets its own cumulative weight, so
a retried call never counts twice) until it is *sealed*; sealing returns the sum and the caller's
part of it, and a publication after the seal is refused. So every instance that prices the window reads the same
denominator (``window_price``: each instance takes ``E x published / sum`` of its own reading of
the window's energy ``E``). Keys are ``thinkbudget:window:{<scope>}:<index>``: the scope names the
engine and the window length (the braces keep one scope in one Redis Cluster slot), the index is
``ceil(wall clock / window_s)``, so instances agree on it without talking.

``WindowSums`` is the rule in memory (pure; the simulator and the tests use it), ``MemoryWindowStore``
its async face, ``RedisWindowStore`` the same rule as two Lua scripts on LiteLLM's coordination Redis
(atomic across instances). The hub calls a store only from its tick task, never on a request's path,
and falls back to this instance's own counts when a call fails.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

KEY_PREFIX = "thinkbudget:window:"

# A window is a Redis hash: one field per instance (its cumulative weight there, so a retried
# publication never counts twice) and 's' once sealed.
# KEYS: window keys; ARGV[1]: TTL (s), ARGV[2]: the instance, ARGV[2 + i]: its weight in KEYS[i].
# Returns 1 per key that took it, 0 per key sealed already.
PUBLISH_LUA = """
local ttl = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('HEXISTS', key, 's') == 1 then
    out[i] = 0
  else
    redis.call('HSET', key, 'w:' .. ARGV[2], ARGV[i + 2])
    redis.call('EXPIRE', key, ttl)
    out[i] = 1
  end
end
return out
"""

# KEYS: window keys; ARGV[1]: TTL (s), ARGV[2]: the instance. Seals each (idempotent) and returns,
# per key, {sum of every instance's weight, this instance's} as text.
SEAL_LUA = """
local ttl = tonumber(ARGV[1])
local mine = 'w:' .. ARGV[2]
local out = {}
for i, key in ipairs(KEYS) do
  redis.call('HSET', key, 's', 1)
  redis.call('EXPIRE', key, ttl)
  local fields = redis.call('HGETALL', key)
  local total, own = 0, 0
  for j = 1, #fields, 2 do
    if string.sub(fields[j], 1, 2) == 'w:' then
      local v = tonumber(fields[j + 1])
      total = total + v
      if fields[j] == mine then own = v end
    end
  end
  out[i] = {string.format('%.17g', total), string.format('%.17g', own)}
end
return out
"""


def window_scope(engine: str, window_s: float) -> str:
    """The key scope of one engine's windows (its metrics URL) at one window length."""
    return hashlib.sha256(f"{engine}|{window_s:g}".encode()).hexdigest()[:16]


def window_key(scope: str, index: int) -> str:
    return f"{KEY_PREFIX}{{{scope}}}:{index}"


class WindowSums:
    """The store's rule in memory (pure)."""

    def __init__(self) -> None:
        self._sums: dict[str, dict[str, float]] = {}
        self._sealed: set[str] = set()

    def add(self, key: str, member: str, weight: float) -> bool:
        """Set ``member``'s cumulative weight in the window; False once it is sealed."""
        if key in self._sealed:
            return False
        self._sums.setdefault(key, {})[member] = weight
        return True

    def seal(self, key: str, member: str) -> tuple[float, float]:
        """Seal the window; (everyone's weight, ``member``'s)."""
        self._sealed.add(key)
        weights = self._sums.get(key, {})
        return sum(weights.values()), weights.get(member, 0.0)


class WindowStore(Protocol):
    async def publish(self, member: str, items: Sequence[tuple[str, float]]) -> list[bool]:
        """Set ``member``'s cumulative weight in each window (a retry never counts twice); per item,
        False when its window was sealed already."""
        ...

    async def seal(self, member: str, keys: Sequence[str]) -> list[tuple[float, float]]:
        """Seal each window (idempotent); per window (everyone's weight, ``member``'s)."""
        ...


class MemoryWindowStore:
    """``WindowSums`` behind the async interface (one process: tests, the simulator)."""

    def __init__(self, sums: WindowSums | None = None) -> None:
        self.sums = sums if sums is not None else WindowSums()

    async def publish(self, member: str, items: Sequence[tuple[str, float]]) -> list[bool]:
        return [self.sums.add(k, member, w) for k, w in items]

    async def seal(self, member: str, keys: Sequence[str]) -> list[tuple[float, float]]:
        return [self.sums.seal(k, member) for k in keys]


Script = Callable[..., Awaitable[Any]]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisWindowStore:
    """The rule on Redis: ``redis`` is LiteLLM's ``RedisCache`` (``async_register_script``) or any
    client with redis-py's ``register_script``. Keys expire ``ttl_s`` after their last use."""

    def __init__(self, redis: Any, ttl_s: int = 3600) -> None:
        self._redis = redis
        self._ttl_s = int(ttl_s)
        self._publish: Script | None = None
        self._seal: Script | None = None

    def _script(self, text: str) -> Script:
        register = getattr(self._redis, "async_register_script", None) or self._redis.register_script
        script: Script = register(text)
        return script

    async def publish(self, member: str, items: Sequence[tuple[str, float]]) -> list[bool]:
        if not items:
            return []
        if self._publish is None:
            self._publish = self._script(PUBLISH_LUA)
        args = [self._ttl_s, member, *(repr(float(w)) for _, w in items)]
        result = await self._publish(keys=[k for k, _ in items], args=args)
        return [int(r) == 1 for r in result]

    async def seal(self, member: str, keys: Sequence[str]) -> list[tuple[float, float]]:
        if not keys:
            return []
        if self._seal is None:
            self._seal = self._script(SEAL_LUA)
        result = await self._seal(keys=list(keys), args=[self._ttl_s, member])
        return [(float(_text(total)), float(_text(own))) for total, own in result]

"""Exploration: a small share of requests per cell gets a larger budget, so that a cell whose
requests are mostly cut still shows how long its model would think.

The choice is a hash of a seed and the request's call id: deterministic (a test, or a replay, knows
which requests explore) and, per cell, about ``share`` of its requests. A client may choose its own
``litellm_call_id``, so the seed must be unknown to clients: the proxy draws a random one per process
unless the operator sets ``adaptive.explore_seed``. Either way an exploration budget stays below
every key, team and caller limit (``policy.budget.resolve_budget``) and ``adaptive.bounds.max``.
"""

from __future__ import annotations

import hashlib
import math


def explore_unit(seed: str, call_id: str) -> float:
    """A number in [0, 1) fixed by the seed and the call id, uniform over call ids."""
    digest = hashlib.sha256(f"{seed}\x00{call_id}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def explores(seed: str, call_id: str, share: float) -> bool:
    return bool(call_id) and share > 0.0 and explore_unit(seed, call_id) < share


def exploration_budget(base: int, factor: float, ceiling: int) -> int:
    """The larger budget an exploring request gets: ``base x factor``, at most ``ceiling`` (never
    below ``base``)."""
    return max(base, min(math.ceil(base * factor), ceiling))

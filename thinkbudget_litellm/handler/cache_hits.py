"""What a response served from LiteLLM's cache saved: the original request's bill (pure).

A cached response keeps the ``id`` of the response it was cached from. ``CacheSavings`` remembers,
per response id, what each request this proxy answered cost (GPU energy, cost, CO2e, thinking), so
a later cache hit of it can say what it saved. It is bounded (least recently used go first) and per
proxy instance: a hit on a response another instance produced falls back to the price LiteLLM
itself puts on the cached tokens (``saved_cache_cost``), labelled as such.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class SavingSource(StrEnum):
    ORIGINAL = "original_request"  # the bill of the request the cached response came from
    LITELLM_PRICE = "litellm_token_price"  # LiteLLM's price of the cached tokens (no bill known here)


@dataclass(frozen=True, slots=True)
class CacheSaving:
    source: SavingSource
    cost_usd: float | None
    energy_j: float | None = None
    co2e_g: float | None = None
    thinking_tokens: int | None = None
    original_call_id: str | None = None

    def as_extra(self) -> dict[str, Any]:
        """The record's ``extra.cache_saving``."""
        out: dict[str, Any] = {"source": self.source.value}
        for name in ("cost_usd", "energy_j", "co2e_g", "thinking_tokens", "original_call_id"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


class CacheSavings:
    """Bills of recent requests by response id (bounded, least recently used evicted)."""

    def __init__(self, max_entries: int = 20_000) -> None:
        self._max = max_entries
        self._bills: OrderedDict[str, CacheSaving] = OrderedDict()

    def remember(self, response_id: str | None, saving: CacheSaving) -> None:
        if not response_id:
            return
        self._bills[response_id] = saving
        self._bills.move_to_end(response_id)
        while len(self._bills) > self._max:
            self._bills.popitem(last=False)

    def saving_for(self, response_id: str | None, litellm_saved_cost: float | None = None) -> CacheSaving | None:
        """What a hit of ``response_id`` saved: the original's bill, else LiteLLM's price, else None."""
        if response_id and response_id in self._bills:
            self._bills.move_to_end(response_id)
            return self._bills[response_id]
        if litellm_saved_cost is not None:
            return CacheSaving(SavingSource.LITELLM_PRICE, litellm_saved_cost)
        return None

    def __len__(self) -> int:
        return len(self._bills)


def cache_hit_headers(saving: CacheSaving | None) -> dict[str, str]:
    """Response headers of a cache hit: no GPU ran, and what it saved when known."""
    headers = {
        "X-ThinkBudget-Cache": "hit",
        "X-ThinkBudget-Energy-J": "0",
        "X-ThinkBudget-Cost": "0",
        "X-ThinkBudget-CO2e-g": "0",
    }
    if saving is not None and saving.cost_usd is not None:
        headers["X-ThinkBudget-Saved-Cost"] = f"{saving.cost_usd:.8g}"
        headers["X-ThinkBudget-Saved-Source"] = saving.source.value
    if saving is not None and saving.energy_j is not None:
        headers["X-ThinkBudget-Saved-Energy-J"] = f"{saving.energy_j:.6g}"
    return headers

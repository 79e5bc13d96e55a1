"""Successive readings of a cumulative counter -> what happened in the interval since the last one (pure).

- ``delta``: the counter advanced by ``amount``.
- ``stale``: it did not move and, for a hardware counter, that means "not updated yet" (real GPUs
  never draw 0 W); the interval's energy arrives with the next delta.
- ``error``: the read failed; the baseline is kept, so the next good reading's delta covers the gap.
- ``reset``: the counter went backwards (driver reload, exporter restart, wrap); the interval
  cannot be measured and the new value becomes the baseline.
- ``baseline``: first reading (or first after ``rebaseline``); the interval cannot be measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

StepKind = Literal["delta", "stale", "error", "reset", "baseline"]


@dataclass(frozen=True, slots=True)
class CounterStep:
    kind: StepKind
    amount: float = 0.0  # only for "delta"
    reason: str = ""  # only for "error"


class CounterTracker:
    """Remembers the last good reading of one cumulative counter."""

    __slots__ = ("_last", "_stale_on_equal")

    def __init__(self, stale_on_equal: bool) -> None:
        self._stale_on_equal = stale_on_equal
        self._last: float | None = None

    @property
    def last(self) -> float | None:
        return self._last

    def reading(self, value: float) -> CounterStep:
        if value != value or value in (float("inf"), float("-inf")):  # NaN / inf
            return CounterStep("error", reason="non-finite reading")
        last, self._last = self._last, value
        if last is None:
            return CounterStep("baseline")
        if value < last:
            return CounterStep("reset")
        if value == last and self._stale_on_equal:
            self._last = last
            return CounterStep("stale")
        return CounterStep("delta", amount=value - last)

    def failure(self, reason: str) -> CounterStep:
        return CounterStep("error", reason=reason)

    def rebaseline(self) -> None:
        """Forget the baseline (after the interval since it was given up and estimated)."""
        self._last = None

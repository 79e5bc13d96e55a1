"""Successive readings of a cumulative counter -> what happened in the interval since the last one (pure).

Every reading is judged first (``validate``): finite, >= 0, not backwards, and not moving faster
than ``max_rate`` (the GPUs' power bound, in joules per second) over the longest time the movement
can span (``validate.CounterWindow``).

- ``delta``: the counter advanced by ``amount``.
- ``stale``: it did not move and, for a hardware counter, that means "not updated yet" (real GPUs
  never draw 0 W); the interval's energy arrives with the next delta.
- ``error``: the read failed; the baseline is kept, so the next good reading's delta covers the gap.
- ``rejected``: the reading is not believed (non-finite, negative, implausible); like ``error``,
  the baseline is kept.
- ``reset``: the counter went backwards (driver reload, exporter restart, wrap); the interval
  cannot be measured and the new value becomes the baseline.
- ``baseline``: first reading (or first after ``rebaseline``); the interval cannot be measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from thinkbudget_litellm.meter.validate import CounterWindow, Rejection, check_step, check_value


class StepKind(StrEnum):
    DELTA = "delta"
    STALE = "stale"
    ERROR = "error"
    REJECTED = "rejected"
    RESET = "reset"
    BASELINE = "baseline"


@dataclass(frozen=True, slots=True)
class CounterStep:
    kind: StepKind
    amount: float = 0.0  # only for DELTA
    reason: str = ""  # only for ERROR
    rejection: Rejection | None = None  # REJECTED; RESET (BACKWARDS)


class CounterTracker:
    """Remembers the last accepted reading of one cumulative counter.

    ``max_staleness_s``: how old a value may already be when it is read (the exporter's refresh
    interval); it bounds only the first delta after a baseline."""

    __slots__ = ("_last", "_stale_on_equal", "_window")

    def __init__(self, stale_on_equal: bool, max_staleness_s: float = 0.0) -> None:
        self._stale_on_equal = stale_on_equal
        self._last: float | None = None
        self._window = CounterWindow(max_staleness_s)

    @property
    def last(self) -> float | None:
        return self._last

    def reading(self, value: float, sent: float, received: float, max_rate: float | None = None) -> CounterStep:
        """A read sent at ``sent`` returned ``value`` at ``received``."""
        last = self._last
        if last is None:
            rejection = check_value(value)
            if rejection is not None:
                return CounterStep(StepKind.REJECTED, rejection=rejection)
            self._last = value
            self._window.baseline(sent)
            return CounterStep(StepKind.BASELINE)
        if value == last and self._stale_on_equal:
            self._window.same(sent)
            return CounterStep(StepKind.STALE)
        rejection = check_step(last, value, self._window.span(received), max_rate)
        if rejection is Rejection.BACKWARDS:
            self._last = value
            self._window.baseline(sent)
            return CounterStep(StepKind.RESET, rejection=rejection)
        if rejection is not None:
            return CounterStep(StepKind.REJECTED, rejection=rejection)
        self._last = value
        if value == last:
            self._window.same(sent)
        else:
            self._window.moved(sent)
        return CounterStep(StepKind.DELTA, amount=value - last)

    def restart(self, value: float | None, sent: float) -> CounterStep:
        """The source found the counter went back (one GPU of several): ``value`` is the new
        baseline (None or invalid: the next reading is)."""
        if value is None or check_value(value) is not None:
            self._last = None
        else:
            self._last = value
            self._window.baseline(sent)
        return CounterStep(StepKind.RESET, rejection=Rejection.BACKWARDS)

    def failure(self, reason: str) -> CounterStep:
        return CounterStep(StepKind.ERROR, reason=reason)

    def rebaseline(self) -> None:
        """Forget the baseline (after the interval since it was given up and estimated)."""
        self._last = None

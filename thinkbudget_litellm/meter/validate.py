"""Readings of cumulative counters judged before they are believed (pure; no pydantic, no I/O).

A cumulative counter (GPU joules since boot, engine tokens since start) can only be finite, >= 0
and non-decreasing, and it can only move as fast as the hardware allows: a GPU draws at most its
power limit. A reading that breaks one of these is *rejected*; the caller bills the interval from
its labelled estimate instead (``estimated(fallback:<source> <why>)``).

How long a delta can span
    A counter value is produced some time before it is read (dcgm-exporter refreshes every collect
    interval; NVML every few milliseconds). The previous value was produced after the last read
    that still returned an older one was sent, so a delta received at ``received`` covers at most
    ``received`` minus that read's send time (``CounterWindow``), however late the exporter is. A
    first delta after a baseline has no such read: its baseline may be up to ``max_staleness_s`` old.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from enum import StrEnum
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

DEFAULT_MAX_WATTS_PER_GPU = 1500.0
"""Bound on one GPU's average power when nothing better is known (H100 SXM: 700 W, B200: 1000 W)."""

ENFORCED_LIMIT_HEADROOM = 1.5
"""Factor on a GPU's enforced power limit (NVML): short excursions above the limit and the sensor's
averaging window must not reject a real reading."""


class Rejection(StrEnum):
    """Why a reading was not believed (the ``reason`` label of the rejected-readings metric)."""

    NON_FINITE = "non_finite"  # NaN, +Inf, -Inf
    NEGATIVE = "negative"  # a cumulative counter below zero (e.g. -1e308)
    BACKWARDS = "backwards"  # below the last accepted reading: reset, wrap, restart
    IMPLAUSIBLE = "implausible"  # moved faster than the hardware can (power limit x interval)

    @property
    def describe(self) -> str:
        """The words that go into fallback labels (``estimated(fallback:dcgm implausible reading)``)."""
        return _DESCRIBE[self]


_DESCRIBE = {
    Rejection.NON_FINITE: "non-finite reading",
    Rejection.NEGATIVE: "negative reading",
    Rejection.BACKWARDS: "counter reset",
    Rejection.IMPLAUSIBLE: "implausible reading",
}


def finite_non_negative(value: float) -> bool:
    """True for a finite number >= 0 (False for NaN, infinities, negatives and non-numbers)."""
    return check_value(value) is None


def check_value(value: float) -> Rejection | None:
    """A cumulative counter's value on its own: finite and >= 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return Rejection.NON_FINITE
    if value < 0:
        return Rejection.NEGATIVE
    return None


def check_step(last: float, value: float, window_s: float, max_rate: float | None) -> Rejection | None:
    """A new value of a counter whose last accepted value is ``last``: valid on its own, not below
    ``last``, and not more than ``max_rate`` (units per second; None: unbounded) x ``window_s`` above it."""
    rejection = check_value(value)
    if rejection is not None:
        return rejection
    if value < last:
        return Rejection.BACKWARDS
    if max_rate is not None and value - last > max_rate * max(0.0, window_s):
        return Rejection.IMPLAUSIBLE
    return None


def power_bound_w(gpus: int, max_watts_per_gpu: float | None, enforced_limit_w: float | None) -> float:
    """Most watts a reading summed over ``gpus`` GPUs can show: the configured bound per GPU, else the
    GPUs' enforced limits (read from NVML) with headroom, else ``DEFAULT_MAX_WATTS_PER_GPU`` each."""
    if max_watts_per_gpu is not None:
        return max_watts_per_gpu * max(1, gpus)
    if enforced_limit_w is not None and enforced_limit_w > 0:
        return enforced_limit_w * ENFORCED_LIMIT_HEADROOM
    return DEFAULT_MAX_WATTS_PER_GPU * max(1, gpus)


class CounterWindow:
    """Bounds the time the movement of a counter since its last accepted value can span."""

    __slots__ = ("_after", "_first_sent", "_last_sent", "_max_staleness_s")

    def __init__(self, max_staleness_s: float) -> None:
        self._max_staleness_s = max_staleness_s
        self._after: float | None = None  # sent time of the last read that returned an older value
        self._first_sent = 0.0  # sent time of the first read that returned the accepted value
        self._last_sent = 0.0  # sent time of the latest read that returned the accepted value

    def span(self, received: float) -> float:
        """Longest the counter can have moved for, up to a read received at ``received``."""
        if self._after is not None:
            return received - self._after
        return received - self._first_sent + self._max_staleness_s

    def baseline(self, sent: float) -> None:
        self._after = None
        self._first_sent = self._last_sent = sent

    def same(self, sent: float) -> None:
        """A read returned the accepted value again."""
        self._last_sent = max(self._last_sent, sent)

    def moved(self, sent: float) -> None:
        """A read returned a new accepted value."""
        self._after = self._last_sent
        self._first_sent = self._last_sent = sent


class PartsGuard(Generic[K]):
    """The parts of a summed counter (one per GPU) checked one by one: a sum can still grow while
    one GPU's counter was reset, so each part must be valid and must not go backwards."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: dict[K, float] | None = None

    def check(self, parts: Mapping[K, float]) -> Rejection | None:
        """``NON_FINITE``/``NEGATIVE``: the reading is dropped, the last parts are kept.
        ``BACKWARDS`` (a part went back, or the set of parts changed): the parts are the new baseline."""
        for value in parts.values():
            rejection = check_value(value)
            if rejection is not None:
                return rejection
        last, self._last = self._last, dict(parts)
        if last is None:
            return None
        if last.keys() != parts.keys() or any(parts[k] < v for k, v in last.items()):
            return Rejection.BACKWARDS
        return None


def device_indices_problem(devices: Sequence[int] | None) -> str | None:
    """What is wrong with a list of GPU device indices (None: nothing; an absent list is fine)."""
    if devices is None:
        return None
    if len(devices) == 0:
        return "empty device list"
    if any(i < 0 for i in devices):
        return f"device indices must be >= 0, got {list(devices)}"
    if len(set(devices)) != len(devices):
        return f"device indices repeat: {list(devices)}"
    return None


def metrics_url_problem(url: str | None) -> str | None:
    """What is wrong with a ``/metrics`` url (None: nothing)."""
    if url is not None and not url.startswith(("http://", "https://")):
        return f"must start with http:// or https://, got {url!r}"
    return None

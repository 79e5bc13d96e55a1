"""Trapezoid integration of power readings into a cumulative joules counter (pure).

The fallback for GPUs whose NVML energy counter is NotSupported. Its accuracy is bounded by the
read rate and by the sensor itself (NVML power is a ~1 s average on recent GPUs).
"""

from __future__ import annotations

import math

from thinkbudget_litellm.meter.validate import check_value


class PowerIntegrator:
    """Cumulative joules from (time, watts) readings, trapezoid rule between consecutive reads."""

    __slots__ = ("_t", "_w", "joules")

    def __init__(self) -> None:
        self._t: float | None = None
        self._w = 0.0
        self.joules = 0.0

    def add(self, now: float, watts: float) -> float:
        """Record a reading; return the cumulative joules so far (0.0 after the first reading)."""
        if check_value(watts) is not None or not math.isfinite(now):
            raise ValueError(f"power must be a finite number >= 0 W at a finite time, got {watts} W at {now}")
        if self._t is not None and now > self._t:
            self.joules += (self._w + watts) / 2.0 * (now - self._t)
        if self._t is None or now >= self._t:
            self._t = now
            self._w = watts
        return self.joules

"""Estimate source: configured busy watts per GPU x GPU count while any request is active, idle
watts otherwise, integrated exactly over time (piecewise constant). Labelled ``estimated``."""

from __future__ import annotations

from thinkbudget_litellm.meter.provenance import EnergyProvenance


class EstimateSource:
    """A cumulative joules counter computed from configured watts and the deployment's activity."""

    name = "estimate"
    label = EnergyProvenance.ESTIMATED
    stale_on_equal = False
    power_limit_w: float | None = None

    def __init__(self, busy_watts: float, idle_watts: float, gpu_count: int, start: float) -> None:
        if busy_watts <= 0:
            raise ValueError(f"estimate source needs busy watts > 0, got {busy_watts}")
        if idle_watts < 0:
            raise ValueError(f"idle watts must be >= 0, got {idle_watts}")
        if gpu_count < 1:
            raise ValueError(f"gpu count must be >= 1, got {gpu_count}")
        self._gpus = gpu_count
        self._busy_w = busy_watts * gpu_count
        self._idle_w = idle_watts * gpu_count
        self._t = start
        self._busy = False
        self._joules = 0.0

    @property
    def gpus_read(self) -> int:
        return self._gpus

    def _advance(self, now: float) -> None:
        if now > self._t:
            self._joules += (self._busy_w if self._busy else self._idle_w) * (now - self._t)
            self._t = now

    def note_activity(self, busy: bool, now: float) -> None:
        self._advance(now)
        self._busy = busy

    def joules_at(self, now: float) -> float:
        self._advance(now)
        return self._joules

    async def read_joules(self, now: float) -> float:
        return self.joules_at(now)

    async def aclose(self) -> None:
        return None

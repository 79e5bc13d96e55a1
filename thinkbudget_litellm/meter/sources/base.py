"""The one small interface every energy source implements.

A source reads a *cumulative* joules counter for one deployment (summed over its GPUs). It never
computes per-request figures: ``counter.CounterTracker`` validates successive readings and turns
them into interval energy, and ``attribution.Ledger`` splits it. A failed read raises
``SourceError`` with a short reason ("dcgm timeout", "nvml absent") that ends up in the fallback
label of the figures; a reading the source itself found invalid (one GPU's counter went back, a
NaN in one series) raises ``RejectedReading``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from thinkbudget_litellm.meter.provenance import EnergyProvenance
from thinkbudget_litellm.meter.validate import Rejection


class SourceError(Exception):
    """A read that failed; ``reason`` is short and goes into labels, ``detail`` into logs."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class RejectedReading(SourceError):
    """A reading that was read but is not believed (reason ``"<source> <why>"``, e.g. ``nvml counter reset``)."""

    def __init__(self, source: str, rejection: Rejection, detail: str = "", value: float | None = None) -> None:
        super().__init__(f"{source} {rejection.describe}", detail)
        self.rejection = rejection
        self.value = value  # BACKWARDS: the new reading, which the counter restarts from


def restart_value(rejection: Rejection, parts: Iterable[float]) -> float | None:
    """The summed reading a counter restarts from after ``rejection`` (BACKWARDS only), else None."""
    return sum(parts) if rejection is Rejection.BACKWARDS else None


class EnergyReader(Protocol):
    """A cumulative joules counter for one deployment."""

    @property
    def name(self) -> str:
        """Short source name used in fallback reasons and metric labels ("nvml", "dcgm", "estimate")."""
        ...

    @property
    def label(self) -> EnergyProvenance:
        """Provenance of figures measured by this source (``MEASURED_NVML`` ...)."""
        ...

    @property
    def stale_on_equal(self) -> bool:
        """True when an unchanged reading means "not updated yet" (real hardware counters)."""
        ...

    @property
    def gpus_read(self) -> int | None:
        """How many GPUs a reading sums (None: not known yet; the deployment's GPU count is assumed)."""
        ...

    @property
    def power_limit_w(self) -> float | None:
        """The summed enforced power limit of those GPUs when the source can read it, else None."""
        ...

    async def read_joules(self, now: float) -> float:
        """Cumulative joules (any origin); raise ``SourceError`` when it cannot be read."""
        ...

    def note_activity(self, busy: bool, now: float) -> None:
        """Told when the deployment goes busy/idle (only the estimate source uses it)."""
        ...

    async def aclose(self) -> None: ...

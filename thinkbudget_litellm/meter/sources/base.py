"""The one small interface every energy source implements, and the source labels.

A source reads a *cumulative* joules counter for one deployment (summed over its GPUs). It never
computes per-request figures: ``counter.CounterTracker`` turns successive readings into interval
energy and ``attribution.Ledger`` splits it. A failed read raises ``SourceError`` with a short
reason ("dcgm timeout", "nvml absent") that ends up in the fallback label of the figures.
"""

from __future__ import annotations

from typing import Protocol

MEASURED_NVML = "measured:nvml"
MEASURED_NVML_POWER = "measured:nvml-power"  # NVML power readings integrated (no energy counter)
MEASURED_DCGM = "measured:dcgm"
ESTIMATED = "estimated"  # configured watts
NONE = "none"  # no energy source configured


def fallback_label(reason: str) -> str:
    """Label of energy estimated because the meter failed, e.g. ``estimated(fallback:dcgm timeout)``."""
    return f"estimated(fallback:{reason})"


def unmetered_label(reason: str) -> str:
    """Label of energy that could neither be measured nor estimated (no watts configured, no history)."""
    return f"unmetered(fallback:{reason})"


def is_degraded(label: str) -> bool:
    return label.startswith(("estimated(", "unmetered("))


class SourceError(Exception):
    """A read that failed; ``reason`` is short and goes into labels, ``detail`` into logs."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class EnergyReader(Protocol):
    """A cumulative joules counter for one deployment."""

    @property
    def name(self) -> str:
        """Short source name used in fallback reasons ("nvml", "dcgm", "estimate")."""
        ...

    @property
    def label(self) -> str:
        """Label of figures measured by this source (``measured:nvml`` ...)."""
        ...

    @property
    def stale_on_equal(self) -> bool:
        """True when an unchanged reading means "not updated yet" (real hardware counters)."""
        ...

    async def read_joules(self, now: float) -> float:
        """Cumulative joules (any origin); raise ``SourceError`` when it cannot be read."""
        ...

    def note_activity(self, busy: bool, now: float) -> None:
        """Told when the deployment goes busy/idle (only the estimate source uses it)."""
        ...

    async def aclose(self) -> None: ...

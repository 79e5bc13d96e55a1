"""Where a request's energy figure came from (pure): ``EnergyProvenance`` and the label text derived
from it, which records, spend logs and response headers carry as ``energy_source``.

==========================  ==========================================  ================================
provenance                  text                                        meaning
==========================  ==========================================  ================================
``MEASURED_NVML``           ``measured:nvml``                           NVML energy counter
``MEASURED_NVML_POWER``     ``measured:nvml-power``                     NVML power readings integrated
``MEASURED_DCGM``           ``measured:dcgm``                           DCGM exporter energy counter
``ESTIMATED``               ``estimated``                               the estimate source (configured watts)
``FALLBACK``                ``estimated(fallback:<reason>)``            estimated because the meter failed
``UNMETERED``               ``unmetered(fallback:<reason>)``            could neither measure nor estimate
``NONE``                    ``none`` / ``none(<reason>)``               no energy source / not metered
``SIMULATED``               ``simulated(<inner label>)``                the simulated backend's meter
==========================  ==========================================  ================================
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EnergyProvenance(StrEnum):
    MEASURED_NVML = "measured:nvml"
    MEASURED_NVML_POWER = "measured:nvml-power"
    MEASURED_DCGM = "measured:dcgm"
    ESTIMATED = "estimated"
    FALLBACK = "estimated(fallback)"
    UNMETERED = "unmetered(fallback)"
    NONE = "none"
    SIMULATED = "simulated"

    @property
    def measured(self) -> bool:
        return self in _MEASURED

    @property
    def degraded(self) -> bool:
        """Estimated or unmetered because the meter could not measure."""
        return self in (EnergyProvenance.FALLBACK, EnergyProvenance.UNMETERED)

    @property
    def rank(self) -> int:
        """Worse is higher: a request spanning ticks of several provenances shows the worst."""
        return _RANK[self]


_MEASURED = frozenset(
    {EnergyProvenance.MEASURED_NVML, EnergyProvenance.MEASURED_NVML_POWER, EnergyProvenance.MEASURED_DCGM}
)
_RANK = {
    EnergyProvenance.NONE: 0,
    EnergyProvenance.MEASURED_NVML: 1,
    EnergyProvenance.MEASURED_NVML_POWER: 1,
    EnergyProvenance.MEASURED_DCGM: 1,
    EnergyProvenance.ESTIMATED: 1,
    EnergyProvenance.SIMULATED: 1,
    EnergyProvenance.FALLBACK: 2,
    EnergyProvenance.UNMETERED: 3,
}
_FALLBACK_PREFIX = "estimated(fallback:"
_UNMETERED_PREFIX = "unmetered(fallback:"
_SIMULATED_PREFIX = "simulated("
_NONE_PREFIX = "none("


class LabelError(ValueError):
    """Text that is not an energy label."""


@dataclass(frozen=True, slots=True)
class EnergyLabel:
    """A provenance with the reason of a fallback (``FALLBACK``, ``UNMETERED``, optionally ``NONE``)
    or the label it wraps (``SIMULATED``)."""

    provenance: EnergyProvenance
    reason: str | None = None
    inner: EnergyLabel | None = None

    def __post_init__(self) -> None:
        needs_reason = self.provenance.degraded
        if needs_reason and not self.reason:
            raise ValueError(f"{self.provenance.name} needs a reason")
        if self.reason is not None and not (needs_reason or self.provenance is EnergyProvenance.NONE):
            raise ValueError(f"{self.provenance.name} takes no reason")
        if (self.inner is not None) != (self.provenance is EnergyProvenance.SIMULATED):
            raise ValueError("a SIMULATED label wraps exactly one inner label")

    @classmethod
    def fallback(cls, reason: str) -> EnergyLabel:
        """Energy estimated because the meter failed, e.g. ``estimated(fallback:dcgm timeout)``."""
        return cls(EnergyProvenance.FALLBACK, reason)

    @classmethod
    def unmetered(cls, reason: str) -> EnergyLabel:
        """Energy that could neither be measured nor estimated (no watts configured, no history)."""
        return cls(EnergyProvenance.UNMETERED, reason)

    @classmethod
    def none(cls, reason: str | None = None) -> EnergyLabel:
        return cls(EnergyProvenance.NONE, reason)

    def simulated(self) -> EnergyLabel:
        """This label, as figures of the simulated backend's meter."""
        return EnergyLabel(EnergyProvenance.SIMULATED, inner=self)

    @property
    def rank(self) -> int:
        return self.provenance.rank

    @property
    def measured(self) -> bool:
        return self.provenance.measured

    @property
    def text(self) -> str:
        p = self.provenance
        if p is EnergyProvenance.FALLBACK:
            return f"{_FALLBACK_PREFIX}{self.reason})"
        if p is EnergyProvenance.UNMETERED:
            return f"{_UNMETERED_PREFIX}{self.reason})"
        if p is EnergyProvenance.NONE and self.reason:
            return f"{_NONE_PREFIX}{self.reason})"
        if p is EnergyProvenance.SIMULATED:
            assert self.inner is not None
            return f"{_SIMULATED_PREFIX}{self.inner.text})"
        return p.value

    def __str__(self) -> str:
        return self.text

    @classmethod
    def parse(cls, text: str) -> EnergyLabel:
        """The label a text was derived from (``LabelError`` for anything else)."""
        for prefix, make in (
            (_FALLBACK_PREFIX, cls.fallback),
            (_UNMETERED_PREFIX, cls.unmetered),
            (_NONE_PREFIX, cls.none),
        ):
            if text.startswith(prefix) and text.endswith(")") and len(text) > len(prefix) + 1:
                return make(text[len(prefix) : -1])
        if text.startswith(_SIMULATED_PREFIX) and text.endswith(")"):
            return cls.parse(text[len(_SIMULATED_PREFIX) : -1]).simulated()
        try:
            provenance = EnergyProvenance(text)
        except ValueError:
            raise LabelError(f"not an energy label: {text!r}") from None
        if provenance.degraded or provenance is EnergyProvenance.SIMULATED:
            raise LabelError(f"not an energy label: {text!r}")
        return cls(provenance)

"""What a request (or one of its LiteLLM calls) is billed: the only place its figures are summed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from thinkbudget_litellm.lifecycle.model import Attempt, AttemptEnd
from thinkbudget_litellm.settings import DeploymentSettings


def deployment_priced(settings: DeploymentSettings | None) -> bool:
    """Whether a deployment's attempts are priced (``attempt_started(priced=...)``): it has a GPU
    price or an energy price. Unpriced attempts keep LiteLLM's own cost (never a silent zero)."""
    return settings is not None and (settings.gpu.cost_per_hour > 0 or settings.energy.price_per_kwh > 0)


@dataclass(frozen=True, slots=True)
class Bill:
    """Billed figures come from the attempts that were not failed (succeeded, cut or cancelled);
    failed attempts are not billed (LiteLLM records no spend for them) but what the meter
    attributed to them is kept apart. None means unknown, never zero: no metered attempt, or no
    priced one for ``cost_usd``."""

    joules: float | None
    gpu_seconds: float | None
    cost_usd: float | None  # GPU-time plus energy cost of the priced billed attempts
    energy_source: str | None  # provenance of the billed energy (the first billed attempt's source)
    attribution: str | None  # how it was attributed (the first billed attempt's)
    idle_joules: float  # part of ``joules`` that is spread idle energy
    estimated_joules: float  # part of ``joules`` that was estimated, not measured
    failed_attempts: int
    failed_joules: float | None
    failed_cost_usd: float | None

    @classmethod
    def of(cls, attempts: Iterable[Attempt]) -> Bill:
        """The bill of the ended ``attempts`` (open ones are not billed yet)."""
        ended = [a for a in attempts if a.end is not None]
        billed = [a for a in ended if a.billed]
        failed = [a for a in ended if a.end is AttemptEnd.FAILED]
        energies = [a.energy for a in billed if a.energy is not None]
        first = energies[0] if energies else None
        return cls(
            joules=_sum(e.joules for e in energies),
            gpu_seconds=_sum(e.gpu_seconds for e in energies),
            cost_usd=_sum(a.cost_usd for a in billed),
            energy_source=first.source if first is not None else None,
            attribution=first.attribution if first is not None else None,
            idle_joules=sum(e.idle_joules for e in energies),
            estimated_joules=sum(e.estimated_joules for e in energies),
            failed_attempts=len(failed),
            failed_joules=_sum(a.energy.joules for a in failed if a.energy is not None),
            failed_cost_usd=_sum(a.cost_usd for a in failed),
        )


def _sum(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None

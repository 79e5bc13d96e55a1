"""DCGM exporter source: scrape ``/metrics`` (httpx, async) and sum
``DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION`` (mJ since boot) over the configured ``gpu`` label values,
or over every series when none are configured.

Each GPU's series is checked on its own before the sum is returned (``validate.PartsGuard``): a
NaN, infinite or negative value in any series, or one GPU's counter going back (or the set of
series changing), raises ``RejectedReading``.

dcgm-exporter refreshes its values every collect interval (30 s by default): run it with
``-c 1000`` or less, otherwise most of the energy is interpolated between refreshes.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from thinkbudget_litellm.meter.prom_text import MetricsTextError, counter_series
from thinkbudget_litellm.meter.provenance import EnergyProvenance
from thinkbudget_litellm.meter.sources.base import RejectedReading, SourceError, restart_value
from thinkbudget_litellm.meter.validate import PartsGuard, Rejection, metrics_url_problem

ENERGY_METRIC = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"

SeriesKey = tuple[tuple[str, str], ...]


def parse_energy_series(text: str, gpus: Sequence[str] | None) -> dict[SeriesKey, float]:
    """Cumulative joules per series (keyed by its labels) of the selected GPUs; ``SourceError``
    when the metric or a selected GPU is missing. Values are returned as read (not yet validated)."""
    try:
        series = counter_series(text, ENERGY_METRIC)
    except MetricsTextError as exc:
        raise SourceError("dcgm bad metrics", str(exc)) from None
    if not series:
        raise SourceError("dcgm bad metrics", f"metric {ENERGY_METRIC} not found")
    if gpus:
        wanted = set(gpus)
        series = [(labels, v) for labels, v in series if labels.get("gpu") in wanted]
        missing = wanted - {labels.get("gpu") for labels, _ in series}
        if missing:
            raise SourceError("dcgm bad metrics", f"metric {ENERGY_METRIC}: no series with gpu in {sorted(missing)}")
    return {tuple(sorted(labels.items())): mj / 1000.0 for labels, mj in series}


def parse_energy_joules(text: str, gpus: Sequence[str] | None) -> float:
    """Cumulative joules of the selected GPUs from exporter text (the sum of ``parse_energy_series``)."""
    return sum(parse_energy_series(text, gpus).values())


class DcgmSource:
    """Cumulative joules scraped from a DCGM exporter."""

    name = "dcgm"
    label = EnergyProvenance.MEASURED_DCGM
    stale_on_equal = True
    power_limit_w: float | None = None  # the exporter's power-limit field is optional; the configured bound applies

    def __init__(
        self,
        url: str,
        gpus: Sequence[int | str] | None,
        timeout_s: float,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        problem = metrics_url_problem(url)
        if problem is not None:
            raise ValueError(f"dcgm url {problem}")
        if timeout_s <= 0:
            raise ValueError(f"dcgm timeout must be > 0 s, got {timeout_s}")
        self._url = url
        self._gpus = [str(g) for g in gpus] if gpus else None
        self._timeout = timeout_s
        self._client = client
        self._owns_client = client is None
        self._guard: PartsGuard[SeriesKey] = PartsGuard()
        self._series: int | None = len(self._gpus) if self._gpus else None

    @property
    def gpus_read(self) -> int | None:
        """The selected GPUs, or the series of the last scrape when every series is summed."""
        return self._series

    async def read_joules(self, now: float) -> float:
        if self._client is None:
            self._client = httpx.AsyncClient()
        try:
            resp = await self._client.get(self._url, timeout=self._timeout)
        except httpx.TimeoutException as exc:
            raise SourceError("dcgm timeout", f"{self._url}: {type(exc).__name__}") from None
        except httpx.HTTPError as exc:
            raise SourceError("dcgm unreachable", f"{self._url}: {type(exc).__name__}: {exc}") from None
        if resp.status_code != 200:
            raise SourceError(f"dcgm http {resp.status_code}", self._url)
        parts = parse_energy_series(resp.text, self._gpus)
        rejection = self._guard.check(parts)
        if rejection is None or rejection is Rejection.BACKWARDS:
            self._series = len(parts)  # the guard's new baseline
        if rejection is not None:
            detail = f"{self._url}: {sorted(parts.values())}"
            raise RejectedReading(self.name, rejection, detail, restart_value(rejection, parts.values()))
        return sum(parts.values())

    def note_activity(self, busy: bool, now: float) -> None:
        return None

    async def aclose(self) -> None:
        if self._client is not None and self._owns_client:
            await self._client.aclose()
        self._client = None

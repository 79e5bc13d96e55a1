"""DCGM exporter source: scrape ``/metrics`` (httpx, async) and sum
``DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION`` (mJ since boot) over the configured ``gpu`` label values,
or over every series when none are configured.

dcgm-exporter refreshes its values every collect interval (30 s by default): run it with
``-c 1000`` or less, otherwise most of the energy is interpolated between refreshes.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from thinkbudget_litellm.meter.prom_text import MetricsTextError, sum_counter
from thinkbudget_litellm.meter.sources.base import MEASURED_DCGM, SourceError

ENERGY_METRIC = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"


def parse_energy_joules(text: str, gpus: Sequence[str] | None) -> float:
    """Cumulative joules of the selected GPUs from exporter text; ``SourceError`` when unusable."""
    try:
        mj = sum_counter(text, ENERGY_METRIC, "gpu", gpus) if gpus else sum_counter(text, ENERGY_METRIC)
    except MetricsTextError as exc:
        raise SourceError("dcgm bad metrics", str(exc)) from None
    return mj / 1000.0


class DcgmSource:
    """Cumulative joules scraped from a DCGM exporter."""

    name = "dcgm"
    label = MEASURED_DCGM
    stale_on_equal = True

    def __init__(
        self,
        url: str,
        gpus: Sequence[int | str] | None,
        timeout_s: float,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"dcgm url must start with http:// or https://, got {url!r}")
        if timeout_s <= 0:
            raise ValueError(f"dcgm timeout must be > 0 s, got {timeout_s}")
        self._url = url
        self._gpus = [str(g) for g in gpus] if gpus else None
        self._timeout = timeout_s
        self._client = client
        self._owns_client = client is None

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
        return parse_energy_joules(resp.text, self._gpus)

    def note_activity(self, busy: bool, now: float) -> None:
        return None

    async def aclose(self) -> None:
        if self._client is not None and self._owns_client:
            await self._client.aclose()
        self._client = None

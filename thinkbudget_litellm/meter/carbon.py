"""Grams of CO2e per request: its energy times its deployment's grid carbon intensity.

``grams_co2e`` is the pure rule. ``CarbonIntensity`` knows each deployment's intensity: the fixed
``carbon.g_per_kwh`` of its settings, or the last good reading of a Prometheus gauge
(``carbon.url`` + ``carbon.metric``), refreshed in the background every ``refresh_s``; a request
never waits for a reading. Until a gauge's first good reading (and after a failed one) the fixed
value, when given, is used; without either the figure is unknown (None), never zero.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from thinkbudget_litellm.meter.prom_text import MetricsTextError, counter_series
from thinkbudget_litellm.settings import CarbonSettings

log = logging.getLogger("thinkbudget_litellm.meter")

JOULES_PER_KWH = 3.6e6


def grams_co2e(joules: float | None, g_per_kwh: float | None) -> float | None:
    """CO2e of ``joules`` at ``g_per_kwh`` (None when either is unknown)."""
    if joules is None or g_per_kwh is None:
        return None
    return joules / JOULES_PER_KWH * g_per_kwh


def gauge_value(text: str, metric: str) -> float:
    """The first series of ``metric`` in Prometheus text: a finite number >= 0, else ``ValueError``."""
    series = counter_series(text, metric)
    if not series:
        raise MetricsTextError(f"{metric} not found")
    value = series[0][1]
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{metric} = {value!r} is not a carbon intensity")
    return value


@dataclass(slots=True)
class _Gauge:
    settings: CarbonSettings
    value: float | None = None
    read_at: float = -math.inf
    reading: bool = False


class CarbonIntensity:
    """Each deployment's current grid carbon intensity (grams CO2e per kWh)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, timeout_s: float = 2.0) -> None:
        self._gauges: dict[str, _Gauge] = {}
        self._clock = clock
        self._timeout_s = timeout_s
        self._tasks: set[asyncio.Task[None]] = set()

    def configure(self, deployment_id: str, settings: CarbonSettings | None) -> None:
        if settings is None:
            self._gauges.pop(deployment_id, None)
            return
        current = self._gauges.get(deployment_id)
        if current is None or current.settings != settings:
            self._gauges[deployment_id] = _Gauge(settings)

    def g_per_kwh(self, deployment_id: str | None) -> float | None:
        """The intensity to bill now (starts a background refresh of a stale gauge)."""
        gauge = self._gauges.get(deployment_id) if deployment_id is not None else None
        if gauge is None:
            return None
        if gauge.settings.url is not None:
            self._refresh_if_stale(gauge)
            if gauge.value is not None:
                return gauge.value
        return gauge.settings.g_per_kwh

    def _refresh_if_stale(self, gauge: _Gauge) -> None:
        if gauge.reading or self._clock() - gauge.read_at < gauge.settings.refresh_s:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        gauge.reading = True
        task = loop.create_task(self.refresh(gauge))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def refresh(self, gauge: _Gauge) -> None:
        settings = gauge.settings
        assert settings.url is not None and settings.metric is not None
        try:
            async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                response = await client.get(settings.url)
                response.raise_for_status()
            gauge.value = gauge_value(response.text, settings.metric)
        except Exception as exc:
            gauge.value = None
            log.warning("carbon: %s from %s unusable (%s); using g_per_kwh", settings.metric, settings.url, exc)
        finally:
            gauge.read_at = self._clock()
            gauge.reading = False

    async def refresh_all(self) -> None:
        """Read every gauge now (start-up, tests)."""
        await asyncio.gather(*(self.refresh(g) for g in self._gauges.values() if g.settings.url is not None))

"""Each deployment's meter books on ``/metrics`` (a Prometheus collector read at scrape time).

``thinkbudget_meter_joules{deployment, part}`` and ``thinkbudget_meter_gpu_seconds{deployment, part}``
show this instance's books since the deployment was configured: ``metered`` (settled ticks),
``attributed`` (credited to requests), ``idle`` (this instance's idle share, not spread), ``others``
(other instances' share of a shared engine), ``carry`` (corrections not yet handed on, signed) and
``held`` (settled, in windows not priced yet). ``metered = attributed + idle + others + carry + held``
per instance; with several instances on one engine, the sum over instances of ``attributed + idle +
carry + held`` is what the engine's meter says for all of them ("More than one proxy" in the README).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

if TYPE_CHECKING:
    from thinkbudget_litellm.meter.hub import DeploymentMeterSnapshot

log = logging.getLogger("thinkbudget_litellm")

Snapshots = Callable[[], Mapping[str, "DeploymentMeterSnapshot"]]

PARTS = ("metered", "attributed", "idle", "others", "carry", "held")


def book_parts(s: DeploymentMeterSnapshot) -> dict[str, tuple[float, float]]:
    """part -> (joules, GPU-seconds) of one deployment's books (pure)."""
    return {
        "metered": (s.metered_j, s.metered_gpu_s),
        "attributed": (s.attributed_j, s.attributed_gpu_s),
        "idle": (s.idle_bucket_j, s.idle_bucket_gpu_s),
        "others": (s.others_j, s.others_gpu_s),
        "carry": (s.carry_j, s.carry_gpu_s),
        "held": (s.held_j, s.held_gpu_s),
    }


class MeterBooksCollector(Collector):
    """Reads the bound hub's snapshot at scrape time; nothing before ``bind``."""

    def __init__(self) -> None:
        self._source: Snapshots | None = None

    def bind(self, source: Snapshots) -> None:
        self._source = source

    def collect(self) -> Iterator[GaugeMetricFamily]:
        joules = GaugeMetricFamily(
            "thinkbudget_meter_joules",
            "Meter books of a deployment on this instance (J)",
            labels=["deployment", "part"],
        )
        gpu_s = GaugeMetricFamily(
            "thinkbudget_meter_gpu_seconds",
            "Meter books of a deployment on this instance (GPU-seconds)",
            labels=["deployment", "part"],
        )
        failures = GaugeMetricFamily(
            "thinkbudget_meter_read_failures",
            "Failed meter reads of a deployment on this instance (counter: energy, engine tokens or the window store)",
            labels=["deployment", "counter"],
        )
        source = self._source
        if source is not None:
            try:
                snapshots = dict(source())
            except Exception:  # a scrape never breaks on our books
                log.warning("thinkbudget: meter books unavailable for /metrics", exc_info=True)
                snapshots = {}
            for dep_id, snap in sorted(snapshots.items()):
                for part, (j, g) in book_parts(snap).items():
                    joules.add_metric([dep_id, part], j)
                    gpu_s.add_metric([dep_id, part], g)
                failures.add_metric([dep_id, "energy"], snap.read_failures)
                failures.add_metric([dep_id, "engine_tokens"], snap.engine_read_failures)
                failures.add_metric([dep_id, "window_store"], snap.window_store_failures)
        yield joules
        yield gpu_s
        yield failures

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())  # collected lazily, so registering never calls the hub


METER_BOOKS = MeterBooksCollector()
REGISTRY.register(METER_BOOKS)

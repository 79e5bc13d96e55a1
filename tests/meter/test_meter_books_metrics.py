"""The meter's books on /metrics: every part of an instance's joules and GPU-seconds, which add up
to what it metered (what the multi-proxy end-to-end test reads from each proxy)."""

from __future__ import annotations

import dataclasses

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from thinkbudget_litellm.meter.books_metrics import PARTS, MeterBooksCollector, book_parts
from thinkbudget_litellm.meter.hub import DeploymentMeterSnapshot
from thinkbudget_litellm.sim.shared_meter import Scenario, run


@pytest.mark.parametrize("instances", [1, 2, 3])
def test_every_instances_gpu_seconds_add_up_to_its_ticks(instances: int) -> None:
    out = run(Scenario(instances=instances, seed=5, requests=60))
    for t in out.totals:
        booked = t.attributed_gpu_s + t.idle_bucket_gpu_s + t.others_gpu_s + t.carry_gpu_s + t.held_gpu_s
        assert booked == pytest.approx(t.metered_gpu_s, rel=1e-9)
        assert t.metered_gpu_s == pytest.approx(out.wall_gpu_s, rel=0.05)  # its ticks cover the run


def _snapshot(**figures: float) -> DeploymentMeterSnapshot:
    fields = {f.name: 0.0 for f in dataclasses.fields(DeploymentMeterSnapshot)}
    fields.update(deployment_id="d", source="measured:dcgm", healthy=True, last_error=None, idle_share=None)
    return DeploymentMeterSnapshot(**{**fields, **figures})  # type: ignore[arg-type]


def test_collector_shows_each_part_of_the_books() -> None:
    snap = _snapshot(metered_j=10.0, attributed_j=4.0, idle_bucket_j=1.0, others_j=3.0, carry_j=-0.5, held_j=2.5)
    snap = dataclasses.replace(snap, metered_gpu_s=2.0, attributed_gpu_s=1.0, carry_gpu_s=0.25, held_gpu_s=0.75)
    assert sum(j for part, (j, _) in book_parts(snap).items() if part != "metered") == pytest.approx(10.0)
    collector = MeterBooksCollector()
    registry = CollectorRegistry()
    registry.register(collector)
    assert "thinkbudget_meter_joules{" not in generate_latest(registry).decode()  # nothing before bind
    collector.bind(lambda: {"dep-1": snap})
    got = {
        (fam.name, s.labels["part"]): s.value
        for fam in text_string_to_metric_families(generate_latest(registry).decode())
        for s in fam.samples
        if s.labels.get("deployment") == "dep-1" and "part" in s.labels
    }
    assert {part for _, part in got} == set(PARTS)
    assert got[("thinkbudget_meter_joules", "carry")] == -0.5
    assert got[("thinkbudget_meter_gpu_seconds", "held")] == 0.75
    assert "thinkbudget_meter_read_failures{" in generate_latest(registry).decode()


def test_a_failing_snapshot_does_not_break_the_scrape() -> None:
    collector = MeterBooksCollector()
    registry = CollectorRegistry()
    registry.register(collector)

    def boom() -> dict[str, DeploymentMeterSnapshot]:
        raise RuntimeError("hub gone")

    collector.bind(boom)
    assert "thinkbudget_meter_joules" in generate_latest(registry).decode()

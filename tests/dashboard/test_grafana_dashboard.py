"""config/grafana/thinkbudget.json imports as is: valid JSON in Grafana's export shape, and every
metric its queries read is one that thinkbudget_litellm/metrics.py exposes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import Counter, Gauge, Histogram

from thinkbudget_litellm import metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "config" / "grafana" / "thinkbudget.json"


def exposed_names() -> set[str]:
    """The sample names our metrics appear under on /metrics."""
    names: set[str] = set()
    for value in vars(metrics).values():
        if isinstance(value, Counter):
            names |= {value._name + "_total", value._name + "_created"}
        elif isinstance(value, Histogram):
            names |= {value._name + suffix for suffix in ("_bucket", "_sum", "_count", "_created")}
        elif isinstance(value, Gauge):
            names.add(value._name)
    return names


def test_the_grafana_dashboard_parses_and_queries_only_our_metrics() -> None:
    doc = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert doc["uid"] and doc["title"] and doc["panels"]
    assert doc["__inputs"][0]["pluginId"] == "prometheus"
    ids = [p["id"] for p in doc["panels"]]
    assert len(ids) == len(set(ids))
    exprs = [t["expr"] for p in doc["panels"] for t in p["targets"]]
    exprs += [v["definition"] for v in doc["templating"]["list"]]
    used = {m for e in exprs for m in re.findall(r"\bthinkbudget_[a-z0-9_]+", e)}
    assert used, "the dashboard queries no thinkbudget metric"
    assert used <= exposed_names(), sorted(used - exposed_names())
    # every metric the callback exports has a panel
    families = {re.sub(r"_(total|bucket|sum|count|created)$", "", n) for n in exposed_names()}
    shown = {re.sub(r"_(total|bucket|sum|count)$", "", m) for m in used}
    assert families <= shown, sorted(families - shown)

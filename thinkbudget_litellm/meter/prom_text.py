"""Counter series out of Prometheus text exposition (pure), with prometheus_client's parser.

Only the lines of the wanted metrics are handed to the parser, so a large ``/metrics`` page (vLLM
exposes many histograms) costs little per tick.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from prometheus_client.parser import text_string_to_metric_families


class MetricsTextError(ValueError):
    """The exposition text is malformed or lacks a wanted metric."""


def _base_name(metric: str) -> str:
    return metric[: -len("_total")] if metric.endswith("_total") else metric


def _relevant_lines(text: str, bases: Collection[str]) -> Iterable[str]:
    for line in text.splitlines():
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("TYPE", "HELP") and _base_name(parts[2]) in bases:
                yield line
        elif line and any(line.startswith(b) for b in bases):
            yield line


def counter_series(text: str, metric: str) -> list[tuple[dict[str, str], float]]:
    """All ``(labels, value)`` series of counter ``metric`` (with or without its ``_total`` suffix)."""
    base = _base_name(metric)
    names = {base, base + "_total"}
    filtered = "\n".join(_relevant_lines(text, {base})) + "\n"
    try:
        families = list(text_string_to_metric_families(filtered))
    except ValueError as exc:
        raise MetricsTextError(f"malformed metrics text: {exc}") from None
    series = []
    for family in families:
        for sample in family.samples:
            if sample.name in names:
                series.append((dict(sample.labels), float(sample.value)))
    return series

"""What the dashboard shows, out of record rows (pure: plain values in, JSON-ready values out).

``Row`` is the part of a record the page uses. ``feed`` lists recent requests, ``history`` buckets
thinking tokens, cost, energy and CO2e over time per team, key, model or tier, ``summary`` gives
the totals: tokens saved against the measured baseline (``baseline_thinking_tokens``, as the
report counts them), what cache hits saved, the tier mix, the cut rate and the cumulative saving
over time. Strings are returned as stored: the page inserts them as text, never as markup.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from thinkbudget_litellm.record.request_record import RequestStatus

# The record columns a dashboard row reads.
ROW_COLUMNS: tuple[str, ...] = (
    "litellm_call_id",
    "created_at",
    "team_id",
    "api_key_hash",
    "key_alias",
    "model_group",
    "tier",
    "task",
    "budget",
    "status",
    "thinking_tokens",
    "answer_tokens",
    "cut",
    "baseline_thinking_tokens",
    "energy_j",
    "energy_source",
    "co2e_g",
    "cost_usd",
    "latency_ms",
    "route",
    "extra",
)


class GroupBy(StrEnum):
    TEAM = "team"
    KEY = "key"
    MODEL = "model"
    TIER = "tier"


class Metric(StrEnum):
    THINKING = "thinking_tokens"
    COST = "cost_usd"
    ENERGY = "energy_j"
    CO2E = "co2e_g"


@dataclass(frozen=True, slots=True)
class Row:
    litellm_call_id: str
    created_at: datetime  # timezone-aware UTC
    team_id: str | None = None
    api_key_hash: str | None = None
    key_alias: str | None = None
    model_group: str | None = None
    tier: str | None = None
    task: str | None = None
    budget: int | None = None
    status: str = RequestStatus.SUCCESS.value
    thinking_tokens: int = 0
    answer_tokens: int = 0
    cut: bool = False
    baseline_thinking_tokens: int | None = None
    energy_j: float | None = None
    energy_source: str | None = None
    co2e_g: float | None = None
    cost_usd: float | None = None
    latency_ms: float | None = None
    route: str | None = None  # the model group routing chose (None: not routed)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Row:
        """A row from a database mapping (naive timestamps are UTC, as SQLite returns them)."""
        data: dict[str, Any] = {name: values.get(name) for name in ROW_COLUMNS}
        created = data["created_at"]
        if isinstance(created, str):
            created = datetime.fromisoformat(created)
        if isinstance(created, datetime) and created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        data["created_at"] = created
        data["extra"] = data["extra"] if isinstance(data["extra"], Mapping) else {}
        for name, default in (("thinking_tokens", 0), ("answer_tokens", 0), ("cut", False)):
            if data[name] is None:
                data[name] = default
        data["status"] = str(data["status"] or RequestStatus.SUCCESS.value)
        return cls(**data)

    @property
    def cache_hit(self) -> bool:
        return self.status == RequestStatus.CACHE_HIT.value

    @property
    def tokens_saved(self) -> int | None:
        """Thinking tokens under the measured baseline (None: no baseline for its tier)."""
        if self.baseline_thinking_tokens is None:
            return None
        return self.baseline_thinking_tokens - self.thinking_tokens

    @property
    def cache_saved_usd(self) -> float | None:
        saving = self.extra.get("cache_saving")
        value = saving.get("cost_usd") if isinstance(saving, Mapping) else None
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    def group(self, by: GroupBy) -> str:
        if by is GroupBy.TEAM:
            return self.team_id or "(no team)"
        if by is GroupBy.KEY:
            return self.key_alias or (self.api_key_hash[:10] + "…" if self.api_key_hash else "(no key)")
        if by is GroupBy.MODEL:
            return self.model_group or "(unknown)"
        return self.tier or "(none)"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def feed(rows: Iterable[Row], limit: int = 50) -> list[dict[str, Any]]:
    """The most recent ``limit`` requests, newest first."""
    recent = sorted(rows, key=lambda r: r.created_at, reverse=True)[: max(0, limit)]
    return [
        {
            "call_id": r.litellm_call_id,
            "time": _iso(r.created_at),
            "team": r.team_id,
            "key": r.group(GroupBy.KEY),
            "model": r.model_group,
            "route": r.route,
            "tier": r.tier,
            "task": r.task,
            "budget": r.budget,
            "thinking_tokens": r.thinking_tokens,
            "answer_tokens": r.answer_tokens,
            "cut": r.cut,
            "status": r.status,
            "cost_usd": r.cost_usd,
            "energy_j": r.energy_j,
            "energy_source": r.energy_source,
            "co2e_g": r.co2e_g,
            "latency_ms": r.latency_ms,
            "cache_saved_usd": r.cache_saved_usd,
        }
        for r in recent
    ]


_BUCKETS: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(hours=1), timedelta(minutes=1)),
    (timedelta(hours=6), timedelta(minutes=5)),
    (timedelta(days=1), timedelta(minutes=15)),
    (timedelta(days=7), timedelta(hours=2)),
)


def bucket_size(since: datetime, until: datetime) -> timedelta:
    """A bucket width that gives the period between about 24 and 96 points."""
    span = until - since
    for longest, width in _BUCKETS:
        if span <= longest:
            return width
    return timedelta(days=1)


def _bucket_start(moment: datetime, origin: datetime, width: timedelta) -> datetime:
    steps = (moment - origin) // width
    return origin + steps * width


def history(rows: Iterable[Row], by: GroupBy, since: datetime, until: datetime) -> dict[str, Any]:
    """Per time bucket and group: each metric's sum (metrics whose figure is unknown on every row of
    a bucket are None there, never 0)."""
    width = bucket_size(since, until)
    buckets: list[datetime] = []
    moment = _bucket_start(since, since, width)
    while moment <= until:
        buckets.append(moment)
        moment += width
    index = {b: i for i, b in enumerate(buckets)}
    sums: dict[str, dict[Metric, list[float | None]]] = defaultdict(lambda: {m: [None] * len(buckets) for m in Metric})
    for row in rows:
        slot = index.get(_bucket_start(row.created_at, since, width))
        if slot is None:
            continue
        series = sums[row.group(by)]
        for metric in Metric:
            value = getattr(row, metric.value)
            if value is None:
                continue
            current = series[metric][slot]
            series[metric][slot] = float(value) + (current or 0.0)
    return {
        "by": by.value,
        "bucket_s": width.total_seconds(),
        "buckets": [_iso(b) for b in buckets],
        "groups": {name: {m.value: values for m, values in series.items()} for name, series in sorted(sums.items())},
    }


def _sum(values: Iterable[float | int | None]) -> float | None:
    known = [float(v) for v in values if v is not None]
    return sum(known) if known else None


def summary(rows: Sequence[Row]) -> dict[str, Any]:
    """Totals, the saving against the measured baseline, cache savings, tier mix and cut rate, and
    the cumulative saving over time (oldest first)."""
    with_baseline = [r for r in rows if r.baseline_thinking_tokens is not None]
    baseline = sum(r.baseline_thinking_tokens or 0 for r in with_baseline) if with_baseline else None
    saved = sum(r.tokens_saved or 0 for r in with_baseline) if with_baseline else None
    answered = [r for r in rows if r.status != RequestStatus.FAILURE.value]
    hits = [r for r in rows if r.cache_hit]
    cumulative: list[dict[str, Any]] = []
    tokens_so_far = 0
    usd_so_far = 0.0
    for r in sorted(rows, key=lambda r: r.created_at):
        tokens_so_far += r.tokens_saved or 0
        usd_so_far += r.cache_saved_usd or 0.0
        cumulative.append({"time": _iso(r.created_at), "tokens_saved": tokens_so_far, "cache_saved_usd": usd_so_far})
    return {
        "requests": len(rows),
        "thinking_tokens": sum(r.thinking_tokens for r in rows),
        "answer_tokens": sum(r.answer_tokens for r in rows),
        "baseline_thinking_tokens": baseline,
        "tokens_saved": saved,
        "saved_fraction": saved / baseline if saved is not None and baseline else None,
        "requests_with_baseline": len(with_baseline),
        "cost_usd": _sum(r.cost_usd for r in rows),
        "energy_j": _sum(r.energy_j for r in rows),
        "co2e_g": _sum(r.co2e_g for r in rows),
        "cut_requests": sum(1 for r in rows if r.cut),
        "cut_rate": sum(1 for r in answered if r.cut) / len(answered) if answered else None,
        "cache_hits": len(hits),
        "cache_saved_usd": _sum(r.cache_saved_usd for r in hits),
        "tier_mix": dict(sorted(Counter(r.tier or "(none)" for r in rows).items())),
        "status_mix": dict(sorted(Counter(r.status for r in rows).items())),
        "cumulative_saving": cumulative,
    }


def filter_options(rows: Iterable[Row]) -> dict[str, list[str]]:
    """The teams, keys and models present in ``rows`` (for the page's filter menus)."""
    teams, keys, models = set(), set(), set()
    for r in rows:
        if r.team_id:
            teams.add(r.team_id)
        if r.api_key_hash:
            keys.add(r.api_key_hash)
        if r.model_group:
            models.add(r.model_group)
    return {"teams": sorted(teams), "keys": sorted(keys), "models": sorted(models)}


def key_labels(rows: Iterable[Row]) -> dict[str, str]:
    """Key hash -> what the page shows for it (alias, else a short hash)."""
    return {r.api_key_hash: r.group(GroupBy.KEY) for r in rows if r.api_key_hash}

"""Usage report: one query function (I/O) and pure functions that shape and render its result.

``fetch_report_data`` aggregates ``thinkbudget.request_records`` (through the
``request_records_enriched`` view when it exists, for LiteLLM's team/key aliases and spend) per
group and per day. ``build_report`` turns those totals into rows; ``render_table``,
``render_chart_png`` and ``render_html`` present them. Labels are stored values (model names,
team ids, key aliases, tiers: whatever clients sent), so each renderer shows them literally:
rich text that is never parsed as markup, escaped HTML, chart text without mathtext, and in all
three the control characters and lone surrogates spelled out (:func:`cli.terminal.visible`).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text
from sqlalchemy import Date, Float, cast, column, func, null, select, table, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from thinkbudget_litellm.cli.terminal import styled, visible
from thinkbudget_litellm.record.models import SCHEMA, TABLE, schema_for
from thinkbudget_litellm.record.period import parse_since as parse_since  # the CLI's

JOULES_PER_WH = 3600.0


class GroupBy(StrEnum):
    TEAM = "team"
    KEY = "key"
    MODEL = "model"
    TIER = "tier"


_UNSET_LABEL = {
    GroupBy.TEAM: "(no team)",
    GroupBy.KEY: "(no key)",
    GroupBy.MODEL: "(unknown)",
    GroupBy.TIER: "(none)",
}


@dataclass(frozen=True, slots=True)
class GroupTotals:
    """Sums for one group, as the query returns them."""

    key: str | None
    alias: str | None
    requests: int
    thinking_tokens: int
    answer_tokens: int
    cut_requests: int
    baseline_requests: int  # requests with a known baseline
    baseline_thinking_tokens: int  # sum over those
    thinking_tokens_with_baseline: int  # their actual thinking tokens
    energy_j: float | None
    cost_usd: float | None
    litellm_spend_usd: float | None
    route_saving_usd: float | None = None  # baseline deployment's cost - ours, over routed requests


@dataclass(frozen=True, slots=True)
class DayTotals:
    day: date
    requests: int
    thinking_tokens: int
    tokens_saved: int
    energy_j: float | None


@dataclass(frozen=True, slots=True)
class ReportData:
    by: GroupBy
    since: datetime
    until: datetime
    database: str
    joined_litellm: bool  # aliases and LiteLLM spend available
    groups: tuple[GroupTotals, ...]
    days: tuple[DayTotals, ...]


@dataclass(frozen=True, slots=True)
class ReportRow:
    label: str
    requests: int
    thinking_tokens: int
    thinking_per_request: float
    baseline_thinking_tokens: int | None  # estimated unbudgeted thinking, over requests with a baseline
    tokens_saved: int | None  # None: no request of the group had a baseline
    saved_fraction: float | None  # of the baseline
    cut_requests: int
    energy_wh: float | None
    cost_usd: float | None
    litellm_spend_usd: float | None
    route_saving_usd: float | None = None  # routing's saving against the baseline deployment


@dataclass(frozen=True, slots=True)
class Report:
    by: GroupBy
    since: datetime
    until: datetime
    database: str
    joined_litellm: bool
    rows: tuple[ReportRow, ...]
    total: ReportRow
    days: tuple[DayTotals, ...]


# ---------------------------------------------------------------------- query (I/O)
_COLUMNS = (
    "created_at",
    "team_id",
    "api_key_hash",
    "key_alias",
    "model_group",
    "tier",
    "thinking_tokens",
    "answer_tokens",
    "baseline_thinking_tokens",
    "cut",
    "energy_j",
    "cost_usd",
    "baseline_cost_usd",
)


def _source(enriched: bool, dialect_name: str) -> Any:
    names = list(_COLUMNS) + (["team_alias", "litellm_spend_usd"] if enriched else [])
    name = "request_records_enriched" if enriched else TABLE
    return table(name, *(column(n) for n in names), schema=schema_for(dialect_name))


def _group_expressions(src: Any, by: GroupBy, enriched: bool) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    c = src.c
    if by is GroupBy.TEAM:
        return c.team_id, (func.max(c.team_alias) if enriched else func.max(c.team_id))
    if by is GroupBy.KEY:
        return c.api_key_hash, func.max(c.key_alias)
    if by is GroupBy.MODEL:
        return c.model_group, func.max(c.model_group)
    return c.tier, func.max(c.tier)


async def _has_enriched_view(engine: AsyncEngine) -> bool:
    if engine.dialect.name != "postgresql":
        return False
    async with engine.connect() as conn:
        found = (await conn.execute(text(f"SELECT to_regclass('{SCHEMA}.request_records_enriched')"))).scalar()
    return found is not None


async def fetch_report_data(
    engine: AsyncEngine, by: GroupBy, since: datetime, now: datetime, database: str = ""
) -> ReportData:
    """Aggregate records created in ``[since, now]`` per group and per UTC day."""
    enriched = await _has_enriched_view(engine)
    try:
        return await _fetch(engine, by, since, now, database, enriched)
    except DBAPIError:
        if not enriched:
            raise
        # The view exists but LiteLLM's tables changed under it: report from our table alone.
        return await _fetch(engine, by, since, now, database, False)


async def _fetch(
    engine: AsyncEngine, by: GroupBy, since: datetime, now: datetime, database: str, enriched: bool
) -> ReportData:
    src = _source(enriched, engine.dialect.name)
    c = src.c
    key, alias = _group_expressions(src, by, enriched)
    has_baseline = c.baseline_thinking_tokens.is_not(None)
    saved_expr = c.baseline_thinking_tokens - c.thinking_tokens
    spend = func.sum(c.litellm_spend_usd) if enriched else cast(null(), Float)
    routed = c.baseline_cost_usd.is_not(None) & c.cost_usd.is_not(None)
    window = (c.created_at >= since) & (c.created_at <= now)
    group_query = (
        select(
            key.label("key"),
            alias.label("alias"),
            func.count().label("requests"),
            func.coalesce(func.sum(c.thinking_tokens), 0),
            func.coalesce(func.sum(c.answer_tokens), 0),
            func.count().filter(c.cut.is_(True)),
            func.count(c.baseline_thinking_tokens),
            func.coalesce(func.sum(c.baseline_thinking_tokens), 0),
            func.coalesce(func.sum(c.thinking_tokens).filter(has_baseline), 0),
            func.sum(c.energy_j),
            func.sum(c.cost_usd),
            spend,
            func.sum(c.baseline_cost_usd - c.cost_usd).filter(routed),
        )
        .where(window)
        .group_by(key)
    )
    if engine.dialect.name == "postgresql":
        day_expr: Any = cast(func.timezone("UTC", c.created_at), Date)
    else:
        day_expr = func.date(c.created_at)
    day_query = (
        select(
            day_expr.label("day"),
            func.count(),
            func.coalesce(func.sum(c.thinking_tokens), 0),
            func.coalesce(func.sum(saved_expr), 0),
            func.sum(c.energy_j),
        )
        .where(window)
        .group_by(day_expr)
        .order_by(day_expr)
    )
    async with engine.connect() as conn:
        group_rows = (await conn.execute(group_query)).all()
        day_rows = (await conn.execute(day_query)).all()
    groups = tuple(
        GroupTotals(
            key=row[0],
            alias=row[1],
            requests=int(row[2]),
            thinking_tokens=int(row[3]),
            answer_tokens=int(row[4]),
            cut_requests=int(row[5]),
            baseline_requests=int(row[6]),
            baseline_thinking_tokens=int(row[7]),
            thinking_tokens_with_baseline=int(row[8]),
            energy_j=_float_or_none(row[9]),
            cost_usd=_float_or_none(row[10]),
            litellm_spend_usd=_float_or_none(row[11]),
            route_saving_usd=_float_or_none(row[12]),
        )
        for row in group_rows
    )
    days = tuple(
        DayTotals(
            day=row[0] if isinstance(row[0], date) else date.fromisoformat(str(row[0])),
            requests=int(row[1]),
            thinking_tokens=int(row[2]),
            tokens_saved=int(row[3]),
            energy_j=_float_or_none(row[4]),
        )
        for row in day_rows
    )
    return ReportData(by, since, now, database, enriched, groups, days)


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


# ---------------------------------------------------------------------- pure shaping
def _label(by: GroupBy, key: str | None, alias: str | None) -> str:
    if key is None:
        return _UNSET_LABEL[by]
    if by is GroupBy.KEY:
        short = key[:10] + "…" if len(key) > 12 else key
        return f"{alias} ({short})" if alias else short
    if by is GroupBy.TEAM and alias and alias != key:
        return alias
    return key


def _row(label: str, totals: list[GroupTotals]) -> ReportRow:
    requests = sum(t.requests for t in totals)
    thinking = sum(t.thinking_tokens for t in totals)
    with_baseline = [t for t in totals if t.baseline_requests]
    baseline: int | None = None
    saved: int | None = None
    if with_baseline:
        baseline = sum(t.baseline_thinking_tokens for t in with_baseline)
        saved = baseline - sum(t.thinking_tokens_with_baseline for t in with_baseline)
    energy = [t.energy_j for t in totals if t.energy_j is not None]
    costs = [t.cost_usd for t in totals if t.cost_usd is not None]
    spends = [t.litellm_spend_usd for t in totals if t.litellm_spend_usd is not None]
    route_savings = [t.route_saving_usd for t in totals if t.route_saving_usd is not None]
    return ReportRow(
        label=label,
        requests=requests,
        thinking_tokens=thinking,
        thinking_per_request=thinking / requests if requests else 0.0,
        baseline_thinking_tokens=baseline,
        tokens_saved=saved,
        saved_fraction=_fraction(saved, baseline),
        cut_requests=sum(t.cut_requests for t in totals),
        energy_wh=sum(energy) / JOULES_PER_WH if energy else None,
        cost_usd=sum(costs) if costs else None,
        litellm_spend_usd=sum(spends) if spends else None,
        route_saving_usd=sum(route_savings) if route_savings else None,
    )


def build_report(data: ReportData) -> Report:
    """Rows sorted by thinking tokens (largest first), plus a total row."""
    rows = [_row(_label(data.by, g.key, g.alias), [g]) for g in data.groups]
    rows.sort(key=lambda r: (-r.thinking_tokens, -r.requests, r.label))
    return Report(
        by=data.by,
        since=data.since,
        until=data.until,
        database=data.database,
        joined_litellm=data.joined_litellm,
        rows=tuple(rows),
        total=_row("total", list(data.groups)),
        days=data.days,
    )


def _int(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _compact(value: int | None) -> str:
    """1,234 / 881.2k / 4.04M: short enough for an 80-column terminal."""
    if value is None:
        return "—"
    magnitude = abs(value)
    if magnitude < 10_000:
        return f"{value:,}"
    if magnitude < 1_000_000:
        return f"{value / 1000:.1f}k"
    if magnitude < 1_000_000_000:
        return f"{value / 1e6:.2f}M"
    return f"{value / 1e9:.2f}G"


def _money(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.4f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _wh(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


_CELLS: dict[str, Callable[[ReportRow], str]] = {
    "reqs": lambda r: _int(r.requests),
    "thinking": lambda r: _compact(r.thinking_tokens),
    "per req": lambda r: f"{r.thinking_per_request:,.0f}",
    "saved": lambda r: _compact(r.tokens_saved),
    "saved %": lambda r: _pct(r.saved_fraction),
    "cut": lambda r: _int(r.cut_requests),
    "Wh": lambda r: _wh(r.energy_wh),
    "cost $": lambda r: _money(r.cost_usd),
    "LiteLLM $": lambda r: _money(r.litellm_spend_usd),
    "routing saved $": lambda r: _money(r.route_saving_usd),
}
HEADERS: tuple[str, ...] = tuple(_CELLS)


def table_columns(report: Report) -> tuple[str, ...]:
    """Columns worth showing: "cut" only if some request was cut, "LiteLLM $" only when joined."""
    hidden = set()
    if report.total.cut_requests == 0:
        hidden.add("cut")
    if not report.joined_litellm:
        hidden.add("LiteLLM $")
    if report.total.route_saving_usd is None:
        hidden.add("routing saved $")
    return tuple(h for h in HEADERS if h not in hidden)


def row_cells(row: ReportRow, columns: tuple[str, ...] = HEADERS) -> tuple[str, ...]:
    """The formatted cells of one row for ``columns`` (after the group label)."""
    return tuple(_CELLS[c](row) for c in columns)


def report_title(report: Report) -> str:
    return f"thinkbudget usage by {report.by.value}, {report.since:%Y-%m-%d %H:%M} - {report.until:%Y-%m-%d %H:%M} UTC"


def render_table(report: Report, limit: int | None = None) -> Table:
    """A rich table; rows beyond ``limit`` are folded into one "other" row. Every cell, the title
    and the caption are :class:`Text`, so no label (a stored value) is read as markup."""
    columns = table_columns(report)
    table_ = Table(
        title=styled(report_title(report)),
        caption=styled(_caption(report)),
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table_.add_column(Text(report.by.value), style="bold", no_wrap=True, max_width=24, overflow="ellipsis")
    for header in columns:
        table_.add_column(Text(header), justify="right", no_wrap=True)
    for row in _limited(report, limit):
        table_.add_row(*_text_cells(row, columns))
    table_.add_section()
    table_.add_row(*_text_cells(report.total, columns), style="bold")
    return table_


def _text_cells(row: ReportRow, columns: tuple[str, ...]) -> tuple[Text, ...]:
    return (styled(row.label), *(Text(cell) for cell in row_cells(row, columns)))


def _caption(report: Report) -> str:
    parts = [f"database: {report.database}"] if report.database else []
    if not report.joined_litellm:
        parts.append("LiteLLM spend/aliases: not joined (no LiteLLM tables or views)")
    parts.append("tokens saved = estimated unbudgeted thinking - actual, over requests with a baseline")
    return "; ".join(parts)


def _limited(report: Report, limit: int | None) -> list[ReportRow]:
    rows = list(report.rows)
    if limit is None or len(rows) <= limit:
        return rows
    kept, rest = rows[:limit], rows[limit:]
    return [*kept, _merge_rows(f"other ({len(rest)})", rest)]


def _merge_rows(label: str, rows: list[ReportRow]) -> ReportRow:
    requests = sum(r.requests for r in rows)
    thinking = sum(r.thinking_tokens for r in rows)
    saved_rows = [r for r in rows if r.tokens_saved is not None]
    saved = sum(r.tokens_saved or 0 for r in saved_rows) if saved_rows else None
    baseline = sum(r.baseline_thinking_tokens or 0 for r in saved_rows) if saved_rows else None
    return ReportRow(
        label=label,
        requests=requests,
        thinking_tokens=thinking,
        thinking_per_request=thinking / requests if requests else 0.0,
        baseline_thinking_tokens=baseline,
        tokens_saved=saved,
        saved_fraction=_fraction(saved, baseline),
        cut_requests=sum(r.cut_requests for r in rows),
        energy_wh=_sum_optional([r.energy_wh for r in rows]),
        cost_usd=_sum_optional([r.cost_usd for r in rows]),
        litellm_spend_usd=_sum_optional([r.litellm_spend_usd for r in rows]),
        route_saving_usd=_sum_optional([r.route_saving_usd for r in rows]),
    )


def _fraction(part: int | None, whole: int | None) -> float | None:
    return part / whole if part is not None and whole else None


def _sum_optional(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


# ---------------------------------------------------------------------- charts and HTML
def headline(report: Report) -> str:
    """One line of totals, e.g. for the chart title."""
    total = report.total
    parts = [f"{total.requests:,} requests", f"{_compact(total.thinking_tokens)} thinking tokens"]
    if total.tokens_saved is not None:
        parts.append(f"{_compact(total.tokens_saved)} saved ({_pct(total.saved_fraction)})")
    if total.energy_wh is not None:
        parts.append(f"{total.energy_wh / 1000:,.3f} kWh")
    if total.cost_usd is not None:
        parts.append(f"${_money(total.cost_usd)}")
    return " · ".join(parts)


def _chart_label(label: str) -> str:
    shown = visible(label)
    return shown if len(shown) <= 28 else shown[:27] + "…"


def render_chart_png(report: Report, limit: int = 12) -> bytes:
    """Four panels: thinking tokens against the estimated unbudgeted baseline per group, energy per
    group, cost per group (ours and LiteLLM's), and thinking tokens / tokens saved per day.
    Returns PNG bytes (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import EngFormatter

    rows = _limited(report, limit)[::-1]  # largest at the top of horizontal bars
    labels = [_chart_label(r.label) for r in rows]
    positions = list(range(len(rows)))
    fig, axes = plt.subplots(2, 2, figsize=(14, max(7.5, 0.45 * len(rows) + 5.5)))
    fig.suptitle(f"{report_title(report)}\n{headline(report)}", fontsize=12)
    (ax_tokens, ax_energy), (ax_cost, ax_days) = axes
    tokens_format = EngFormatter(sep="")

    baseline = [r.thinking_tokens + r.tokens_saved if r.tokens_saved is not None else 0 for r in rows]
    if any(baseline):
        ax_tokens.barh(positions, baseline, color="#d9d9d9", label="estimated without budget")
    ax_tokens.barh(positions, [r.thinking_tokens for r in rows], color="#4c72b0", height=0.55, label="actual")
    for y, row in enumerate(rows):
        if row.saved_fraction is not None:
            ax_tokens.annotate(
                f" −{row.saved_fraction * 100:.0f}%",
                (max(row.thinking_tokens, baseline[y]), y),
                va="center",
                fontsize=8,
                color="#2d6a2d",
            )
    ax_tokens.set_title(f"Thinking tokens per {report.by.value}")
    ax_tokens.xaxis.set_major_formatter(tokens_format)

    energy = [r.energy_wh or 0.0 for r in rows]
    ax_energy.barh(positions, energy, color="#dd8452")
    for y, row in enumerate(rows):
        if row.energy_wh is not None:
            ax_energy.annotate(f" {row.energy_wh:,.1f}", (row.energy_wh, y), va="center", fontsize=8)
    ax_energy.set_title("GPU energy (Wh)")
    if all(r.energy_wh is None for r in rows):
        ax_energy.text(0.5, 0.5, "no energy recorded", ha="center", va="center", transform=ax_energy.transAxes)

    ours = [r.cost_usd or 0.0 for r in rows]
    theirs = [r.litellm_spend_usd or 0.0 for r in rows]
    both = report.joined_litellm and any(theirs)
    offset, height = (0.2, 0.4) if both else (0.0, 0.6)
    ax_cost.barh([p + offset for p in positions], ours, height=height, color="#55a868", label="thinkbudget (GPU)")
    if both:
        ax_cost.barh([p - offset for p in positions], theirs, height=height, color="#8172b3", label="LiteLLM spend")
    for y, row in enumerate(rows):
        if row.cost_usd is not None:
            ax_cost.annotate(f" ${_money(row.cost_usd)}", (row.cost_usd, y + offset), va="center", fontsize=8)
    ax_cost.set_title("Cost (USD)")
    if all(r.cost_usd is None for r in rows) and not both:
        ax_cost.text(0.5, 0.5, "no cost recorded", ha="center", va="center", transform=ax_cost.transAxes)

    for ax in (ax_tokens, ax_energy, ax_cost):
        ax.set_yticks(positions)
        ax.set_yticklabels(labels, fontsize=8, parse_math=False)  # a "$" in a label is just a "$"
        ax.grid(axis="x", alpha=0.3)
        _low, high = ax.get_xlim()
        room = 1.55 if ax is not ax_energy else 1.2  # for the annotations and the legend
        ax.set_xlim(0, max(high, 1e-9) * room)
    if any(baseline):
        ax_tokens.legend(loc="lower right", fontsize=8)
    if both:
        ax_cost.legend(loc="lower right", fontsize=8)

    if report.days:
        days = [d.day for d in report.days]
        ax_days.bar(days, [d.tokens_saved for d in report.days], color="#9fd19f", label="tokens saved")
        ax_days.plot(
            days,
            [d.thinking_tokens for d in report.days],
            marker="o",
            color="#4c72b0",
            label="thinking tokens",
        )
        ax_days.legend(loc="upper left", fontsize=8)
        ax_days.tick_params(axis="x", rotation=30, labelsize=8)
        ax_days.yaxis.set_major_formatter(tokens_format)
        _low, high = ax_days.get_ylim()
        ax_days.set_ylim(0, high * 1.15)
    else:
        ax_days.text(0.5, 0.5, "no requests in this period", ha="center", va="center", transform=ax_days.transAxes)
    ax_days.set_title("Per day (UTC)")
    ax_days.grid(axis="y", alpha=0.3)

    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def _html_text(value: object) -> str:
    """Escaped for HTML, control characters and lone surrogates spelled out (the page must encode)."""
    return html.escape(visible(value))


def render_html(report: Report, png: bytes | None, limit: int | None = None) -> str:
    """A self-contained HTML page: headline figures, the chart (embedded) and the table."""
    esc = _html_text
    total = report.total
    headline = [
        ("requests", _int(total.requests)),
        ("thinking tokens", _compact(total.thinking_tokens)),
        ("tokens saved", f"{_compact(total.tokens_saved)} ({_pct(total.saved_fraction)})"),
        ("GPU energy", "—" if total.energy_wh is None else f"{total.energy_wh / 1000:,.3f} kWh"),
        ("cost (ours)", "—" if total.cost_usd is None else f"${_money(total.cost_usd)}"),
        ("LiteLLM spend", "—" if total.litellm_spend_usd is None else f"${_money(total.litellm_spend_usd)}"),
    ]
    cards = "".join(
        f'<div class="card"><div class="v">{esc(v)}</div><div class="k">{esc(k)}</div></div>' for k, v in headline
    )
    columns = table_columns(report)
    header_cells = "".join(f"<th>{esc(h)}</th>" for h in (report.by.value, *columns))
    body = "".join(
        "<tr>" + f"<td>{esc(r.label)}</td>" + "".join(f"<td>{esc(c)}</td>" for c in row_cells(r, columns)) + "</tr>"
        for r in _limited(report, limit)
    )
    body += (
        '<tr class="total">'
        + f"<td>{esc(total.label)}</td>"
        + "".join(f"<td>{esc(c)}</td>" for c in row_cells(total, columns))
        + "</tr>"
    )
    image = (
        f'<img alt="charts" src="data:image/png;base64,{base64.b64encode(png).decode()}">' if png is not None else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(report_title(report))}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem;color:#222}}
.cards{{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}}
.card{{border:1px solid #ddd;border-radius:8px;padding:.8rem 1.2rem;min-width:9rem}}
.card .v{{font-size:1.4rem;font-weight:600}} .card .k{{color:#666;font-size:.85rem}}
img{{max-width:100%;border:1px solid #eee}}
table{{border-collapse:collapse;margin-top:1.5rem}} th,td{{padding:.3rem .7rem;border-bottom:1px solid #eee}}
td+td,th+th{{text-align:right}} tr.total td{{font-weight:700;border-top:2px solid #999}}
.note{{color:#666;font-size:.85rem}}
</style></head><body>
<h1>{esc(report_title(report))}</h1>
<div class="cards">{cards}</div>
{image}
<table><thead><tr>{header_cells}</tr></thead><tbody>{body}</tbody></table>
<p class="note">{esc(_caption(report))}</p>
</body></html>
"""

"""The ``calibrate`` command's report: current and proposed budget per cell, and what the change is
expected to do. Pure shaping of proposals and cell history; rendering for the terminal, JSON and a
chart (matplotlib, the ``charts`` extra, imported only when a chart is asked for)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from rich import box
from rich.table import Table

from thinkbudget_litellm.calibrate.proposal import CellKey, Proposal
from thinkbudget_litellm.calibrate.source import CellHistory, ExplorationTotals
from thinkbudget_litellm.cli.terminal import styled, visible


@dataclass(frozen=True, slots=True)
class CellRow:
    cell: str
    samples: int
    censored_share: float
    current_budget: int | None  # the latest non-exploration record's (task cells only)
    proposed_budget: int
    source: str
    estimate: int | None
    saved_per_request: float | None  # expected thinking saved per request by the change (negative: spent)
    over_budget_now: float | None  # expected share of requests whose natural thinking exceeds the budget
    over_budget_proposed: float | None
    explorations: int
    exploration_extra_tokens: int
    exploration_cost_usd: float | None


def build_rows(proposals: Mapping[CellKey, Proposal], history: Mapping[CellKey, CellHistory]) -> list[CellRow]:
    rows = []
    for cell in sorted(proposals, key=lambda c: (c.model_group, c.tier.rank, c.task is not None, c.task or "")):
        p = proposals[cell]
        h = history.get(cell)
        current = h.current_budget if h is not None else None
        explored = h.exploration if h is not None else ExplorationTotals()
        now_mean = p.expected_thinking(current) if current is not None else None
        new_mean = p.expected_thinking(p.budget)
        rows.append(
            CellRow(
                cell=cell.label(),
                samples=p.samples,
                censored_share=p.censored_share,
                current_budget=current,
                proposed_budget=p.budget,
                source=p.source.value,
                estimate=p.estimate,
                saved_per_request=now_mean - new_mean if now_mean is not None and new_mean is not None else None,
                over_budget_now=p.expected_over_budget(current) if current is not None else None,
                over_budget_proposed=p.expected_over_budget(p.budget),
                explorations=explored.requests,
                exploration_extra_tokens=explored.over_current_tokens,
                exploration_cost_usd=explored.cost_usd,
            )
        )
    return rows


def rows_json(rows: list[CellRow], meta: Mapping[str, Any]) -> dict[str, Any]:
    return {**meta, "cells": [asdict(r) for r in rows]}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: float | None, fmt: str = "{:,.0f}") -> str:
    return "-" if value is None else fmt.format(value)


HEADERS = (
    "cell",
    "samples",
    "censored",
    "current",
    "proposed",
    "from",
    "saved/req",
    "over budget now",
    "over budget proposed",
    "explored",
    "explore extra tok",
)


def render_table(rows: list[CellRow], title: str) -> Table:
    table = Table(title=styled(title), box=box.SIMPLE_HEAD)
    for i, name in enumerate(HEADERS):
        table.add_column(name, justify="left" if i in (0, 5) else "right")
    for r in rows:
        cells = (
            r.cell,
            f"{r.samples:,}",
            _pct(r.censored_share),
            _num(r.current_budget),
            f"{r.proposed_budget:,}",
            r.source,
            _num(r.saved_per_request, "{:+,.0f}"),
            _pct(r.over_budget_now),
            _pct(r.over_budget_proposed),
            f"{r.explorations:,}",
            f"{r.exploration_extra_tokens:,}",
        )
        table.add_row(*(styled(visible(c)) for c in cells))
    return table


def render_chart_png(rows: list[CellRow]) -> bytes:
    """Current vs proposed budget per cell (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [visible(r.cell).replace("$", r"\$") for r in rows]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(rows) + 2), 4.5))
    xs = range(len(rows))
    ax.bar([x - 0.2 for x in xs], [r.current_budget or 0 for r in rows], width=0.4, label="current")
    ax.bar([x + 0.2 for x in xs], [r.proposed_budget for r in rows], width=0.4, label="proposed")
    ax.set_yscale("log")
    ax.set_ylabel("thinking budget (tokens)")
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
    ax.legend()
    ax.set_title("Thinking budgets per cell: current and calibrated")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=110)
    plt.close(fig)
    return out.getvalue()

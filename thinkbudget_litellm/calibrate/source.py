"""Reading what calibration needs from ``thinkbudget.request_records`` (the I/O edge).

Rows are grouped in the database by everything calibration looks at, so one row comes back per
distinct (cell, budget, enforcement, cut, thinking length), not per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from thinkbudget_litellm.calibrate.proposal import USABLE_STATUSES, CellKey, Observation, cell_of
from thinkbudget_litellm.record.models import request_records


async def fetch_observations(engine: AsyncEngine, since: datetime, until: datetime) -> list[Observation]:
    """Answered requests created in ``[since, until)``, grouped."""
    c = request_records.c
    keys = (c.model_group, c.tier, c.task, c.budget, c.enforcement, c.status, c.cut, c.thinking_tokens)
    query = (
        select(*keys, func.count())
        .where(and_(c.created_at >= since, c.created_at < until, c.status.in_(sorted(USABLE_STATUSES))))
        .group_by(*keys)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [Observation(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), int(r[7] or 0), int(r[8])) for r in rows]


@dataclass(frozen=True, slots=True)
class ExplorationTotals:
    """Exploration requests of one cell: how many, their thinking and their recorded cost."""

    requests: int = 0
    thinking_tokens: int = 0
    cost_usd: float | None = None
    over_current_tokens: int = 0  # thinking beyond the cell's current budget: what exploring cost extra


@dataclass(frozen=True, slots=True)
class CellHistory:
    current_budget: int | None  # the budget of the cell's latest non-exploration record
    exploration: ExplorationTotals


async def fetch_history(engine: AsyncEngine, since: datetime, until: datetime) -> dict[CellKey, CellHistory]:
    """Per task cell: its latest budget and its exploration totals, for the ``calibrate`` report."""
    c = request_records.c
    window = and_(c.created_at >= since, c.created_at < until, c.status.in_(sorted(USABLE_STATUSES)))
    keys = (c.model_group, c.tier, c.task, c.enforcement, c.status)
    latest_q = (
        select(*keys, c.budget, func.max(c.created_at))
        .where(and_(window, c.exploration.is_(False)))
        .group_by(*keys, c.budget)
    )
    explore_q = (
        select(*keys, c.thinking_tokens, func.count(), func.sum(c.cost_usd))
        .where(and_(window, c.exploration.is_(True)))
        .group_by(*keys, c.thinking_tokens)
    )
    async with engine.connect() as conn:
        latest_rows: list[Any] = list((await conn.execute(latest_q)).all())
        explore_rows: list[Any] = list((await conn.execute(explore_q)).all())
    latest: dict[CellKey, tuple[datetime, int | None]] = {}
    for r in latest_rows:
        cell = cell_of(Observation(r[0], r[1], r[2], None, r[3], r[4], False, 0))
        if cell is not None and (cell not in latest or r[6] > latest[cell][0]):
            latest[cell] = (r[6], r[5])
    explored: dict[CellKey, ExplorationTotals] = {}
    for r in explore_rows:
        cell = cell_of(Observation(r[0], r[1], r[2], None, r[3], r[4], False, 0))
        if cell is None:
            continue
        before = explored.get(cell, ExplorationTotals())
        thinking, count = int(r[5] or 0), int(r[6])
        current = latest[cell][1] if cell in latest else None
        over = max(thinking - current, 0) * count if current is not None else 0
        cost = None if r[7] is None and before.cost_usd is None else (before.cost_usd or 0.0) + float(r[7] or 0.0)
        explored[cell] = ExplorationTotals(
            before.requests + count, before.thinking_tokens + thinking * count, cost, before.over_current_tokens + over
        )
    cells = set(latest) | set(explored)
    return {
        cell: CellHistory(latest[cell][1] if cell in latest else None, explored.get(cell, ExplorationTotals()))
        for cell in cells
    }

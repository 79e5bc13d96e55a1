"""The dashboard's one read of the records database: the rows of a period, as ``queries.Row``.

Reading the database (not this process's memory) is what makes the page show every proxy instance.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from thinkbudget_litellm.dashboard.queries import ROW_COLUMNS, Row
from thinkbudget_litellm.record.models import request_records

MAX_ROWS = 20_000  # the newest rows of a period; older ones drop out of the charts first


async def fetch_rows(
    engine: AsyncEngine,
    since: datetime,
    until: datetime,
    *,
    team: str | None = None,
    key: str | None = None,
    model: str | None = None,
    limit: int = MAX_ROWS,
) -> list[Row]:
    """Records created in ``[since, until]`` (newest first), of ``team``/``key``/``model`` when given."""
    c = request_records.c
    query = select(*(c[name] for name in ROW_COLUMNS)).where(c.created_at >= since, c.created_at <= until)
    if team is not None:
        query = query.where(c.team_id == team)
    if key is not None:
        query = query.where(c.api_key_hash == key)
    if model is not None:
        query = query.where(c.model_group == model)
    query = query.order_by(c.created_at.desc()).limit(limit)
    async with engine.connect() as conn:
        result = await conn.execute(query)
        return [Row.from_mapping(dict(m)) for m in result.mappings()]

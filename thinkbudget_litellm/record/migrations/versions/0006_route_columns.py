"""Routing and budget-guard columns: the model group a request was routed to and why, the guard's
estimate, what was left of the caller's budget, and the cost on the baseline deployment (the saving)

Revision ID: 0006_route_columns
Revises: 0005_adaptive_budgets
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from thinkbudget_litellm.record.models import schema_for

revision: str = "0006_route_columns"
down_revision: str | None = "0005_adaptive_budgets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "request_records"
_COLUMNS = (
    ("route", sa.Text()),
    ("route_reason", sa.Text()),
    ("estimated_cost_usd", sa.Float()),
    ("budget_remaining_usd", sa.Float()),
    ("baseline_cost_usd", sa.Float()),
)


def upgrade() -> None:
    schema = schema_for(op.get_bind().dialect.name)
    with op.batch_alter_table(_TABLE, schema=schema) as batch:
        for name, type_ in _COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    schema = schema_for(op.get_bind().dialect.name)
    with op.batch_alter_table(_TABLE, schema=schema) as batch:
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)

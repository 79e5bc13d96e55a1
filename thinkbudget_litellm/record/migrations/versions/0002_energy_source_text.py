"""energy_source as text: source labels nest fallback reasons (e.g. simulated(estimated(fallback:dcgm
timeout))) and outgrew varchar(32), which made the database refuse such rows

Revision ID: 0002_energy_source_text
Revises: 0001_request_records
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from thinkbudget_litellm.record.models import schema_for
from thinkbudget_litellm.record.views import VIEW_NAMES, quote_ident

revision: str = "0002_energy_source_text"
down_revision: str | None = "0001_request_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "request_records"


def _drop_views(schema: str | None) -> None:
    """Postgres cannot retype a column a view reads; ``db upgrade`` recreates the views afterwards."""
    if schema is not None:
        for view in VIEW_NAMES:
            op.execute(f"DROP VIEW IF EXISTS {quote_ident(schema)}.{quote_ident(view)}")


def upgrade() -> None:
    schema = schema_for(op.get_bind().dialect.name)
    _drop_views(schema)
    with op.batch_alter_table(_TABLE, schema=schema) as batch:
        batch.alter_column("energy_source", type_=sa.Text(), existing_type=sa.String(32))


def downgrade() -> None:
    schema = schema_for(op.get_bind().dialect.name)
    _drop_views(schema)
    with op.batch_alter_table(_TABLE, schema=schema) as batch:
        batch.alter_column("energy_source", type_=sa.String(32), existing_type=sa.Text())

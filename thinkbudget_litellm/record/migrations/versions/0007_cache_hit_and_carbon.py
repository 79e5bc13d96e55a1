"""cache_hit status (answered from LiteLLM's response cache, no GPU) and co2e_g (grams CO2e per request)

The status CHECK constraint is replaced by one that also allows ``cache_hit`` (values written out
as at this revision, see 0003).

Revision ID: 0007_cache_hit_and_carbon
Revises: 0006_route_columns
Create Date: 2027-01-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from thinkbudget_litellm.record.models import STATUS_CHECK, in_values_sql, schema_for

revision: str = "0007_cache_hit_and_carbon"
down_revision: str | None = "0006_route_columns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "request_records"
_STATUSES_BEFORE = ("success", "cut", "failure", "cancelled")
_STATUSES = (*_STATUSES_BEFORE, "cache_hit")


def upgrade() -> None:
    schema = schema_for(op.get_bind().dialect.name)
    with op.batch_alter_table(_TABLE, schema=schema) as batch:
        batch.add_column(sa.Column("co2e_g", sa.Float()))
        batch.drop_constraint(STATUS_CHECK, type_="check")
        batch.create_check_constraint(STATUS_CHECK, in_values_sql("status", _STATUSES))


def downgrade() -> None:
    schema = schema_for(op.get_bind().dialect.name)
    op.execute(
        sa.text(f"UPDATE {schema + '.' if schema else ''}{_TABLE} SET status = 'success' WHERE status = 'cache_hit'")
    )
    with op.batch_alter_table(_TABLE, schema=schema) as batch:
        batch.drop_constraint(STATUS_CHECK, type_="check")
        batch.create_check_constraint(STATUS_CHECK, in_values_sql("status", _STATUSES_BEFORE))
        batch.drop_column("co2e_g")

"""adaptive budgets: budget_scope may be 'adaptive'; exploration and grace_tokens columns

Revision ID: 0005_adaptive_budgets
Revises: 0004_client_control_scope
Create Date: 2026-12-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from thinkbudget_litellm.record.models import BUDGET_SCOPE_CHECK, in_values_sql, schema_for

revision: str = "0005_adaptive_budgets"
down_revision: str | None = "0004_client_control_scope"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "request_records"
# As at this revision (see 0003: a migration must not follow the enum as it grows later).
_OLD_SCOPES = ("tier", "team", "key", "user", "end_user", "session", "request", "client_control")
_NEW_SCOPES = (*_OLD_SCOPES, "adaptive")


def upgrade() -> None:
    schema = schema_for(op.get_bind().dialect.name)
    with op.batch_alter_table(_TABLE, schema=schema) as batch:
        batch.add_column(sa.Column("exploration", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("grace_tokens", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_constraint(BUDGET_SCOPE_CHECK, type_="check")
        batch.create_check_constraint(BUDGET_SCOPE_CHECK, in_values_sql("budget_scope", _NEW_SCOPES))


def downgrade() -> None:
    schema = schema_for(op.get_bind().dialect.name)
    with op.batch_alter_table(_TABLE, schema=schema) as batch:
        batch.drop_constraint(BUDGET_SCOPE_CHECK, type_="check")
        batch.create_check_constraint(BUDGET_SCOPE_CHECK, in_values_sql("budget_scope", _OLD_SCOPES))
        batch.drop_column("grace_tokens")
        batch.drop_column("exploration")

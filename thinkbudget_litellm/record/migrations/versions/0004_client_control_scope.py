"""budget_scope may be ``client_control``: the client's own reasoning control set the budget

The values are written out as they are at this revision (see 0003).

Revision ID: 0004_client_control_scope
Revises: 0003_status_and_scope_checks
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from thinkbudget_litellm.record.models import BUDGET_SCOPE_CHECK, in_values_sql, schema_for

revision: str = "0004_client_control_scope"
down_revision: str | None = "0003_status_and_scope_checks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "request_records"
_BEFORE = ("tier", "team", "key", "user", "end_user", "session", "request")
_AFTER = (*_BEFORE, "client_control")


def _replace(values: tuple[str, ...]) -> None:
    schema = schema_for(op.get_bind().dialect.name)
    with op.batch_alter_table(_TABLE, schema=schema) as batch:
        batch.drop_constraint(BUDGET_SCOPE_CHECK, type_="check")
        batch.create_check_constraint(BUDGET_SCOPE_CHECK, in_values_sql("budget_scope", values))


def upgrade() -> None:
    _replace(_AFTER)


def downgrade() -> None:
    _replace(_BEFORE)

"""CHECK constraints: status is one of RequestStatus, budget_scope one of BudgetScope (or NULL)

The values are written out here as they were at this revision (a migration must not change when the
enums grow later); ``models`` derives its constraints from the enums, and a test compares the two.
A new status or scope therefore needs a migration that replaces the constraint.

Revision ID: 0003_status_and_scope_checks
Revises: 0002_energy_source_text
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from thinkbudget_litellm.record.models import BUDGET_SCOPE_CHECK, STATUS_CHECK, in_values_sql, schema_for

revision: str = "0003_status_and_scope_checks"
down_revision: str | None = "0002_energy_source_text"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "request_records"
_STATUSES = ("success", "cut", "failure", "cancelled")
_BUDGET_SCOPES = ("tier", "team", "key", "user", "end_user", "session", "request")


def upgrade() -> None:
    schema = schema_for(op.get_bind().dialect.name)
    with op.batch_alter_table(_TABLE, schema=schema) as batch:
        batch.create_check_constraint(STATUS_CHECK, in_values_sql("status", _STATUSES))
        batch.create_check_constraint(BUDGET_SCOPE_CHECK, in_values_sql("budget_scope", _BUDGET_SCOPES))


def downgrade() -> None:
    schema = schema_for(op.get_bind().dialect.name)
    with op.batch_alter_table(_TABLE, schema=schema) as batch:
        batch.drop_constraint(BUDGET_SCOPE_CHECK, type_="check")
        batch.drop_constraint(STATUS_CHECK, type_="check")

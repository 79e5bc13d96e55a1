"""SQLAlchemy table for request records, in a Postgres schema of our own (``thinkbudget``).

LiteLLM owns schema ``public`` (its ``prisma db push`` drops tables it does not know), so nothing of
ours lives there. On SQLite there are no schemas: engines built by
:func:`thinkbudget_litellm.record.engine.create_engine` translate ``thinkbudget`` to the default
schema (``schema_translate_map``).

``litellm_call_id`` is unique and is the join key to ``public."LiteLLM_SpendLogs".litellm_call_id``.
Columns come from :class:`thinkbudget_litellm.record.RequestRecord`'s field definitions (one
definition: see :func:`thinkbudget_litellm.record.request_record.record_columns`); CHECK constraints
hold ``status`` to :class:`RequestStatus` and ``budget_scope`` to
:class:`thinkbudget_litellm.policy.budget.BudgetScope`.

There is deliberately no foreign key: LiteLLM writes SpendLogs in batches (later than us, or never
when it has no database) and may partition that table.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeEngine

from thinkbudget_litellm.policy.budget import BudgetScope
from thinkbudget_litellm.record.request_record import ColumnKind, RecordColumn, RequestStatus, record_columns

SCHEMA = "thinkbudget"
TABLE = "request_records"
VERSION_TABLE = "alembic_version"

# Postgres: JSONB; elsewhere: JSON text.
JsonDocument = JSON().with_variant(JSONB(), "postgresql")
# Postgres: BIGINT identity; SQLite needs INTEGER PRIMARY KEY for its rowid alias.
RowId = BigInteger().with_variant(Integer(), "sqlite")

# Values the CHECK constraints allow, from the enums that define them.
STATUS_VALUES: tuple[str, ...] = tuple(s.value for s in RequestStatus)
BUDGET_SCOPE_VALUES: tuple[str, ...] = tuple(s.value for s in BudgetScope)
STATUS_CHECK = "ck_request_records_status"
BUDGET_SCOPE_CHECK = "ck_request_records_budget_scope"


def schema_for(dialect_name: str) -> str | None:
    """The schema our objects live in on this dialect (``None``: the default one)."""
    return SCHEMA if dialect_name == "postgresql" else None


def in_values_sql(column: str, values: tuple[str, ...]) -> str:
    """``column IN ('a', 'b')``: the text of a CHECK constraint (values are our enums' literals)."""
    quoted = ", ".join("'" + value.replace("'", "''") + "'" for value in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    metadata = MetaData(
        schema=SCHEMA,
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "pk": "pk_%(table_name)s",
        },
    )


def _column_type(column: RecordColumn) -> TypeEngine[Any]:
    kind = column.kind
    if kind is ColumnKind.TEXT:
        return String(column.spec.max_chars) if column.spec.varchar else Text()
    if kind is ColumnKind.INTEGER:
        return Integer()
    if kind is ColumnKind.FLOAT:
        return Float()
    if kind is ColumnKind.BOOLEAN:
        return Boolean()
    if kind is ColumnKind.TIMESTAMP:
        return DateTime(timezone=True)
    return JsonDocument


def _server_default(column: RecordColumn) -> Any:
    default = column.default
    if column.nullable or default is None or isinstance(default, dict):
        return None
    if isinstance(default, bool):
        return "true" if default else "false"
    return str(default)


def _table_column(column: RecordColumn) -> Column[Any]:
    return Column(
        column.name,
        _column_type(column),
        nullable=column.nullable,
        server_default=_server_default(column),
        default=dict if isinstance(column.default, dict) else None,
    )


def _columns() -> list[Column[Any]]:
    """id, then the record's columns in field order, ``recorded_at`` after ``created_at``."""
    out: list[Column[Any]] = [Column("id", RowId, primary_key=True, autoincrement=True)]
    for column in record_columns():
        out.append(_table_column(column))
        if column.name == "created_at":
            out.append(Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()))
    return out


request_records: Table = Table(
    TABLE,
    Base.metadata,
    *_columns(),
    UniqueConstraint("litellm_call_id"),
    CheckConstraint(in_values_sql("status", STATUS_VALUES), name=STATUS_CHECK),
    CheckConstraint(in_values_sql("budget_scope", BUDGET_SCOPE_VALUES), name=BUDGET_SCOPE_CHECK),  # NULL passes
    Index("ix_request_records_created_at", "created_at"),
    Index("ix_request_records_team_id_created_at", "team_id", "created_at"),
    Index("ix_request_records_api_key_hash_created_at", "api_key_hash", "created_at"),
    Index("ix_request_records_model_group_created_at", "model_group", "created_at"),
)

# Columns a writer fills from a RequestRecord (everything but the surrogate key and server default).
RECORD_COLUMNS: tuple[str, ...] = tuple(c.name for c in request_records.columns if c.name not in ("id", "recorded_at"))

"""SQLAlchemy table for request records, in a Postgres schema of our own (``thinkbudget``).

LiteLLM owns schema ``public`` (its ``prisma db push`` drops tables it does not know), so nothing of
ours lives there. On SQLite there are no schemas: engines built by
:func:`thinkbudget_litellm.record.engine.create_engine` translate ``thinkbudget`` to the default
schema (``schema_translate_map``).

``litellm_call_id`` is unique and is the join key to ``public."LiteLLM_SpendLogs".litellm_call_id``.
There is deliberately no foreign key: LiteLLM writes SpendLogs in batches (later than us, or never
when it has no database) and may partition that table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA = "thinkbudget"
TABLE = "request_records"
VERSION_TABLE = "alembic_version"

# Postgres: JSONB; elsewhere: JSON text.
JsonDocument = JSON().with_variant(JSONB(), "postgresql")
# Postgres: BIGINT identity; SQLite needs INTEGER PRIMARY KEY for its rowid alias.
RowId = BigInteger().with_variant(Integer(), "sqlite")


def schema_for(dialect_name: str) -> str | None:
    """The schema our objects live in on this dialect (``None``: the default one)."""
    return SCHEMA if dialect_name == "postgresql" else None


class Base(DeclarativeBase):
    metadata = MetaData(
        schema=SCHEMA,
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "pk": "pk_%(table_name)s",
        },
    )


class RequestRecordRow(Base):
    """One client request. Columns mirror :class:`thinkbudget_litellm.record.RequestRecord`."""

    __tablename__ = TABLE

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    litellm_call_id: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    api_key_hash: Mapped[str | None] = mapped_column(String(128))
    key_alias: Mapped[str | None] = mapped_column(Text)
    team_id: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(Text)
    end_user: Mapped[str | None] = mapped_column(Text)
    session_id: Mapped[str | None] = mapped_column(Text)
    model_group: Mapped[str | None] = mapped_column(Text)
    deployment: Mapped[str | None] = mapped_column(Text)
    tier: Mapped[str | None] = mapped_column(String(32))
    task: Mapped[str | None] = mapped_column(String(64))
    budget: Mapped[int | None] = mapped_column(Integer)
    budget_scope: Mapped[str | None] = mapped_column(String(32))
    enforcement: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32), nullable=False, server_default="success")
    thinking_tokens: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    answer_tokens: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    prompt_tokens: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    cut: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    continuation_call_id: Mapped[str | None] = mapped_column(String(128))
    energy_j: Mapped[float | None] = mapped_column(Float)
    energy_source: Mapped[str | None] = mapped_column(Text)
    gpu_seconds: Mapped[float | None] = mapped_column(Float)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    baseline_thinking_tokens: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    prompt_text: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JsonDocument, nullable=False, default=dict)

    __table_args__ = (
        Index("ix_request_records_created_at", "created_at"),
        Index("ix_request_records_team_id_created_at", "team_id", "created_at"),
        Index("ix_request_records_api_key_hash_created_at", "api_key_hash", "created_at"),
        Index("ix_request_records_model_group_created_at", "model_group", "created_at"),
    )


request_records: Table = cast(Table, RequestRecordRow.__table__)

# Columns a writer fills from a RequestRecord (everything but the surrogate key and server default).
RECORD_COLUMNS: tuple[str, ...] = tuple(c.name for c in request_records.columns if c.name not in ("id", "recorded_at"))

"""request_records: one row per client request, unique on litellm_call_id

Revision ID: 0001_request_records
Revises:
Create Date: 2026-05-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from thinkbudget_litellm.record.models import schema_for

revision: str = "0001_request_records"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "request_records"


def upgrade() -> None:
    schema = schema_for(op.get_bind().dialect.name)
    op.create_table(
        _TABLE,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("litellm_call_id", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("api_key_hash", sa.String(128)),
        sa.Column("key_alias", sa.Text()),
        sa.Column("team_id", sa.Text()),
        sa.Column("user_id", sa.Text()),
        sa.Column("end_user", sa.Text()),
        sa.Column("session_id", sa.Text()),
        sa.Column("model_group", sa.Text()),
        sa.Column("deployment", sa.Text()),
        sa.Column("tier", sa.String(32)),
        sa.Column("task", sa.String(64)),
        sa.Column("budget", sa.Integer()),
        sa.Column("budget_scope", sa.String(32)),
        sa.Column("enforcement", sa.String(16)),
        sa.Column("status", sa.String(32), nullable=False, server_default="success"),
        sa.Column("thinking_tokens", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("answer_tokens", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("cut", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("continuation_call_id", sa.String(128)),
        sa.Column("energy_j", sa.Float()),
        sa.Column("energy_source", sa.String(32)),
        sa.Column("gpu_seconds", sa.Float()),
        sa.Column("cost_usd", sa.Float()),
        sa.Column("baseline_thinking_tokens", sa.Integer()),
        sa.Column("latency_ms", sa.Float()),
        sa.Column("prompt_text", sa.Text()),
        sa.Column("extra", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_request_records"),
        sa.UniqueConstraint("litellm_call_id", name="uq_request_records_litellm_call_id"),
        schema=schema,
    )
    op.create_index("ix_request_records_created_at", _TABLE, ["created_at"], schema=schema)
    op.create_index("ix_request_records_team_id_created_at", _TABLE, ["team_id", "created_at"], schema=schema)
    op.create_index("ix_request_records_api_key_hash_created_at", _TABLE, ["api_key_hash", "created_at"], schema=schema)
    op.create_index("ix_request_records_model_group_created_at", _TABLE, ["model_group", "created_at"], schema=schema)


def downgrade() -> None:
    schema = schema_for(op.get_bind().dialect.name)
    op.drop_table(_TABLE, schema=schema)

"""Apply the packaged Alembic migrations (and, on Postgres, the reporting views). Idempotent.

Concurrent upgrades (several proxies starting at once) serialise on a Postgres advisory lock.
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from thinkbudget_litellm.record.database_url import DatabaseTarget
from thinkbudget_litellm.record.engine import create_engine
from thinkbudget_litellm.record.models import VERSION_TABLE, schema_for
from thinkbudget_litellm.record.views import ViewsOutcome, install_views, quote_ident

SCRIPT_LOCATION = "thinkbudget_litellm.record:migrations"
_ADVISORY_LOCK_KEY = 0x7468696E6B  # "think"


@dataclass(frozen=True, slots=True)
class UpgradeResult:
    dialect: str
    database: str  # display URL, password masked
    revision_before: str | None
    revision_after: str | None
    views: ViewsOutcome
    notes: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.revision_before != self.revision_after


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current_revision(connection: Connection) -> str | None:
    context = MigrationContext.configure(
        connection,
        opts={"version_table": VERSION_TABLE, "version_table_schema": schema_for(connection.dialect.name)},
    )
    return context.get_current_revision()


def _upgrade_to_head(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade_database(target: DatabaseTarget, *, views: bool = True) -> UpgradeResult:
    """Bring schema ``thinkbudget`` to the newest revision; then (Postgres) re-create the views."""
    engine = create_engine(target, pool_size=1)
    notes: list[str] = list(target.notes)
    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
            before = await conn.run_sync(_current_revision)
            await conn.run_sync(_upgrade_to_head)
            after = await conn.run_sync(_current_revision)
            outcome = (
                await install_views(conn, target.litellm_schema)
                if views
                else ViewsOutcome(False, "views skipped (not requested)")
            )
            if outcome.created:
                index = await conn.execute(
                    text(
                        "SELECT 1 FROM pg_indexes WHERE schemaname = :schema "
                        "AND tablename = 'LiteLLM_SpendLogs' AND indexdef LIKE '%litellm_call_id%'"
                    ),
                    {"schema": target.litellm_schema},
                )
                if index.first() is None:
                    notes.append(
                        f'{quote_ident(target.litellm_schema)}."LiteLLM_SpendLogs" has no index on '
                        "litellm_call_id yet (LiteLLM builds it after its migrations); "
                        "joins on spend will be slow until it does"
                    )
    finally:
        await engine.dispose()
    return UpgradeResult(
        dialect=target.dialect,
        database=target.display,
        revision_before=before,
        revision_after=after,
        views=outcome,
        notes=tuple(notes),
    )

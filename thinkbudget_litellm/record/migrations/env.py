"""Alembic environment for thinkbudget's own schema.

Normally driven by :func:`thinkbudget_litellm.record.migrate.upgrade_database`, which hands over an
open connection in ``config.attributes["connection"]``. Run directly (``alembic -c ...``), it builds
an async engine from ``sqlalchemy.url``.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from thinkbudget_litellm.record.database_url import clean_database_url
from thinkbudget_litellm.record.engine import create_engine
from thinkbudget_litellm.record.models import SCHEMA, VERSION_TABLE, Base, schema_for

config = context.config


def _run_on(connection: Connection) -> None:
    schema = schema_for(connection.dialect.name)
    if schema is not None:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        version_table_schema=schema,
        include_schemas=True,
        include_name=lambda name, type_, _parent: type_ != "schema" or name == SCHEMA,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_standalone(url: str) -> None:
    engine = create_engine(clean_database_url(url))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run_on)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass a connection in config.attributes or set sqlalchemy.url")
    asyncio.run(_run_standalone(url))


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported; run `thinkbudget-litellm db upgrade`")
run_migrations_online()

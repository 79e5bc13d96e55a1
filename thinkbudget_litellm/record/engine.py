"""Build an async SQLAlchemy engine for a resolved :class:`DatabaseTarget` (the imperative shell)."""

from __future__ import annotations

import ssl
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from thinkbudget_litellm.record.database_url import DatabaseTarget, TlsRequest
from thinkbudget_litellm.record.models import SCHEMA


def _ssl_argument(tls: TlsRequest) -> ssl.SSLContext | str:
    """asyncpg takes libpq's sslmode names, or an SSLContext when a CA bundle is given."""
    if tls.root_cert is None or tls.mode in ("disable", "allow", "prefer"):
        return tls.mode
    context = ssl.create_default_context(cafile=tls.root_cert)
    if tls.mode == "require":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif tls.mode == "verify-ca":
        context.check_hostname = False
    return context


def create_engine(target: DatabaseTarget, *, pool_size: int = 2, echo: bool = False) -> AsyncEngine:
    """An AsyncEngine for ``target``; on SQLite the ``thinkbudget`` schema maps to the main database."""
    if target.dialect == "sqlite":
        engine = create_async_engine(
            target.url,
            echo=echo,
            connect_args={"timeout": 30},
            execution_options={"schema_translate_map": {SCHEMA: None}},
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    connect_args: dict[str, Any] = dict(target.connect_args)
    if target.tls is not None and target.driver == "asyncpg":
        connect_args["ssl"] = _ssl_argument(target.tls)  # psycopg: sslmode/sslrootcert travel in the URL
    return create_async_engine(
        target.url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=300,
        connect_args=connect_args,
    )

"""Which database the records go to, as a SQLAlchemy async URL: a pure function of the environment.

Order of precedence (first one present wins):

1. an explicit URL (``--url`` on the CLI, ``thinkbudget.database_url`` in LiteLLM's config.yaml);
2. ``THINKBUDGET_DATABASE_URL``;
3. LiteLLM's ``DATABASE_URL`` (a Prisma URL), cleaned of Prisma-only query parameters;
4. LiteLLM's discrete ``DATABASE_HOST`` / ``DATABASE_USER`` / ``DATABASE_NAME`` (+ ``DATABASE_PORT``,
   ``DATABASE_PASSWORD``, ``DATABASE_SCHEMA``, ``DATABASE_SSLMODE``, ``DATABASE_SSLROOTCERT``);
5. an embedded SQLite file: ``THINKBUDGET_SQLITE_PATH`` or ``./thinkbudget.sqlite``.

Postgres URLs are converted to the asyncpg driver (``postgresql+asyncpg://``) unless they already
name an async driver (``postgresql+asyncpg`` or ``postgresql+psycopg``). Prisma-only parameters
(``connection_limit``, ``pool_timeout``, ``pgbouncer``, ``statement_cache_size``, ``sslaccept``, ...)
are removed, and those with a driver equivalent are translated: ``connect_timeout`` -> asyncpg
``timeout``, ``socket_timeout`` -> ``command_timeout``, ``pgbouncer=true`` -> prepared-statement
caches off, ``schema`` -> the schema holding LiteLLM's tables (used by the views), ``sslmode`` /
``sslcert`` / ``sslrootcert`` / ``sslaccept`` -> one :class:`TlsRequest`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_SQLITE_PATH = "thinkbudget.sqlite"
DEFAULT_APPLICATION_NAME = "thinkbudget-litellm"

Dialect = Literal["postgresql", "sqlite"]
SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
_SSL_MODES: frozenset[str] = frozenset({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})

# Prisma's query engine understands these; no Python driver does (or means the same by them).
_PRISMA_ONLY: frozenset[str] = frozenset(
    {
        "connection_limit",
        "pool_timeout",
        "schema",
        "pgbouncer",
        "statement_cache_size",
        "sslaccept",
        "sslidentity",
        "sslpassword",
        "socket_timeout",
        "connect_timeout",
        "max_connection_lifetime",
        "max_idle_connection_lifetime",
        "single_use_connections",
    }
)
# libpq parameters that psycopg understands natively and asyncpg does not take as keywords.
_LIBPQ_TLS: frozenset[str] = frozenset({"sslmode", "sslcert", "sslrootcert", "sslkey"})
_ASYNC_POSTGRES_DRIVERS: frozenset[str] = frozenset({"asyncpg", "psycopg"})
_SYNC_POSTGRES_DRIVERS: frozenset[str] = frozenset({"", "psycopg2", "pg8000", "psycopg2cffi", "psycopg"})


class DatabaseUrlError(ValueError):
    """A database URL we cannot use; the message says which and why (never the password)."""


@dataclass(frozen=True, slots=True)
class TlsRequest:
    """How to secure a Postgres connection. ``root_cert`` is a CA bundle path (read by the engine factory)."""

    mode: SslMode
    root_cert: str | None = None


@dataclass(frozen=True, slots=True)
class DatabaseTarget:
    """A resolved database: SQLAlchemy async URL plus the driver keywords the URL cannot carry.

    ``url`` contains the password: log :attr:`display` instead.
    """

    url: str
    dialect: Dialect
    source: str  # argument | THINKBUDGET_DATABASE_URL | DATABASE_URL | DATABASE_HOST | sqlite-default
    litellm_schema: str = "public"
    connect_args: Mapping[str, Any] = field(default_factory=dict)
    tls: TlsRequest | None = None
    notes: tuple[str, ...] = ()

    @property
    def display(self) -> str:
        """The URL with the password masked, safe for logs and terminals."""
        return make_url(self.url).render_as_string(hide_password=True)

    @property
    def driver(self) -> str:
        return make_url(self.url).drivername.partition("+")[2]


def resolve_database_target(
    env: Mapping[str, str],
    url: str | None = None,
    *,
    default_sqlite_path: str = DEFAULT_SQLITE_PATH,
) -> DatabaseTarget:
    """Pick and clean the database URL following the module's order of precedence.

    Pure: ``env`` is the environment to read (pass ``os.environ``). Raises DatabaseUrlError for a URL
    that is neither Postgres nor SQLite, or that cannot be parsed.
    """
    if url is not None and url.strip():
        return clean_database_url(url.strip(), source="argument")
    own = env.get("THINKBUDGET_DATABASE_URL", "").strip()
    if own:
        return clean_database_url(own, source="THINKBUDGET_DATABASE_URL")
    litellm_url = env.get("DATABASE_URL", "").strip()
    if litellm_url:
        return clean_database_url(litellm_url, source="DATABASE_URL")
    discrete = _url_from_discrete_vars(env)
    if discrete is not None:
        return clean_database_url(discrete, source="DATABASE_HOST")
    path = env.get("THINKBUDGET_SQLITE_PATH", "").strip() or default_sqlite_path
    return clean_database_url(f"sqlite:///{path}", source="sqlite-default")


def clean_database_url(raw: str, *, source: str = "argument") -> DatabaseTarget:
    """Turn a Postgres (Prisma or libpq style) or SQLite URL into a :class:`DatabaseTarget`."""
    try:
        parsed = make_url(raw)
    except ArgumentError:
        raise DatabaseUrlError(f"{source}: not a database URL (expected postgresql://... or sqlite:///...)") from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":  # Heroku/Prisma spelling
        parsed = parsed.set(drivername="postgresql" + (f"+{driver}" if driver else ""))
        backend = "postgresql"
    if backend == "postgresql":
        return _clean_postgres(parsed, source)
    if backend == "sqlite":
        return _clean_sqlite(parsed, source)
    raise DatabaseUrlError(f"{source}: unsupported database {backend!r}; use PostgreSQL or SQLite")


def _clean_sqlite(parsed: URL, source: str) -> DatabaseTarget:
    driver = parsed.drivername.partition("+")[2]
    notes: tuple[str, ...] = ()
    if driver not in ("", "pysqlite", "aiosqlite"):
        notes = (f"sqlite driver {driver!r} replaced by aiosqlite",)
    parsed = parsed.set(drivername="sqlite+aiosqlite")
    return DatabaseTarget(
        url=parsed.render_as_string(hide_password=False), dialect="sqlite", source=source, notes=notes
    )


def _first(value: str | tuple[str, ...]) -> str:
    return value[0] if isinstance(value, tuple) else value


def _is_true(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


def _seconds(name: str, text: str, source: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DatabaseUrlError(f"{source}: {name}={text!r} is not a number of seconds") from None
    if value < 0:
        raise DatabaseUrlError(f"{source}: {name} must be >= 0, got {text!r}")
    return value


def _tls_from_query(query: Mapping[str, str], source: str) -> tuple[TlsRequest | None, list[str]]:
    notes: list[str] = []
    mode_text = query.get("sslmode", "").strip().lower()
    root_cert = query.get("sslrootcert") or query.get("sslcert")  # Prisma's sslcert is the server's CA
    if "sslcert" in query and "sslrootcert" not in query:
        notes.append("Prisma sslcert used as the root certificate (sslrootcert)")
    accept_invalid = query.get("sslaccept", "").strip().lower() == "accept_invalid_certs"
    if not mode_text:
        if root_cert:
            mode_text = "verify-full"
        else:
            return None, notes
    if mode_text not in _SSL_MODES:
        raise DatabaseUrlError(f"{source}: sslmode={mode_text!r} is not one of {sorted(_SSL_MODES)}")
    mode: SslMode = mode_text  # type: ignore[assignment]
    if mode == "require" and root_cert and not accept_invalid:
        mode = "verify-ca"
        notes.append("sslmode=require with a certificate (Prisma sslaccept=strict) -> verify-ca")
    if accept_invalid and mode in ("verify-ca", "verify-full"):
        mode = "require"
        notes.append("sslaccept=accept_invalid_certs -> sslmode=require (encrypted, not verified)")
    return TlsRequest(mode=mode, root_cert=root_cert or None), notes


def _clean_postgres(parsed: URL, source: str) -> DatabaseTarget:
    driver = parsed.drivername.partition("+")[2]
    if driver not in _ASYNC_POSTGRES_DRIVERS and driver not in _SYNC_POSTGRES_DRIVERS:
        raise DatabaseUrlError(f"{source}: unknown Postgres driver {driver!r}; use asyncpg or psycopg")
    # "postgresql+psycopg" is psycopg 3, which has an async mode; everything else becomes asyncpg.
    explicit_psycopg = parsed.drivername.endswith("+psycopg")
    target_driver = "psycopg" if explicit_psycopg else "asyncpg"
    notes: list[str] = []
    if driver and not parsed.drivername.endswith(f"+{target_driver}"):
        notes.append(f"driver {parsed.drivername!r} -> postgresql+{target_driver}")
    query = {k: _first(v) for k, v in parsed.query.items()}
    litellm_schema = query.get("schema", "").strip() or "public"
    tls, tls_notes = _tls_from_query(query, source)
    notes.extend(tls_notes)
    connect_args: dict[str, Any] = {}
    kept: dict[str, str] = {}
    server_settings: dict[str, str] = {"application_name": DEFAULT_APPLICATION_NAME}
    for key, value in query.items():
        if key == "connect_timeout":
            seconds = _seconds(key, value, source)
            connect_args["timeout" if target_driver == "asyncpg" else "connect_timeout"] = (
                seconds if target_driver == "asyncpg" else max(1, round(seconds))
            )
        elif key == "socket_timeout" and target_driver == "asyncpg":
            connect_args["command_timeout"] = _seconds(key, value, source)
        elif key == "pgbouncer" and _is_true(value):
            notes.append("pgbouncer=true -> prepared statement caches disabled")
            if target_driver == "asyncpg":
                connect_args["statement_cache_size"] = 0
                connect_args["prepared_statement_cache_size"] = 0
            else:
                connect_args["prepare_threshold"] = None
        elif key == "application_name":
            server_settings["application_name"] = value
        elif key in _PRISMA_ONLY:
            notes.append(f"dropped Prisma-only parameter {key}")
        elif key in _LIBPQ_TLS or key == "ssl":
            pass  # folded into ``tls``
        elif key == "host" or key == "port":
            kept[key] = value  # unix-socket directory / port given as query parameters
        elif target_driver == "psycopg":
            kept[key] = value  # libpq understands its own parameters (options, target_session_attrs, ...)
        else:
            notes.append(f"dropped parameter {key} (no asyncpg equivalent)")
    if "ssl" in query and tls is None:
        mode_text = query["ssl"].strip().lower()
        if mode_text in _SSL_MODES:
            tls = TlsRequest(mode=mode_text)  # type: ignore[arg-type]
        elif _is_true(mode_text):
            tls = TlsRequest(mode="require")
    if target_driver == "asyncpg":
        connect_args["server_settings"] = server_settings
    else:
        kept["application_name"] = server_settings["application_name"]
        if tls is not None:
            kept["sslmode"] = tls.mode
            if tls.root_cert:
                kept["sslrootcert"] = tls.root_cert
    cleaned = parsed.set(drivername=f"postgresql+{target_driver}", query=kept)
    return DatabaseTarget(
        url=cleaned.render_as_string(hide_password=False),
        dialect="postgresql",
        source=source,
        litellm_schema=litellm_schema,
        connect_args=connect_args,
        tls=tls,
        notes=tuple(notes),
    )


def _url_from_discrete_vars(env: Mapping[str, str]) -> str | None:
    host = env.get("DATABASE_HOST", "").strip()
    user = (env.get("DATABASE_USER") or env.get("DATABASE_USERNAME") or "").strip()
    name = env.get("DATABASE_NAME", "").strip()
    if not (host and user and name):
        return None
    password = env.get("DATABASE_PASSWORD", "")
    port = env.get("DATABASE_PORT", "").strip() or "5432"
    auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    params = [
        f"{key}={quote(value, safe='')}"
        for key, value in (
            ("schema", env.get("DATABASE_SCHEMA", "").strip()),
            ("sslmode", env.get("DATABASE_SSLMODE", "").strip()),
            ("sslrootcert", env.get("DATABASE_SSLROOTCERT", "").strip()),
        )
        if value
    ]
    query = "?" + "&".join(params) if params else ""
    return f"postgresql://{auth}@{host}:{port}/{quote(name, safe='')}{query}"

"""Connection resolution: precedence, Prisma parameter cleaning, driver conversion, TLS translation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from thinkbudget_litellm.record.database_url import (
    DatabaseUrlError,
    TlsRequest,
    clean_database_url,
    resolve_database_target,
)

PRISMA = "postgresql://llm:s3cr%40t@db.internal:5432/litellm"


def test_precedence_explicit_then_own_env_then_litellm_then_sqlite() -> None:
    env = {"THINKBUDGET_DATABASE_URL": "postgresql://a@h1/own", "DATABASE_URL": "postgresql://b@h2/litellm"}
    assert make_url(resolve_database_target(env, "postgresql://c@h3/cli").url).database == "cli"
    assert resolve_database_target(env).source == "THINKBUDGET_DATABASE_URL"
    assert make_url(resolve_database_target(env).url).database == "own"
    only_litellm = {"DATABASE_URL": "postgresql://b@h2/litellm"}
    assert resolve_database_target(only_litellm).source == "DATABASE_URL"
    fallback = resolve_database_target({})
    assert fallback.dialect == "sqlite"
    assert fallback.url == "sqlite+aiosqlite:///thinkbudget.sqlite"
    assert resolve_database_target({"THINKBUDGET_SQLITE_PATH": "/var/tb.db"}).url == "sqlite+aiosqlite:////var/tb.db"


def test_blank_values_are_ignored() -> None:
    assert resolve_database_target({"THINKBUDGET_DATABASE_URL": "  ", "DATABASE_URL": ""}, "  ").dialect == "sqlite"


def test_prisma_parameters_are_removed_and_translated() -> None:
    raw = (
        PRISMA + "?connection_limit=10&pool_timeout=20&schema=litellm&pgbouncer=true&statement_cache_size=0"
        "&socket_timeout=30&connect_timeout=5&sslaccept=strict&application_name=proxy"
    )
    target = clean_database_url(raw, source="DATABASE_URL")
    url = make_url(target.url)
    assert url.drivername == "postgresql+asyncpg"
    assert dict(url.query) == {}
    assert url.password == "s3cr@t"
    assert url.host == "db.internal" and url.port == 5432 and url.database == "litellm"
    assert target.litellm_schema == "litellm"
    assert target.connect_args["timeout"] == 5.0
    assert target.connect_args["command_timeout"] == 30.0
    assert target.connect_args["statement_cache_size"] == 0
    assert target.connect_args["prepared_statement_cache_size"] == 0
    assert target.connect_args["server_settings"] == {"application_name": "proxy"}
    assert "s3cr" not in target.display
    assert any("connection_limit" in note for note in target.notes)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", None),
        ("?sslmode=disable", TlsRequest("disable")),
        ("?sslmode=prefer", TlsRequest("prefer")),
        ("?sslmode=require", TlsRequest("require")),
        ("?sslmode=require&sslcert=/ca.pem", TlsRequest("verify-ca", "/ca.pem")),
        ("?sslmode=require&sslcert=/ca.pem&sslaccept=accept_invalid_certs", TlsRequest("require", "/ca.pem")),
        ("?sslmode=verify-full&sslrootcert=/ca.pem", TlsRequest("verify-full", "/ca.pem")),
        ("?sslrootcert=/ca.pem", TlsRequest("verify-full", "/ca.pem")),
        ("?ssl=require", TlsRequest("require")),
    ],
)
def test_sslmode_translation(query: str, expected: TlsRequest | None) -> None:
    target = clean_database_url(PRISMA + query)
    assert target.tls == expected
    assert dict(make_url(target.url).query) == {}


def test_psycopg_keeps_libpq_parameters() -> None:
    target = clean_database_url(
        "postgresql+psycopg://u@h/db?sslmode=require&connection_limit=3&target_session_attrs=read-write"
    )
    query = dict(make_url(target.url).query)
    assert make_url(target.url).drivername == "postgresql+psycopg"
    assert query["sslmode"] == "require"
    assert query["target_session_attrs"] == "read-write"
    assert "connection_limit" not in query


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg2", "postgresql+asyncpg"])
def test_postgres_schemes_become_asyncpg(scheme: str) -> None:
    assert make_url(clean_database_url(f"{scheme}://u@h/db").url).drivername == "postgresql+asyncpg"


def test_unix_socket_host_parameter_survives() -> None:
    url = make_url(clean_database_url("postgresql://u@/db?host=/var/run/postgresql&schema=public").url)
    assert url.query == {"host": "/var/run/postgresql"}


def test_litellm_discrete_variables() -> None:
    env = {
        "DATABASE_HOST": "pg",
        "DATABASE_USERNAME": "llm",
        "DATABASE_PASSWORD": "p@ss word",
        "DATABASE_NAME": "litellm",
        "DATABASE_SCHEMA": "ls",
        "DATABASE_SSLMODE": "require",
    }
    target = resolve_database_target(env)
    url = make_url(target.url)
    assert target.source == "DATABASE_HOST"
    assert (url.host, url.port, url.username, url.password, url.database) == (
        "pg",
        5432,
        "llm",
        "p@ss word",
        "litellm",
    )
    assert target.litellm_schema == "ls"
    assert target.tls == TlsRequest("require")


@pytest.mark.parametrize(
    "bad",
    ["mysql://u@h/db", "not a url", "postgresql+pg9000://u@h/db", "postgresql://u@h/db?connect_timeout=soon"],
)
def test_bad_urls_raise_a_clear_error(bad: str) -> None:
    with pytest.raises(DatabaseUrlError) as info:
        clean_database_url(bad, source="DATABASE_URL")
    assert "DATABASE_URL" in str(info.value)


def test_bad_sslmode_is_an_error() -> None:
    with pytest.raises(DatabaseUrlError, match="sslmode"):
        clean_database_url(PRISMA + "?sslmode=sometimes")


_PRISMA_KEYS = [
    "connection_limit",
    "pool_timeout",
    "schema",
    "pgbouncer",
    "statement_cache_size",
    "sslaccept",
]


@given(
    params=st.dictionaries(
        st.sampled_from([*_PRISMA_KEYS, "socket_timeout", "connect_timeout", "sslidentity", "sslpassword"]),
        st.integers(min_value=0, max_value=999).map(str),
    )
)
def test_cleaned_asyncpg_url_never_carries_prisma_parameters(params: dict[str, str]) -> None:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    target = clean_database_url(f"{PRISMA}?{query}" if query else PRISMA)
    assert dict(make_url(target.url).query) == {}
    leaked = set(target.connect_args) & set(_PRISMA_KEYS)
    if target.connect_args.get("statement_cache_size") == 0 and "pgbouncer" in params:
        # pgbouncer=true is translated on purpose into asyncpg's own (same-named) cache switch
        leaked.discard("statement_cache_size")
    assert not leaked


def test_sqlite_urls_use_aiosqlite() -> None:
    assert clean_database_url("sqlite:///x.db").url == "sqlite+aiosqlite:///x.db"
    assert clean_database_url("sqlite+aiosqlite:////abs/x.db").dialect == "sqlite"

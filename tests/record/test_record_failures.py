"""Which insert failures mean "database unavailable" and which "bad row", and bisecting a batch. Pure."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import exc as sa_exc

from thinkbudget_litellm.record.failures import FailureKind, classify_failure, insert_isolating

ROW, DOWN = FailureKind.ROW_DATA, FailureKind.UNAVAILABLE


class DriverError(Exception):
    """What asyncpg's adapted errors and psycopg's errors look like: a ``sqlstate``."""

    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def wrapped(orig: BaseException, cls: type[sa_exc.DBAPIError] = sa_exc.DBAPIError, **kw: bool) -> sa_exc.DBAPIError:
    """As SQLAlchemy raises it: the driver's error in ``orig`` (asyncpg's: always a plain DBAPIError)."""
    error = cls("INSERT INTO thinkbudget.request_records ...", {}, orig, **kw)
    error.__cause__ = orig
    return error


def sqlite_error(cls: type[sqlite3.Error], code: int) -> sqlite3.Error:
    error = cls("sqlite says no")
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        # asyncpg: a NUL byte, JSONB \u0000, an unencodable argument, too long, CHECK violation
        (wrapped(DriverError('invalid byte sequence for encoding "UTF8": 0x00', "22021")), ROW),
        (wrapped(DriverError("unsupported Unicode escape sequence", "22P05")), ROW),
        (wrapped(DriverError("invalid input for query argument $6", "22000")), ROW),
        (wrapped(DriverError("value too long for type character varying(32)", "22001")), ROW),
        (wrapped(DriverError("violates check constraint", "23514"), sa_exc.IntegrityError), ROW),
        (wrapped(DriverError("index row size exceeds maximum", "54000")), ROW),
        # the database, not the rows
        (wrapped(DriverError('relation "request_records" does not exist', "42P01"), sa_exc.ProgrammingError), DOWN),
        (wrapped(DriverError("permission denied for table", "42501"), sa_exc.ProgrammingError), DOWN),
        (wrapped(DriverError("terminating connection due to administrator command", "57P01")), DOWN),
        (wrapped(DriverError("the database system is starting up", "57P03")), DOWN),
        (wrapped(DriverError("could not extend file: No space left on device", "53100")), DOWN),
        (wrapped(DriverError("too many connections", "53300")), DOWN),
        (wrapped(DriverError("cannot execute INSERT in a read-only transaction", "25006")), DOWN),
        (wrapped(DriverError("deadlock detected", "40P01")), DOWN),
        (wrapped(DriverError("connection failure", "08006")), DOWN),
        (wrapped(DriverError("server closed the connection", None), connection_invalidated=True), DOWN),
        (ConnectionRefusedError(111, "Connect call failed"), DOWN),
        (ConnectionResetError(104, "reset by peer"), DOWN),
        (TimeoutError(), DOWN),
        (sa_exc.TimeoutError("QueuePool limit reached"), DOWN),
        (wrapped(DriverError("connection is closed", None), sa_exc.InterfaceError), DOWN),
        (wrapped(DriverError("server closed the connection unexpectedly", None), sa_exc.OperationalError), DOWN),
        # SQLite
        (wrapped(sqlite_error(sqlite3.OperationalError, 1), sa_exc.OperationalError), DOWN),  # no such table
        (wrapped(sqlite_error(sqlite3.OperationalError, 5), sa_exc.OperationalError), DOWN),  # busy
        (wrapped(sqlite_error(sqlite3.OperationalError, 13), sa_exc.OperationalError), DOWN),  # disk full
        (wrapped(sqlite_error(sqlite3.IntegrityError, 275), sa_exc.IntegrityError), ROW),  # CHECK
        (wrapped(sqlite_error(sqlite3.DataError, 18), sa_exc.DataError), ROW),  # too big
        # the driver could not encode a value (psycopg raises it unwrapped)
        (UnicodeEncodeError("utf-8", "a\udc80", 1, 2, "surrogates not allowed"), ROW),
        (wrapped(DriverError("PostgreSQL text fields cannot contain NUL (0x00) bytes", None), sa_exc.DataError), ROW),
        (TypeError("not JSON serializable"), ROW),
        # anything else is the data's problem
        (RuntimeError("something unexpected"), ROW),
        (wrapped(DriverError("generic", None)), ROW),
    ],
)
def test_classify_failure(error: BaseException, kind: FailureKind) -> None:
    assert classify_failure(error) is kind


def test_a_connection_error_anywhere_in_the_chain_means_unavailable() -> None:
    try:
        try:
            raise ConnectionResetError(104, "reset")
        except ConnectionResetError as reset:
            raise wrapped(DriverError("while inserting", "22021")) from reset
    except sa_exc.DBAPIError as error:
        assert classify_failure(error) is DOWN


class FakeTable:
    """An idempotent insert that refuses any chunk holding a bad row (like one transaction would)."""

    def __init__(self, bad: set[int], down_after: int | None = None) -> None:
        self.bad = bad
        self.rows: list[int] = []
        self.calls = 0
        self.down_after = down_after

    async def insert(self, chunk: Sequence[int]) -> None:
        self.calls += 1
        if self.down_after is not None and self.calls > self.down_after:
            raise ConnectionRefusedError(111, "refused")
        if self.bad.intersection(chunk):
            raise wrapped(DriverError("bad row", "22021"))
        self.rows.extend(r for r in chunk if r not in self.rows)


@given(st.integers(1, 600), st.sets(st.integers(0, 599), max_size=8))
def test_insert_isolating_sets_aside_exactly_the_bad_rows_and_writes_the_rest_in_order(
    size: int, bad: set[int]
) -> None:
    bad = {b for b in bad if b < size}
    table = FakeTable(bad)
    rows = list(range(size))
    refused = asyncio.run(insert_isolating(rows, table.insert))
    assert [r.row for r in refused] == sorted(bad) and [r.index for r in refused] == sorted(bad)
    assert table.rows == [r for r in rows if r not in bad]
    if len(bad) == 1:
        assert table.calls <= 2 * size.bit_length() + 1  # a bisection, not one insert per row


def test_insert_isolating_raises_when_the_database_goes_away_mid_way() -> None:
    table = FakeTable({7}, down_after=3)
    with pytest.raises(ConnectionRefusedError):
        asyncio.run(insert_isolating(list(range(100)), table.insert))
    # what went in stays in; a retry (the same idempotent insert) completes the batch
    table.down_after = None
    refused = asyncio.run(insert_isolating(list(range(100)), table.insert))
    assert [r.row for r in refused] == [7] and sorted(table.rows) == [r for r in range(100) if r != 7]


def test_insert_isolating_with_nothing_to_insert() -> None:
    table = FakeTable(set())
    assert asyncio.run(insert_isolating([], table.insert)) == [] and table.calls == 0

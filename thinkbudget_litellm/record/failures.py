"""Why an insert failed, and inserting a batch so that one bad row cannot hold back the others. Pure.

A failed insert is either

* ``UNAVAILABLE``: the database cannot take rows right now (connection refused or lost, timeouts,
  the table not created yet, no permission, read-only, out of disk or connections, a deadlock):
  retry the same rows later, set nothing aside;
* ``ROW_DATA``: something in the rows (a value the column cannot hold, a CHECK or NOT NULL
  violation, a value the driver cannot encode): find the rows that fail on their own.

:func:`classify_failure` decides from the SQLSTATE when the driver reports one (class 22 data
exception, 23 integrity violation and 54 program limit are row data; every other class is the
database), from SQLite's error code, from connection-level exception types, and otherwise calls it
row data. asyncpg reports even a NUL byte as a generic ``DBAPIError``, so the exception class alone
says little.

:func:`insert_isolating` bisects a failing batch down to the rows that fail alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from sqlalchemy import exc as sa_exc

T = TypeVar("T")


class FailureKind(StrEnum):
    UNAVAILABLE = "unavailable"  # retry the batch later, whole
    ROW_DATA = "row_data"  # some row cannot be stored: isolate it


# SQLSTATE classes that describe the rows, not the database (https://www.postgresql.org/docs/current/errcodes-appendix.html)
_ROW_SQLSTATE_CLASSES = frozenset({"22", "23", "54"})
# SQLite primary result codes that describe the row: CONSTRAINT, TOOBIG, MISMATCH, RANGE.
_ROW_SQLITE_CODES = frozenset({19, 18, 20, 25})
_MAX_CHAIN = 12


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error``, the driver error SQLAlchemy wraps, and their causes/contexts (each once)."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending and len(seen) < _MAX_CHAIN:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for linked in (getattr(current, "orig", None), current.__cause__, current.__context__):
            if isinstance(linked, BaseException):
                pending.append(linked)


def _sqlstate(error: BaseException) -> str | None:
    for attribute in ("sqlstate", "pgcode"):
        value = getattr(error, attribute, None)
        if isinstance(value, str) and len(value) == 5:
            return value
    return None


def classify_failure(error: BaseException) -> FailureKind:
    """Whether ``error`` from an INSERT means "database unavailable" or "bad row data"."""
    chain = list(_chain(error))
    for link in chain:
        if isinstance(link, sa_exc.DBAPIError) and link.connection_invalidated:
            return FailureKind.UNAVAILABLE
        if isinstance(link, OSError | sa_exc.DisconnectionError | sa_exc.TimeoutError):
            return FailureKind.UNAVAILABLE  # refused, reset, closed, timed out, name resolution
    for link in chain:
        state = _sqlstate(link)
        if state is not None:
            return FailureKind.ROW_DATA if state[:2] in _ROW_SQLSTATE_CLASSES else FailureKind.UNAVAILABLE
    for link in chain:
        code = getattr(link, "sqlite_errorcode", None)
        if isinstance(code, int):
            return FailureKind.ROW_DATA if code & 0xFF in _ROW_SQLITE_CODES else FailureKind.UNAVAILABLE
    for link in chain:
        if isinstance(link, UnicodeError | ValueError | TypeError | OverflowError):
            return FailureKind.ROW_DATA  # the driver could not encode a value
    for link in chain:
        if isinstance(link, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.InternalError):
            return FailureKind.UNAVAILABLE  # connection state, server trouble (no SQLSTATE to say more)
    return FailureKind.ROW_DATA


@dataclass(frozen=True, slots=True)
class Refused(Generic[T]):
    """A row that failed on its own, at ``index`` in the batch."""

    index: int
    row: T
    error: BaseException


async def insert_isolating(
    rows: Sequence[T],
    insert: Callable[[Sequence[T]], Awaitable[None]],
    classify: Callable[[BaseException], FailureKind] = classify_failure,
) -> list[Refused[T]]:
    """Insert ``rows`` with ``insert`` (one transaction per call); the rows that fail on their own.

    A failing slice is split in halves until the rows that still fail are single; a failure that
    ``classify`` calls ``UNAVAILABLE`` is raised at once (slices inserted before stay inserted, so
    ``insert`` must be idempotent, e.g. ``ON CONFLICT DO NOTHING``). With one bad row in ``n``,
    that is about ``2 * log2(n)`` extra round trips.
    """
    refused: list[Refused[T]] = []
    pending: list[tuple[int, int]] = [(0, len(rows))] if rows else []
    while pending:
        start, stop = pending.pop()
        try:
            await insert(rows[start:stop])
            continue
        except Exception as error:
            if classify(error) is FailureKind.UNAVAILABLE:
                raise
            if stop - start == 1:
                refused.append(Refused(start, rows[start], error))
                continue
        middle = (start + stop) // 2
        pending.append((middle, stop))  # popped after the first half: rows go in order
        pending.append((start, middle))
    refused.sort(key=lambda r: r.index)
    return refused

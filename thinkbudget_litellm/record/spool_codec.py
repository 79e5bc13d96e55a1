"""Spool line format: one RequestRecord as one JSON line, and back to a database row. Pure.

The accepted JSON types of each column follow from the record's column definitions
(:func:`thinkbudget_litellm.record.request_record.record_columns`). A decoded line becomes a
:class:`RequestRecord` before it becomes a row, so lines written by an older version (e.g. holding a
NUL, which JSON escapes as ``\\u0000``) are made storable exactly like new records.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from thinkbudget_litellm.record.request_record import (
    RECORD_FIELD_NAMES,
    ColumnKind,
    RecordColumn,
    RequestRecord,
    record_columns,
)

# Column kind -> accepted Python types after JSON decoding (None is accepted for every column).
_JSON_TYPES: dict[ColumnKind, tuple[type, ...]] = {
    ColumnKind.TEXT: (str,),
    ColumnKind.INTEGER: (int,),
    ColumnKind.FLOAT: (int, float),
    ColumnKind.BOOLEAN: (bool,),
    ColumnKind.JSON: (dict,),
}
_INT32_MAX = 2**31 - 1
_COLUMNS: tuple[RecordColumn, ...] = tuple(c for c in record_columns() if c.kind is not ColumnKind.TIMESTAMP)
_TIMESTAMPS: tuple[str, ...] = tuple(c.name for c in record_columns() if c.kind is ColumnKind.TIMESTAMP)


class SpoolFormatError(ValueError):
    """A spool line that cannot become a row (torn write, foreign file, wrong types)."""


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def encode_record(record: RequestRecord) -> bytes:
    """One spool line (newline-terminated). Never raises for odd ``extra`` values: they become strings."""
    # Not dataclasses.asdict: its recursive deep copy costs ~150 us per record; json.dumps walks ``extra``.
    row = {name: getattr(record, name) for name in RECORD_FIELD_NAMES}
    for name in _TIMESTAMPS:
        moment = row[name]
        if isinstance(moment, datetime):
            row[name] = _as_utc(moment).isoformat()
    return json.dumps(row, default=_json_default, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def decode_record(line: bytes) -> RequestRecord:
    """A spool line -> the (storable) record it holds (unknown keys ignored)."""
    try:
        raw = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise SpoolFormatError(f"not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise SpoolFormatError("not a JSON object")
    call_id = raw.get("litellm_call_id")
    if not isinstance(call_id, str) or not call_id:
        raise SpoolFormatError("litellm_call_id missing or not a string")
    values: dict[str, Any] = {}
    for name in _TIMESTAMPS:
        text = raw.get(name)
        if not isinstance(text, str):
            raise SpoolFormatError(f"{call_id}: {name} missing")
        try:
            values[name] = _as_utc(datetime.fromisoformat(text))
        except ValueError:
            raise SpoolFormatError(f"{call_id}: {name} {text!r} is not ISO 8601") from None
    for column in _COLUMNS:
        value: Any = raw.get(column.name)
        if value is None:
            if not column.nullable:
                values[column.name] = column.default
            continue
        types = _JSON_TYPES[column.kind]
        if not isinstance(value, types) or (column.kind is not ColumnKind.BOOLEAN and isinstance(value, bool)):
            raise SpoolFormatError(f"{call_id}: {column.name} has type {type(value).__name__}")
        values[column.name] = _checked(call_id, column, value)
    return RequestRecord(**values)


def _checked(call_id: str, column: RecordColumn, value: Any) -> Any:
    if column.kind is ColumnKind.INTEGER and not -_INT32_MAX <= value <= _INT32_MAX:
        raise SpoolFormatError(f"{call_id}: {column.name}={value} out of range")
    return float(value) if column.kind is ColumnKind.FLOAT else value


def record_row(record: RequestRecord) -> dict[str, Any]:
    """The record as a row for ``thinkbudget.request_records`` (plain values, no deep copy)."""
    row = {name: getattr(record, name) for name in RECORD_FIELD_NAMES}
    row["status"] = str(row["status"])
    return row


def decode_line(line: bytes) -> dict[str, Any]:
    """A spool line -> a row for ``thinkbudget.request_records`` (unknown keys ignored)."""
    return record_row(decode_record(line))

"""Spool line format: one RequestRecord as one JSON line, and back to a database row. Pure."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from thinkbudget_litellm.record.request_record import RequestRecord

# Column -> accepted Python types after JSON decoding (None is always accepted unless listed below).
_STR = (str,)
_INT = (int,)
_NUM = (int, float)
_COLUMN_TYPES: dict[str, tuple[type, ...]] = {
    "litellm_call_id": _STR,
    "api_key_hash": _STR,
    "key_alias": _STR,
    "team_id": _STR,
    "user_id": _STR,
    "end_user": _STR,
    "session_id": _STR,
    "model_group": _STR,
    "deployment": _STR,
    "tier": _STR,
    "task": _STR,
    "budget": _INT,
    "budget_scope": _STR,
    "enforcement": _STR,
    "status": _STR,
    "thinking_tokens": _INT,
    "answer_tokens": _INT,
    "prompt_tokens": _INT,
    "cut": (bool,),
    "continuation_call_id": _STR,
    "energy_j": _NUM,
    "energy_source": _STR,
    "gpu_seconds": _NUM,
    "cost_usd": _NUM,
    "baseline_thinking_tokens": _INT,
    "latency_ms": _NUM,
    "prompt_text": _STR,
    "extra": (dict,),
}
_NOT_NULL_DEFAULTS: dict[str, Any] = {
    "status": "success",
    "thinking_tokens": 0,
    "answer_tokens": 0,
    "prompt_tokens": 0,
    "cut": False,
    "extra": {},
}
_INT32_MAX = 2**31 - 1


class SpoolFormatError(ValueError):
    """A spool line that cannot become a row (torn write, foreign file, wrong types)."""


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(RequestRecord))


def encode_record(record: RequestRecord) -> bytes:
    """One spool line (newline-terminated). Never raises for odd ``extra`` values: they become strings."""
    # Not dataclasses.asdict: its recursive deep copy costs ~150 us per record; json.dumps walks ``extra``.
    row = {name: getattr(record, name) for name in _FIELDS}
    created = row["created_at"]
    if isinstance(created, datetime):
        row["created_at"] = _as_utc(created).isoformat()
    return json.dumps(row, default=_json_default, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def decode_line(line: bytes) -> dict[str, Any]:
    """A spool line -> a row for ``thinkbudget.request_records`` (unknown keys ignored)."""
    try:
        raw = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SpoolFormatError(f"not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise SpoolFormatError("not a JSON object")
    call_id = raw.get("litellm_call_id")
    if not isinstance(call_id, str) or not call_id:
        raise SpoolFormatError("litellm_call_id missing or not a string")
    created_text = raw.get("created_at")
    if not isinstance(created_text, str):
        raise SpoolFormatError(f"{call_id}: created_at missing")
    try:
        created_at = _as_utc(datetime.fromisoformat(created_text))
    except ValueError:
        raise SpoolFormatError(f"{call_id}: created_at {created_text!r} is not ISO 8601") from None
    row: dict[str, Any] = {"created_at": created_at}
    for column, types in _COLUMN_TYPES.items():
        value = raw.get(column)
        if value is None:
            row[column] = _NOT_NULL_DEFAULTS.get(column)
            continue
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            raise SpoolFormatError(f"{call_id}: {column} has type {type(value).__name__}")
        if types is _INT and isinstance(value, int) and not -_INT32_MAX <= value <= _INT32_MAX:
            raise SpoolFormatError(f"{call_id}: {column}={value} out of range")
        row[column] = float(value) if types is _NUM and isinstance(value, int | float) else value
    return row

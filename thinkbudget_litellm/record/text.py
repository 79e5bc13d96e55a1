"""Make caller-supplied values storable in Postgres (text and JSONB) and SQLite. Pure.

Postgres refuses some values whatever the column: a NUL code point in ``text`` ("invalid byte sequence
for encoding UTF8: 0x00") or in JSONB (``\\u0000`` "unsupported Unicode escape sequence"), a lone
surrogate (not encodable as UTF-8 at all), ``NaN``/``Infinity`` in JSON, a key that is not a string.
Length limits come from the column (``varchar(n)``) or from the index on it (a btree entry holds
at most ~2.7 kB). One such value from a client (``"user": "a\\u0000b"``) used to stop every later
record, so every text value of a record passes through here when the record is built.

* :func:`storable_text` escapes NUL and lone surrogates as the six characters ``\\u0000`` /
  ``\\udc80`` and shortens an over-long value to ``max_chars``, ending it in ``…`` and 8 hex
  digits of the SHA-256 of the whole (escaped) value, so distinct long values stay distinct.
* :func:`storable_json` rebuilds a JSON document with string keys, storable strings, finite numbers,
  bounded depth and size; anything else becomes its ``str()`` (a ``datetime`` its ISO form, a
  set or tuple a list).

Both are idempotent: a value that went through them once comes back unchanged.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
ELLIPSIS = "…"
_DIGEST_CHARS = 8

JSON_KEY_MAX_CHARS = 256
JSON_TEXT_MAX_CHARS = 4096
JSON_MAX_DEPTH = 16
JSON_MAX_ITEMS = 1000  # per object or array, counting the marker that says how many were left out
JSON_ELIDED_KEY = "…elided"  # key holding how many items of an object were left out
_INT64_BITS = 63
_INT_TEXT_MAX_BITS = 10_000  # int -> str is safe (Python refuses > 4,300 decimal digits)


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def storable_text(value: str, max_chars: int) -> str:
    """``value`` with NUL and lone surrogates escaped, at most ``max_chars`` long."""
    if not isinstance(value, str):  # a caller's object where text belongs: keep what it says
        value = _safe_str(value)
    if _UNSTORABLE.search(value) is not None:
        value = _UNSTORABLE.sub(_escape, value)
    if len(value) <= max_chars:
        return value
    return _shorten(value, max_chars)


def _shorten(value: str, max_chars: int) -> str:
    suffix_len = 1 + _DIGEST_CHARS
    if max_chars <= suffix_len:
        return value[:max_chars]
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:_DIGEST_CHARS]
    return value[: max_chars - suffix_len] + ELLIPSIS + digest


def storable_json(value: Any, *, depth: int = 0) -> Any:
    """A JSON value Postgres JSONB and SQLite JSON both store: see the module docstring."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return storable_text(value, JSON_TEXT_MAX_CHARS)
    if isinstance(value, int):
        return _storable_int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if depth >= JSON_MAX_DEPTH:
        return storable_text(_safe_str(value), JSON_TEXT_MAX_CHARS)
    if isinstance(value, Mapping):
        return _storable_object(value, depth)
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value)
        if len(items) <= JSON_MAX_ITEMS:
            return [storable_json(item, depth=depth + 1) for item in items]
        kept = [storable_json(item, depth=depth + 1) for item in items[: JSON_MAX_ITEMS - 1]]
        return [*kept, f"{ELLIPSIS}{len(items) - len(kept)} more"]
    return storable_text(_safe_str(value), JSON_TEXT_MAX_CHARS)


def storable_object(value: Mapping[Any, Any]) -> dict[str, Any]:
    """A JSON object (e.g. a record's ``extra``): :func:`storable_json` of each key and value."""
    return _storable_object(value, 0)


def _storable_object(value: Mapping[Any, Any], depth: int) -> dict[str, Any]:
    keep = len(value) if len(value) <= JSON_MAX_ITEMS else JSON_MAX_ITEMS - 1
    out: dict[str, Any] = {}
    for index, (key, item) in enumerate(value.items()):
        if index >= keep:
            break
        name = storable_text(key if isinstance(key, str) else _safe_str(key), JSON_KEY_MAX_CHARS)
        out[name] = storable_json(item, depth=depth + 1)
    if keep < len(value):
        out[JSON_ELIDED_KEY] = len(value) - keep
    return out


def _storable_int(value: int) -> int | str:
    bits = value.bit_length()
    if bits <= _INT64_BITS:
        return int(value)  # an IntEnum or other int subclass as a plain int
    if bits <= _INT_TEXT_MAX_BITS:
        return storable_text(str(int(value)), JSON_TEXT_MAX_CHARS)
    return f"<integer of {bits} bits>"


def _safe_str(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # a caller's object whose __str__ fails: say what it was
        return f"<unprintable {type(value).__name__}>"

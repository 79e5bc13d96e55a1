"""Records are storable from the moment they exist: NUL, lone surrogates, over-long text, odd JSON. Pure."""

from __future__ import annotations

import json
import math
from dataclasses import fields
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.record.record_builders import make_record
from thinkbudget_litellm.record.models import request_records
from thinkbudget_litellm.record.request_record import (
    IDENTIFIER_MAX_CHARS,
    ColumnKind,
    RequestRecord,
    RequestStatus,
    record_columns,
)
from thinkbudget_litellm.record.spool_codec import decode_line, decode_record, encode_record
from thinkbudget_litellm.record.text import (
    ELLIPSIS,
    JSON_ELIDED_KEY,
    JSON_KEY_MAX_CHARS,
    JSON_MAX_DEPTH,
    JSON_MAX_ITEMS,
    JSON_TEXT_MAX_CHARS,
    storable_json,
    storable_text,
)

HOSTILE_FIELDS = ("user_id", "end_user", "session_id", "model_group", "key_alias", "team_id", "deployment")


def _storable(text: str) -> bool:
    """What Postgres takes in a text column and in JSONB: no NUL, valid UTF-8."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _all_strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_all_strings(k), *_all_strings(v))]
    if isinstance(value, list):
        return [s for item in value for s in _all_strings(item)]
    return []


def test_nul_and_lone_surrogates_are_escaped_visibly() -> None:
    assert storable_text("a\x00b", 100) == "a\\u0000b"
    assert storable_text("x\udc80y\ud800", 100) == "x\\udc80y\\ud800"
    assert storable_text("plain ascii", 100) == "plain ascii"
    assert storable_text("naïve 名前 🙂", 100) == "naïve 名前 🙂"  # real non-ASCII is kept as it is


def test_over_long_text_is_cut_to_the_limit_and_stays_distinct() -> None:
    a, b = "u" * 5000 + "a", "u" * 5000 + "b"
    cut_a, cut_b = storable_text(a, 512), storable_text(b, 512)
    assert len(cut_a) == len(cut_b) == 512
    assert cut_a.startswith("u" * 100) and ELLIPSIS in cut_a
    assert cut_a != cut_b  # a digest of the whole value ends it
    assert storable_text("abcdefghijkl", 4) == "abcd"  # too short a limit for a digest: plain cut
    assert storable_text("\x00" * 200, 128) == storable_text(storable_text("\x00" * 200, 128), 128)
    assert len(storable_text("\x00" * 200, 128)) == 128  # escaping first, then the bound


@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())), st.integers(1, 300))
def test_storable_text_is_storable_bounded_and_idempotent(value: str, limit: int) -> None:
    once = storable_text(value, limit)
    assert _storable(once) and len(once) <= limit
    assert storable_text(once, limit) == once


_json_leaf = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=20)
)
_json_value = st.recursive(
    _json_leaf,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=8), children)
    ),
    max_leaves=30,
)


@given(_json_value)
def test_storable_json_is_storable_and_idempotent(value: object) -> None:
    once = storable_json(value)
    text = json.dumps(once, allow_nan=False, ensure_ascii=False)  # NaN/Infinity would raise here
    assert _storable(text)
    assert all(_storable(s) for s in _all_strings(once))
    assert storable_json(once) == once


def test_storable_json_handles_odd_keys_values_depth_and_size() -> None:
    deep: dict[str, object] = {}
    node = deep
    for _ in range(JSON_MAX_DEPTH + 5):
        node["d"] = {}
        node = node["d"]  # type: ignore[assignment]
    value = {
        1: "int key",
        ("t", 1): "tuple key",
        "k\x00" + "x" * 1000: "long key with NUL",
        "nan": float("nan"),
        "inf": float("-inf"),
        "big": 10**40,
        "huge": 1 << 20_000,
        "when": datetime(2026, 1, 1, tzinfo=UTC),
        "many": list(range(JSON_MAX_ITEMS + 10)),
        "wide": {str(i): i for i in range(JSON_MAX_ITEMS + 10)},
        "deep": deep,
        "obj": object(),
        "long": "v" * (JSON_TEXT_MAX_CHARS + 10),
    }
    out = storable_json(value)
    assert out["1"] == "int key" and out["('t', 1)"] == "tuple key"
    long_key = next(k for k in out if k.startswith("k\\u0000"))
    assert len(long_key) == JSON_KEY_MAX_CHARS
    assert out["nan"] == "nan" and out["inf"] == "-inf"
    assert out["big"] == str(10**40) and out["huge"] == "<integer of 20001 bits>"
    assert out["when"] == "2026-01-01T00:00:00+00:00"
    assert len(out["many"]) == JSON_MAX_ITEMS and out["many"][-1] == f"{ELLIPSIS}11 more"
    assert len(out["wide"]) == JSON_MAX_ITEMS and out["wide"][JSON_ELIDED_KEY] == 11
    assert len(out["long"]) == JSON_TEXT_MAX_CHARS
    assert out["obj"].startswith("<object object")
    depth, node = 0, out["deep"]
    while isinstance(node, dict):
        node, depth = node["d"], depth + 1
    assert depth < JSON_MAX_DEPTH + 5 and isinstance(node, str)
    json.dumps(out, allow_nan=False)
    assert storable_json(out) == out


@pytest.mark.parametrize("field", HOSTILE_FIELDS)
@pytest.mark.parametrize(
    ("value", "expected"),
    [("a\x00b", "a\\u0000b"), ("a\udc80b", "a\\udc80b"), ("x" * 10_000, None)],
    ids=["nul", "lone-surrogate", "over-long"],
)
def test_records_make_caller_text_storable_when_built(field: str, value: str, expected: str | None) -> None:
    record = make_record(1, **{field: value})
    stored = getattr(record, field)
    assert _storable(stored) and len(stored) <= IDENTIFIER_MAX_CHARS
    if expected is not None:
        assert stored == expected
    line = encode_record(record)  # encodes (a lone surrogate used to make this fail)
    assert decode_line(line[:-1])[field] == stored


def test_record_extra_is_made_storable_when_built() -> None:
    record = make_record(1, extra={"who\x00": "a\x00b", "nested": {"s": ["\udc80", float("nan")]}, 7: "seven"})
    assert record.extra == {"who\\u0000": "a\\u0000b", "nested": {"s": ["\\udc80", "nan"]}, "7": "seven"}


def test_status_names_become_the_enum_and_other_strings_are_kept_for_the_database_to_refuse() -> None:
    assert make_record(1, status="cut").status is RequestStatus.CUT
    assert make_record(1, status="bogus").status == "bogus"
    assert decode_line(encode_record(make_record(1, status="cancelled"))[:-1])["status"] == "cancelled"
    assert type(decode_line(encode_record(make_record(1))[:-1])["status"]) is str


def test_a_spool_line_of_an_older_version_holding_nul_decodes_to_storable_values() -> None:
    old = {
        "litellm_call_id": "old-1",
        "created_at": "2026-05-01T12:00:00+00:00",
        "user_id": "a\x00b",
        "session_id": "s\x00",
        "extra": {"k\x00": ["v\x00"]},
    }
    line = json.dumps(old).encode()  # json writes NUL as \u0000, as the older writer did
    assert b"\\u0000" in line
    row = decode_line(line)
    assert row["user_id"] == "a\\u0000b" and row["session_id"] == "s\\u0000"
    assert row["extra"] == {"k\\u0000": ["v\\u0000"]}
    assert decode_record(line).litellm_call_id == "old-1"


def test_the_table_and_the_codec_derive_their_columns_from_the_record() -> None:
    names = [f.name for f in fields(RequestRecord)]
    assert [c.name for c in record_columns()] == names
    table_columns = {c.name: c for c in request_records.columns}
    assert set(table_columns) == {*names, "id", "recorded_at"}
    for column in record_columns():
        table_column = table_columns[column.name]
        assert table_column.nullable == column.nullable, column.name
        if column.kind is ColumnKind.TEXT and column.spec.varchar:
            assert getattr(table_column.type, "length", None) == column.spec.max_chars, column.name
    # every field round-trips through the spool codec
    record = make_record(3, prompt_text="p", budget=5, budget_scope="team", cut=True, latency_ms=1.5)
    row = decode_line(encode_record(record)[:-1])
    assert set(row) == set(names)
    assert all(row[n] == getattr(record, n) for n in names if n != "status")


def test_floats_in_columns_survive_the_spool() -> None:
    row = decode_line(encode_record(make_record(1, energy_j=float("inf"), cost_usd=2))[:-1])
    assert math.isinf(row["energy_j"]) and row["cost_usd"] == 2.0 and isinstance(row["cost_usd"], float)

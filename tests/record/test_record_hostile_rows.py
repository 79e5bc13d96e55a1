"""Hostile and unstorable rows against a real Postgres (tests/pg_fixtures.py): none of them may stop the
records around them, now or after a restart."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.pg_fixtures import ThrowawayPostgres
from tests.record.record_builders import make_record
from thinkbudget_litellm.metrics import RECORDS_SET_ASIDE
from thinkbudget_litellm.policy.budget import BudgetScope
from thinkbudget_litellm.record.database_url import clean_database_url
from thinkbudget_litellm.record.migrate import upgrade_database
from thinkbudget_litellm.record.request_record import IDENTIFIER_MAX_CHARS, RequestStatus
from thinkbudget_litellm.record.spool import REJECTED_NAME, Spool
from thinkbudget_litellm.record.text import JSON_TEXT_MAX_CHARS, storable_text
from thinkbudget_litellm.record.writer import RecordWriter

HOSTILE_FIELDS = ("user_id", "end_user", "session_id", "model_group", "key_alias")
HOSTILE_VALUES = {"nul": "a\x00b", "surrogate": "a\udc80b", "long": "L" * 100_000}


@pytest.fixture
async def upgraded(pg_server: ThrowawayPostgres, litellm_db: str) -> str:
    await upgrade_database(clean_database_url(pg_server.url(litellm_db)))
    return litellm_db


def _set_aside(reason: str) -> float:
    return RECORDS_SET_ASIDE.labels(reason=reason)._value.get()


def _rejected_ids(writer: RecordWriter) -> list[str]:
    path = writer.spool_root / REJECTED_NAME
    if not path.exists():
        return []
    return [json.loads(json.loads(entry)["line"])["litellm_call_id"] for entry in path.read_text().splitlines()]


async def _write_all(writer: RecordWriter, records: list, timeout_s: float = 30) -> None:
    await writer.start()
    try:
        for record in records:
            writer.submit(record)
        assert await writer.wait_idle(timeout_s), writer.stats()
    finally:
        await writer.stop()


def _stored(server: ThrowawayPostgres, db: str, column: str, call_id: str) -> str:
    return server.run_sql(f"SELECT {column} FROM thinkbudget.request_records WHERE litellm_call_id = '{call_id}'", db)


@pytest.mark.postgres
async def test_hostile_text_is_stored_escaped_and_the_rows_around_it_are_written(
    pg_server: ThrowawayPostgres, upgraded: str, tmp_path: Path
) -> None:
    records = []
    expected: dict[str, tuple[str, str]] = {}  # call id -> (column, stored value)
    n = 0
    for field in HOSTILE_FIELDS:
        for label, value in HOSTILE_VALUES.items():
            records.append(make_record(n))  # a plain row before each hostile one
            hostile = make_record(n + 1, prefix=f"{field}-{label}", **{field: value})
            records.append(hostile)
            expected[hostile.litellm_call_id] = (field, storable_text(value, IDENTIFIER_MAX_CHARS))
            n += 2
    for label, value in HOSTILE_VALUES.items():
        hostile = make_record(n, prefix=f"extra-{label}", extra={"k": value, value[:10]: [value]})
        records.append(hostile)
        n += 1
    records.append(make_record(n))
    writer = RecordWriter(pg_server.url(upgraded), spool_dir=tmp_path, batch_size=8)
    await _write_all(writer, records)
    assert writer.stats().rejected == 0
    assert pg_server.run_sql("SELECT count(*) FROM thinkbudget.request_records", upgraded) == str(len(records))
    for call_id, (column, value) in expected.items():
        assert _stored(pg_server, upgraded, column, call_id) == value, (call_id, column)
    by_prefix = {call_id.rsplit("-", 1)[0]: call_id for call_id in expected}
    assert _stored(pg_server, upgraded, "user_id", by_prefix["user_id-nul"]) == "a\\u0000b"
    assert _stored(pg_server, upgraded, "length(session_id)", by_prefix["session_id-long"]) == str(IDENTIFIER_MAX_CHARS)
    assert _stored(pg_server, upgraded, "extra->>'k'", f"extra-nul-{n - 3:08d}") == "a\\u0000b"
    assert _stored(pg_server, upgraded, "extra->>'k'", f"extra-surrogate-{n - 2:08d}") == "a\\udc80b"
    assert _stored(pg_server, upgraded, "length(extra->>'k')", f"extra-long-{n - 1:08d}") == str(JSON_TEXT_MAX_CHARS)


_POISON_TRIGGER = """
CREATE FUNCTION thinkbudget.test_poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.team_id = 'poison' THEN
        RAISE EXCEPTION 'poisoned row' USING ERRCODE = '22023';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER test_poison BEFORE INSERT ON thinkbudget.request_records
    FOR EACH ROW EXECUTE FUNCTION thinkbudget.test_poison();
"""
_POISON_CHECK = (
    "ALTER TABLE thinkbudget.request_records ADD CONSTRAINT test_poison CHECK (team_id IS DISTINCT FROM 'poison')"
)


@pytest.mark.postgres
@pytest.mark.parametrize("refusal", ["trigger-22023", "check-constraint"])
async def test_a_row_the_database_refuses_is_set_aside_once_and_the_others_written(
    pg_server: ThrowawayPostgres, upgraded: str, tmp_path: Path, refusal: str
) -> None:
    """asyncpg reports the trigger's error as a generic DBAPIError (it used to be retried forever)."""
    pg_server.run_sql(_POISON_TRIGGER if refusal.startswith("trigger") else _POISON_CHECK, upgraded)
    records = [make_record(n, team_id="poison" if n == 37 else f"team-{n % 2}") for n in range(100)]
    before = _set_aside("refused")
    writer = RecordWriter(pg_server.url(upgraded), spool_dir=tmp_path, batch_size=50)
    await _write_all(writer, records)
    assert pg_server.run_sql("SELECT count(*) FROM thinkbudget.request_records", upgraded) == "99"
    assert _rejected_ids(writer) == ["call-00000037"]
    assert writer.stats().rejected == 1 and writer.stats().written == 99
    assert _set_aside("refused") - before == 1
    # A restart finds nothing left to replay and sets nothing aside again.
    again = RecordWriter(pg_server.url(upgraded), spool_dir=tmp_path)
    await _write_all(again, [make_record(200)])
    assert _rejected_ids(again) == ["call-00000037"]


@pytest.mark.postgres
async def test_an_old_spool_holding_nul_is_replayed_without_blocking(
    pg_server: ThrowawayPostgres, upgraded: str, tmp_path: Path
) -> None:
    """A dead writer of the previous version left lines holding NUL (JSON \\u0000) in its spool."""
    url = pg_server.url(upgraded)
    writer = RecordWriter(url, spool_dir=tmp_path, batch_size=10)
    old_lines = []
    for n in range(30):
        row = {"litellm_call_id": f"old-{n:04d}", "created_at": "2026-05-01T12:00:00+00:00", "status": "success"}
        if n % 7 == 3:
            row |= {"user_id": "a\x00b", "end_user": "\x00", "extra": {"k\x00": "v\x00"}}
        old_lines.append(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
    dead = Spool.create(writer.spool_root, "old-version", segment_bytes=1 << 20, max_bytes=1 << 30)
    dead.append(b"".join(old_lines))
    dead.close(remove=False)
    await _write_all(writer, [make_record(n) for n in range(5)])
    assert writer.stats().rejected == 0
    assert pg_server.run_sql("SELECT count(*) FROM thinkbudget.request_records", upgraded) == "35"
    assert _stored(pg_server, upgraded, "user_id", "old-0003") == "a\\u0000b"
    assert _stored(pg_server, upgraded, "extra->>'k\\u0000'", "old-0010") == "v\\u0000"
    assert not (writer.spool_root / "old-version").exists()  # replayed and removed


@pytest.mark.postgres
async def test_status_and_budget_scope_checks_list_exactly_the_enums(
    pg_server: ThrowawayPostgres, upgraded: str, tmp_path: Path
) -> None:
    definitions = pg_server.run_sql(
        "SELECT conname || '=' || pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'thinkbudget.request_records'::regclass AND contype = 'c' ORDER BY conname",
        upgraded,
    ).splitlines()
    allowed = {}
    for definition in definitions:
        name, text = definition.split("=", 1)
        allowed[name] = {part.split("'")[1] for part in text.split("ARRAY[", 1)[1].split(",")}
    assert allowed == {
        "ck_request_records_budget_scope": {s.value for s in BudgetScope},
        "ck_request_records_status": {s.value for s in RequestStatus},
    }
    records = [
        make_record(1, status="bogus"),
        make_record(2, budget_scope="galaxy"),
        make_record(3, status=RequestStatus.CANCELLED, budget_scope=BudgetScope.END_USER),
    ]
    writer = RecordWriter(pg_server.url(upgraded), spool_dir=tmp_path)
    await _write_all(writer, records)
    assert sorted(_rejected_ids(writer)) == ["call-00000001", "call-00000002"]
    assert _stored(pg_server, upgraded, "status || ',' || budget_scope", "call-00000003") == "cancelled,end_user"


async def test_sqlite_checks_the_status_too(tmp_path: Path) -> None:
    db = tmp_path / "ck.sqlite"
    writer = RecordWriter(f"sqlite:///{db}", spool_dir=tmp_path / "spool", auto_upgrade=True)
    await _write_all(writer, [make_record(n, status="bogus" if n == 2 else "cut") for n in range(5)])
    assert _rejected_ids(writer) == ["call-00000002"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*), min(status) FROM request_records").fetchone() == (4, "cut")

"""The embedded SQLite path (the demo default): upgrade, writer, report, CLI."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import typer
from typer.testing import CliRunner

from tests.record.record_builders import T0, make_record
from thinkbudget_litellm.cli.db_cmd import register
from thinkbudget_litellm.record.database_url import clean_database_url
from thinkbudget_litellm.record.engine import create_engine
from thinkbudget_litellm.record.migrate import head_revision, upgrade_database
from thinkbudget_litellm.record.report import GroupBy, build_report, fetch_report_data
from thinkbudget_litellm.record.writer import RecordWriter


async def test_sqlite_upgrade_write_and_report(tmp_path: Path) -> None:
    db = tmp_path / "tb.sqlite"
    target = clean_database_url(f"sqlite:///{db}")
    first = await upgrade_database(target)
    second = await upgrade_database(target)
    assert first.revision_after == second.revision_after == head_revision()
    assert not second.changed and not first.views.created
    writer = RecordWriter(target, spool_dir=tmp_path / "spool")
    await writer.start()
    for n in range(300):
        writer.submit(make_record(n))
    writer.submit(make_record(7))  # duplicate call id
    assert await writer.wait_idle(30)
    await writer.stop()
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        count, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT litellm_call_id) FROM request_records"
        ).fetchone()
    assert {"request_records", "alembic_version"} <= tables
    assert (count, distinct) == (300, 300)
    engine = create_engine(target)
    try:
        data = await fetch_report_data(engine, GroupBy.TIER, T0, T0.replace(year=2027))
    finally:
        await engine.dispose()
    report = build_report(data)
    assert not data.joined_litellm
    assert sum(r.requests for r in report.rows) == report.total.requests == 300
    assert {r.label for r in report.rows} == {"light", "standard", "deep"}
    assert report.total.tokens_saved == 150 * 200  # even n: baseline 300+n vs thinking 100+n
    assert [(d.day, d.requests) for d in data.days] == [(T0.date(), 300)]


async def test_writer_auto_upgrade_creates_the_table(tmp_path: Path) -> None:
    db = tmp_path / "auto.sqlite"
    writer = RecordWriter(f"sqlite:///{db}", spool_dir=tmp_path / "spool", auto_upgrade=True)
    await writer.start()
    writer.submit(make_record(1))
    assert await writer.wait_idle(30)
    await writer.stop()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT litellm_call_id FROM request_records").fetchall() == [("call-00000001",)]


async def test_writer_can_be_stopped_and_started_again(tmp_path: Path) -> None:
    db = tmp_path / "restart.sqlite"
    writer = RecordWriter(f"sqlite:///{db}", spool_dir=tmp_path / "spool", auto_upgrade=True)
    for round_ in range(2):
        await writer.start()
        for n in range(50):
            writer.submit(make_record(100 * round_ + n))
        assert await writer.wait_idle(30)
        await writer.stop()
    writer.submit(make_record(999))  # after stop: counted, not written
    assert writer.stats().dropped_after_stop == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM request_records").fetchone() == (100,)


async def test_missing_table_is_retried_not_lost(tmp_path: Path) -> None:
    """Records submitted before `db upgrade` wait in the spool and land once the table exists."""
    db = tmp_path / "late.sqlite"
    target = clean_database_url(f"sqlite:///{db}")
    writer = RecordWriter(target, spool_dir=tmp_path / "spool", retry_initial_s=0.05, retry_max_s=0.1)
    await writer.start()
    for n in range(20):
        writer.submit(make_record(n))
    assert not await writer.wait_idle(0.5)
    assert writer.stats().db_errors > 0 and "request_records" in (writer.stats().last_error or "")
    await upgrade_database(target)
    assert await writer.wait_idle(30)
    await writer.stop()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM request_records").fetchone() == (20,)


def test_cli_on_sqlite(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    upgraded = runner.invoke(app, ["db", "upgrade", "--url", url])
    assert upgraded.exit_code == 0, upgraded.output
    assert "views skipped" in upgraded.output
    png = tmp_path / "r.png"
    shown = runner.invoke(app, ["report", "--url", url, "--by", "model", "--png", str(png)])
    assert shown.exit_code == 0, shown.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    where = runner.invoke(app, ["db", "url"], env={"DATABASE_URL": "postgresql://u:pw@h/db?connection_limit=3"})
    assert where.exit_code == 0 and "postgresql+asyncpg://u:***@h/db" in where.output
    assert "connection_limit" in where.output


async def test_a_bad_line_is_set_aside_once_while_the_database_is_unavailable(tmp_path: Path, monkeypatch) -> None:
    """A batch retried during an outage does not set its bad lines aside again on every retry."""
    from thinkbudget_litellm.record import writer as writer_module
    from thinkbudget_litellm.record.spool import REJECTED_NAME
    from thinkbudget_litellm.record.spool_codec import SpoolFormatError

    bad_id = make_record(3).litellm_call_id
    real_decode = writer_module.decode_line

    def decode(line: bytes) -> dict:
        row = real_decode(line)
        if row["litellm_call_id"] == bad_id:
            raise SpoolFormatError("unreadable")
        return row

    monkeypatch.setattr(writer_module, "decode_line", decode)
    db = tmp_path / "late.sqlite"
    target = clean_database_url(f"sqlite:///{db}")
    writer = RecordWriter(target, spool_dir=tmp_path / "spool", retry_initial_s=0.02, retry_max_s=0.05)
    await writer.start()
    for n in range(20):
        writer.submit(make_record(n))
    assert not await writer.wait_idle(0.5)  # no table yet: the batch is retried many times
    assert writer.stats().db_errors > 3
    await upgrade_database(target)
    assert await writer.wait_idle(30)
    await writer.stop()
    rejected = (writer.spool_root / REJECTED_NAME).read_text().splitlines()
    assert len(rejected) == 1 and writer.stats().rejected == 1
    assert writer.stats().written == 19
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM request_records").fetchone() == (19,)


async def test_the_migrated_checks_admit_every_status_and_scope_and_nothing_else(tmp_path: Path) -> None:
    """A new RequestStatus or BudgetScope member needs a migration that widens its CHECK: after
    upgrading to head, every member is storable and an unknown value is refused."""
    from thinkbudget_litellm.policy.budget import BudgetScope
    from thinkbudget_litellm.record.request_record import RequestStatus

    db = tmp_path / "checks.sqlite"
    await upgrade_database(clean_database_url(f"sqlite:///{db}"))
    insert = (
        "INSERT INTO request_records (litellm_call_id, created_at, status, budget_scope, extra) "
        "VALUES (?, ?, ?, ?, '{}')"
    )
    with sqlite3.connect(db) as conn:
        for n, status in enumerate(RequestStatus):
            conn.execute(insert, (f"s{n}", "2026-12-07", status.value, None))
        for n, scope in enumerate(BudgetScope):
            conn.execute(insert, (f"b{n}", "2026-12-07", RequestStatus.SUCCESS.value, scope.value))
        for column, bogus in (("status", "bogus"), ("budget_scope", "bogus")):
            values = ["x-" + column, "2026-12-07", RequestStatus.SUCCESS.value, None]
            values[2 if column == "status" else 3] = bogus
            try:
                conn.execute(insert, values)
            except sqlite3.IntegrityError:
                continue
            raise AssertionError(f"{column}={bogus!r} was stored")

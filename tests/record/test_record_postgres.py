"""Against a real, throwaway Postgres holding LiteLLM's real tables (tests/pg_fixtures.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from typer.testing import CliRunner

from tests.pg_fixtures import ThrowawayPostgres, litellm_migration_files
from tests.record.record_builders import T0, make_record
from thinkbudget_litellm.record.database_url import clean_database_url
from thinkbudget_litellm.record.engine import create_engine
from thinkbudget_litellm.record.migrate import head_revision, upgrade_database
from thinkbudget_litellm.record.models import SCHEMA, Base
from thinkbudget_litellm.record.report import GroupBy, build_report, fetch_report_data
from thinkbudget_litellm.record.writer import RecordWriter

pytestmark = pytest.mark.postgres
REPO = Path(__file__).resolve().parents[2]


def count_rows(server: ThrowawayPostgres, db: str) -> tuple[int, int]:
    out = server.run_sql("SELECT count(*), count(DISTINCT litellm_call_id) FROM thinkbudget.request_records", db)
    total, distinct = out.split("|")
    return int(total), int(distinct)


def call_ids(server: ThrowawayPostgres, db: str) -> set[str]:
    out = server.run_sql("SELECT litellm_call_id FROM thinkbudget.request_records", db)
    return set(out.split()) if out else set()


def public_tables(server: ThrowawayPostgres, db: str) -> str:
    return server.run_sql(
        "SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables "
        "WHERE table_schema = 'public'",
        db,
    )


@pytest.fixture
async def upgraded(pg_server: ThrowawayPostgres, litellm_db: str) -> AsyncIterator[str]:
    await upgrade_database(clean_database_url(pg_server.url(litellm_db)))
    yield litellm_db


async def test_upgrade_is_idempotent_and_stays_out_of_public(pg_server: ThrowawayPostgres, litellm_db: str) -> None:
    before_public = public_tables(pg_server, litellm_db)
    target = clean_database_url(pg_server.prisma_url(litellm_db))
    first = await upgrade_database(target)
    second = await upgrade_database(target)
    assert first.revision_before is None and first.revision_after == head_revision()
    assert not second.changed and second.revision_after == head_revision()
    assert first.views.created and second.views.created
    assert public_tables(pg_server, litellm_db) == before_public
    ours = pg_server.run_sql(
        "SELECT string_agg(table_name || ':' || table_type, ',' ORDER BY table_name) "
        "FROM information_schema.tables WHERE table_schema = 'thinkbudget'",
        litellm_db,
    )
    assert ours.split(",") == [
        "alembic_version:BASE TABLE",
        "request_records:BASE TABLE",
        "request_records_enriched:VIEW",
        "usage_daily:VIEW",
    ]
    indexes = pg_server.run_sql(
        "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'thinkbudget'",
        litellm_db,
    )
    for name in (
        "created_at",
        "team_id_created_at",
        "api_key_hash_created_at",
        "uq_request_records_litellm_call_id",
    ):
        assert name in indexes


def _schema_diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "include_schemas": True,
            "include_name": lambda name, type_, _parent: type_ != "schema" or name == SCHEMA,
            "compare_type": True,
            "version_table_schema": SCHEMA,
        },
    )
    return list(compare_metadata(context, Base.metadata))


async def test_models_match_migrations(pg_server: ThrowawayPostgres, upgraded: str) -> None:
    """The SQLAlchemy models and the packaged Alembic migrations describe the same table."""
    engine = create_engine(clean_database_url(pg_server.url(upgraded)))
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_schema_diff) == []
    finally:
        await engine.dispose()


async def test_views_wait_for_litellm_tables(pg_server: ThrowawayPostgres, empty_db: str) -> None:
    target = clean_database_url(pg_server.url(empty_db))
    skipped = await upgrade_database(target)
    assert skipped.revision_after == head_revision()
    assert not skipped.views.created and "LiteLLM_SpendLogs" in skipped.views.message
    assert pg_server.run_sql("SELECT to_regclass('thinkbudget.usage_daily')", empty_db) == ""
    pg_server.run_files(litellm_migration_files(), empty_db)  # LiteLLM creates its tables later
    created = await upgrade_database(target)
    assert created.views.created and not created.changed
    assert pg_server.run_sql("SELECT to_regclass('thinkbudget.usage_daily')", empty_db) == "thinkbudget.usage_daily"


async def test_litellm_can_still_alter_and_rebuild_its_tables(pg_server: ThrowawayPostgres, upgraded: str) -> None:
    """Our views must never block LiteLLM's own migrations (no hard dependency on its tables)."""
    pg_server.run_sql('ALTER TABLE "LiteLLM_SpendLogs" ALTER COLUMN spend TYPE numeric', upgraded)
    pg_server.run_sql(
        'ALTER TABLE "LiteLLM_SpendLogs" RENAME TO "LiteLLM_SpendLogs_old"; '
        'CREATE TABLE "LiteLLM_SpendLogs" (LIKE "LiteLLM_SpendLogs_old" INCLUDING ALL); '
        'DROP TABLE "LiteLLM_SpendLogs_old"',
        upgraded,
    )
    pg_server.run_sql(
        "INSERT INTO thinkbudget.request_records (litellm_call_id, created_at, extra) "
        "VALUES ('c1', now(), '{}'); "
        'INSERT INTO "LiteLLM_SpendLogs" '
        '(request_id, call_type, "startTime", "endTime", spend, litellm_call_id) '
        "VALUES ('r1', 'acompletion', now(), now(), 0.25, 'c1')",
        upgraded,
    )
    assert pg_server.run_sql("SELECT litellm_spend_usd FROM thinkbudget.usage_daily", upgraded) == "0.25"


async def test_records_are_written_once(pg_server: ThrowawayPostgres, upgraded: str, tmp_path: Path) -> None:
    url = pg_server.url(upgraded)
    writer = RecordWriter(url, spool_dir=tmp_path, batch_size=64)
    await writer.start()
    for n in range(1000):
        writer.submit(make_record(n))
    for n in range(0, 1000, 10):
        writer.submit(make_record(n))  # the handler resubmitting a call: still one row
    assert await writer.wait_idle(30)
    await writer.stop()
    assert count_rows(pg_server, upgraded) == (1000, 1000)
    stats = writer.stats()
    assert (stats.submitted, stats.spooled, stats.rejected, stats.dropped_queue_full) == (1100, 1100, 0, 0)
    # A second writer replaying the same calls adds nothing.
    again = RecordWriter(url, spool_dir=tmp_path)
    await again.start()
    for n in range(500):
        again.submit(make_record(n))
    assert await again.wait_idle(30)
    await again.stop()
    assert count_rows(pg_server, upgraded) == (1000, 1000)
    assert not any(tmp_path.glob("*/*/seg-*"))  # drained spools are removed on stop
    row = pg_server.run_sql(
        "SELECT thinking_tokens, baseline_thinking_tokens, energy_source, extra->>'n', created_at = "
        f"'{make_record(42).created_at.isoformat()}'::timestamptz FROM thinkbudget.request_records "
        "WHERE litellm_call_id = 'call-00000042'",
        upgraded,
    )
    assert row == "142|342|simulated|42|t"


async def test_views_join_litellm_keys_teams_and_spend(
    pg_server: ThrowawayPostgres, upgraded: str, tmp_path: Path
) -> None:
    pg_server.run_sql(
        """
        INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias)
            VALUES ('team-0', 'research'), ('team-1', 'support');
        INSERT INTO "LiteLLM_VerificationToken" (token, key_alias, team_id)
            VALUES ('hash-0', 'ci-bot', 'team-0'), ('hash-1', 'web', 'team-1'), ('hash-2', 'batch', 'team-1');
        INSERT INTO "LiteLLM_SpendLogs"
            (request_id, call_type, "startTime", "endTime", spend, litellm_call_id)
            SELECT 'chatcmpl-' || n, 'acompletion', now(), now(), 0.01 * n, 'call-' || lpad(n::text, 8, '0')
            FROM generate_series(0, 5) AS n;
        """,
        upgraded,
    )
    # make_record(n): team-(n%2), hash-(n%3), thinking 100+n, baseline 300+n for even n, energy 10+n J,
    # cost 0.001; LiteLLM spend 0.01*n for n <= 5. Record 6 has no team: the view takes it from its key.
    records = [make_record(n) for n in range(6)]
    records.append(make_record(6, team_id=None, api_key_hash="hash-2"))
    writer = RecordWriter(pg_server.url(upgraded), spool_dir=tmp_path)
    await writer.start()
    for record in records:
        writer.submit(record)
    assert await writer.wait_idle(30)
    await writer.stop()
    rows = pg_server.run_sql(
        "SELECT day, team_id, team_alias, api_key_hash, key_alias, requests, thinking_tokens, "
        "requests_with_baseline, tokens_saved, energy_j, cost_usd::numeric(10,4), "
        "litellm_spend_usd::numeric(10,4) FROM thinkbudget.usage_daily ORDER BY team_id, api_key_hash",
        upgraded,
    ).splitlines()
    day = T0.date().isoformat()
    assert rows == [
        f"{day}|team-0|research|hash-0|ci-bot|1|100|1|200|10|0.0010|0.0000",  # n=0
        f"{day}|team-0|research|hash-1|web|1|104|1|200|14|0.0010|0.0400",  # n=4
        f"{day}|team-0|research|hash-2|batch|1|102|1|200|12|0.0010|0.0200",  # n=2
        f"{day}|team-1|support|hash-0|ci-bot|1|103|0||13|0.0010|0.0300",  # n=3
        f"{day}|team-1|support|hash-1|web|1|101|0||11|0.0010|0.0100",  # n=1
        f"{day}|team-1|support|hash-2|batch|2|211|1|200|31|0.0020|0.0500",  # n=5, and n=6 without spend
    ]
    enriched = pg_server.run_sql(
        "SELECT team_id, team_alias, key_alias, tokens_saved, litellm_spend_usd IS NULL "
        "FROM thinkbudget.request_records_enriched WHERE litellm_call_id = 'call-00000006'",
        upgraded,
    )
    assert enriched == "team-1|support|batch|200|t"


async def test_report_joins_aliases_and_spend(pg_server: ThrowawayPostgres, upgraded: str, tmp_path: Path) -> None:
    pg_server.run_sql(
        """INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias) VALUES ('team-0', 'research');
        INSERT INTO "LiteLLM_SpendLogs"
            (request_id, call_type, "startTime", "endTime", spend, litellm_call_id)
        VALUES ('r0', 'acompletion', now(), now(), 1.5, 'call-00000000')""",
        upgraded,
    )
    writer = RecordWriter(pg_server.url(upgraded), spool_dir=tmp_path)
    await writer.start()
    for n in range(4):
        writer.submit(make_record(n))
    assert await writer.wait_idle(30)
    await writer.stop()
    engine = create_engine(clean_database_url(pg_server.url(upgraded)))
    try:
        data = await fetch_report_data(engine, GroupBy.TEAM, T0, T0.replace(year=2027))
    finally:
        await engine.dispose()
    report = build_report(data)
    assert data.joined_litellm
    assert {r.label: (r.requests, r.thinking_tokens, r.tokens_saved, r.litellm_spend_usd) for r in report.rows} == {
        "research": (2, 202, 400, 1.5),  # n=0,2: baseline 300+n vs 100+n
        "team-1": (2, 204, None, None),  # n=1,3: no baseline, no LiteLLM spend rows
    }
    assert [d.requests for d in data.days] == [4]


def test_cli_upgrade_and_report(pg_server: ThrowawayPostgres, litellm_db: str, tmp_path: Path) -> None:
    import typer

    from thinkbudget_litellm.cli.db_cmd import register

    app = typer.Typer()
    register(app)
    runner = CliRunner()
    url = pg_server.prisma_url(litellm_db)
    first = runner.invoke(app, ["db", "upgrade", "--url", url])
    assert first.exit_code == 0, first.output
    assert "upgraded (empty) -> " in first.output and "views thinkbudget.request_records_enriched" in first.output
    second = runner.invoke(app, ["db", "upgrade", "--url", url])
    assert second.exit_code == 0 and "already at" in second.output
    html = tmp_path / "r.html"
    shown = runner.invoke(app, ["report", "--url", url, "--by", "key", "--since", "30d", "--html", str(html)])
    assert shown.exit_code == 0, shown.output
    assert html.read_text().startswith("<!doctype html>")


async def test_database_outage_loses_and_duplicates_nothing(
    pg_server: ThrowawayPostgres, upgraded: str, tmp_path: Path
) -> None:
    writer = RecordWriter(
        pg_server.url(upgraded), spool_dir=tmp_path, batch_size=100, retry_initial_s=0.05, retry_max_s=0.3
    )
    await writer.start()
    total = 2000
    outage_at, restart_at = 500, 1500
    try:
        for n in range(total):
            writer.submit(make_record(n))
            if n == outage_at:
                await asyncio.to_thread(pg_server.stop, "fast")
            if n == restart_at:
                assert writer.stats().db_errors > 0  # it did notice the outage
                await asyncio.to_thread(pg_server.start)
            if n % 100 == 0:
                await asyncio.sleep(0.1)  # ~1,000 records/s, so the outage lasts ~1 s of load
    finally:
        if not pg_server.is_running():
            pg_server.start()
    assert await writer.wait_idle(60), writer.stats()
    await writer.stop()
    assert count_rows(pg_server, upgraded) == (total, total)
    assert writer.stats().rejected == 0


def _read_child(lines: list[str]) -> dict[int, float]:
    submitted = {}
    for line in lines:
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit():
            submitted[int(parts[0])] = float(parts[1])
    return submitted


@pytest.mark.parametrize("database_down", [False, True], ids=["db-up", "db-down"])
async def test_sigkill_under_load_loses_nothing_older_than_a_second(
    pg_server: ThrowawayPostgres, upgraded: str, tmp_path: Path, database_down: bool
) -> None:
    url = pg_server.url(upgraded)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if database_down:
        pg_server.stop("fast")
    try:
        child = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).with_name("writer_child.py")),
                url,
                str(tmp_path),
                "kill",
                "1500",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=REPO,
        )
        assert child.stdout is not None
        assert child.stdout.readline().startswith("ready")
        await asyncio.sleep(1.6)
        killed_at = time.monotonic()
        child.send_signal(signal.SIGKILL)
        rest = child.stdout.read()
        child.wait()
    finally:
        if not pg_server.is_running():
            pg_server.start()
    submitted = _read_child(rest.splitlines())
    assert len(submitted) > 1500
    # A fresh writer on the same spool root adopts the dead one's spool and replays it.
    replayer = RecordWriter(url, spool_dir=tmp_path)
    await replayer.start()
    assert await replayer.wait_idle(60), replayer.stats()
    await replayer.stop()
    stored = call_ids(pg_server, upgraded)
    total, distinct = count_rows(pg_server, upgraded)
    assert total == distinct
    must_have = {f"kill-{n:08d}" for n, t in submitted.items() if t <= killed_at - 1.0}
    assert must_have and must_have <= stored, sorted(must_have - stored)[:5]
    assert stored <= {f"kill-{n:08d}" for n in range(max(submitted) + 2)}
    assert [p.name for p in tmp_path.glob("*/*") if p.is_dir()] == []  # orphan replayed and removed


async def test_nested_energy_source_labels_are_stored_not_rejected(
    pg_server: ThrowawayPostgres, upgraded: str, tmp_path: Path
) -> None:
    label = "simulated(estimated(fallback:dcgm first reading))"  # the meter's nested fallback labels
    writer = RecordWriter(pg_server.url(upgraded), spool_dir=tmp_path)
    await writer.start()
    writer.submit(make_record(1, energy_source=label))
    assert await writer.wait_idle(30)
    await writer.stop()
    assert writer.stats().rejected == 0
    out = pg_server.run_sql(
        "SELECT energy_source FROM thinkbudget.request_records_enriched WHERE litellm_call_id = 'call-00000001'",
        upgraded,
    )
    assert out == label

"""Report shaping and rendering (pure), and the CLI's handling of bad arguments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from thinkbudget_litellm.cli.db_cmd import register
from thinkbudget_litellm.record.report import (
    DayTotals,
    GroupBy,
    GroupTotals,
    ReportData,
    build_report,
    parse_since,
    render_chart_png,
    render_html,
    render_table,
)

NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - timedelta(days=7)),
        ("12h", NOW - timedelta(hours=12)),
        ("30m", NOW - timedelta(minutes=30)),
        ("2W", NOW - timedelta(weeks=2)),
        ("2026-05-01", datetime(2026, 5, 1, tzinfo=UTC)),
        ("2026-05-01T10:00:00+02:00", datetime(2026, 5, 1, 8, tzinfo=UTC)),
    ],
)
def test_parse_since(text: str, expected: datetime) -> None:
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["", "7", "d7", "7y", "yesterday", "2027-01-01"])
def test_parse_since_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_since(text, NOW)


def _totals(key: str | None, alias: str | None, requests: int, thinking: int, **kw: object) -> GroupTotals:
    base: dict[str, object] = {
        "key": key,
        "alias": alias,
        "requests": requests,
        "thinking_tokens": thinking,
        "answer_tokens": 10 * requests,
        "cut_requests": 0,
        "baseline_requests": 0,
        "baseline_thinking_tokens": 0,
        "thinking_tokens_with_baseline": 0,
        "energy_j": None,
        "cost_usd": None,
        "litellm_spend_usd": None,
    }
    base.update(kw)
    return GroupTotals(**base)  # type: ignore[arg-type]


DATA = ReportData(
    by=GroupBy.TEAM,
    since=NOW - timedelta(days=7),
    until=NOW,
    database="postgresql+asyncpg://u:***@h/db",
    joined_litellm=True,
    groups=(
        _totals(
            "t1",
            "research",
            4,
            400,
            baseline_requests=2,
            baseline_thinking_tokens=1000,
            thinking_tokens_with_baseline=300,
            energy_j=7200.0,
            cost_usd=0.5,
            litellm_spend_usd=0.2,
        ),
        _totals("t2", "t2", 10, 900, energy_j=3600.0, cost_usd=0.25),
        _totals(None, None, 1, 50),
    ),
    days=(
        DayTotals(date(2026, 5, 19), 10, 800, 500, 3600.0),
        DayTotals(date(2026, 5, 20), 5, 550, 200, None),
    ),
)


def test_build_report_sorts_and_totals() -> None:
    report = build_report(DATA)
    assert [r.label for r in report.rows] == ["t2", "research", "(no team)"]
    research = report.rows[1]
    assert (research.tokens_saved, research.baseline_thinking_tokens) == (700, 1000)
    assert research.saved_fraction == pytest.approx(0.7)
    assert research.energy_wh == pytest.approx(2.0)
    assert report.rows[0].tokens_saved is None and report.rows[0].saved_fraction is None
    total = report.total
    assert (total.requests, total.thinking_tokens, total.tokens_saved) == (15, 1350, 700)
    assert total.energy_wh == pytest.approx(3.0)
    assert total.cost_usd == pytest.approx(0.75) and total.litellm_spend_usd == pytest.approx(0.2)


def test_key_labels_show_alias_and_short_hash() -> None:
    data = ReportData(
        GroupBy.KEY,
        DATA.since,
        NOW,
        "",
        False,
        (_totals("a" * 64, "ci-bot", 1, 1), _totals("b" * 64, None, 1, 2)),
        (),
    )
    labels = [r.label for r in build_report(data).rows]
    assert labels == ["bbbbbbbbbb…", "ci-bot (aaaaaaaaaa…)"]


def test_render_table_folds_rows_beyond_limit() -> None:
    console = Console(record=True, width=200)
    console.print(render_table(build_report(DATA), limit=1))
    out = console.export_text()
    assert "t2" in out and "other (2)" in out and "research" not in out
    assert "700" in out and "70.0%" in out  # folded row keeps tokens saved and its share
    assert "total" in out and "1,350" in out


def test_html_embeds_chart_and_escapes_labels() -> None:
    data = ReportData(GroupBy.TEAM, DATA.since, NOW, "", True, (_totals("x", "<b>evil</b>", 1, 5),), DATA.days)
    report = build_report(data)
    png = render_chart_png(report)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    page = render_html(report, png)
    assert "&lt;b&gt;evil&lt;/b&gt;" in page and "<b>evil</b>" not in page
    assert "data:image/png;base64," in page


def test_chart_renders_for_an_empty_period() -> None:
    empty = build_report(ReportData(GroupBy.MODEL, DATA.since, NOW, "", False, (), ()))
    assert empty.total.requests == 0
    assert render_chart_png(empty)[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "--since", "yesterday"], "--since"),
        (["report", "--by", "colour"], "--by"),
        (["report", "--url", "mysql://u@h/db"], "unsupported database"),
        (["report", "--html", "/nonexistent/dir/r.html"], "does not exist"),
        (["db", "upgrade", "--url", "postgresql+pg9000://u@h/db"], "unknown Postgres driver"),
    ],
)
def test_cli_bad_arguments_are_clear_errors(args: list[str], message: str, tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, args, env={"THINKBUDGET_SQLITE_PATH": str(tmp_path / "x.sqlite")})
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_unreachable_database_is_an_error_not_a_crash() -> None:
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["db", "upgrade", "--url", "postgresql://u@127.0.0.1:1/db?connect_timeout=2"])
    assert result.exit_code == 1
    assert "error:" in result.output and "upgrade of postgresql+asyncpg://u@127.0.0.1:1/db failed" in result.output

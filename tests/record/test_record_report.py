"""Report shaping and rendering (pure), and the CLI's handling of bad arguments."""

from __future__ import annotations

import io
import sqlite3
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
    table_columns,
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


# ---------------------------------------------------------------------- stored values on a terminal
# Values anyone who can send a request can get into the records (model, team, key alias, tier...):
# rich markup, an OSC 8 link, an SGR colour, C1 CSI, a carriage return, NUL, a bidi override and a
# lone surrogate (which the terminal's UTF-8 encoder refuses). Each is paired with the text the
# report must show instead: the value itself, with control characters spelled out.
HOSTILE: tuple[tuple[str, str], ...] = (
    ("[/bold]", "[/bold]"),
    ("[link=http://x]evil[/link]", "[link=http://x]evil[/link]"),
    ("\x1b[31mred", "\\x1b[31mred"),
    ("nul\x00here", "nul\\x00here"),
    ("c1\x9b31m", "c1\\x9b31m"),
    ("cr\rover", "cr\\rover"),
    ("bidi\u202etxt", "bidi\\u202etxt"),
    ("sur\udc80gate", "sur\\udc80gate"),
    (":smile: $\\frac{$", ":smile: $\\frac{$"),
)
STORABLE = tuple(pair for pair in HOSTILE if "\udc80" not in pair[0])
_LABEL_WIDTH = 20  # the group column is at most 24 wide; a label's first characters are always shown


def _terminal_output(renderable: object, *, terminal: bool) -> str:
    """What a console writes for ``renderable`` through a strict UTF-8 stream, as a real one would."""
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", write_through=True)
    console = Console(file=stream, width=250, force_terminal=terminal, color_system="truecolor" if terminal else None)
    console.print(renderable)
    return raw.getvalue().decode("utf-8")


def _hostile_data(by: GroupBy) -> ReportData:
    groups = tuple(_totals(value, value, 1 + i, 10 * (len(HOSTILE) - i)) for i, (value, _) in enumerate(HOSTILE))
    return ReportData(by, DATA.since, NOW, "sqlite:///[/red]\x1b[2J.sqlite", True, groups, DATA.days)


def _shown(expected: str, by: GroupBy) -> str:
    return expected[:10] if by is GroupBy.KEY else expected[:_LABEL_WIDTH]  # key labels: 10-char hash


@pytest.mark.parametrize("by", list(GroupBy))
def test_table_shows_stored_values_literally_and_without_control_sequences(by: GroupBy) -> None:
    report = build_report(_hostile_data(by))
    plain = _terminal_output(render_table(report), terminal=False)
    assert "\x1b" not in plain and "\x9b" not in plain and "\r" not in plain and "\x00" not in plain
    for _, expected in HOSTILE:
        assert _shown(expected, by) in plain
    assert "[/red]\\x1b[2J" in plain  # the database in the caption too
    styled = _terminal_output(render_table(report), terminal=True)
    assert "\x1b]8;" not in styled  # no hyperlink
    assert "\x1b[31m" not in styled and "\x1b[2J" not in styled and "\x9b" not in styled


def test_html_and_chart_take_any_stored_value() -> None:
    report = build_report(_hostile_data(GroupBy.MODEL))
    png = render_chart_png(report)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    page = render_html(report, png).encode("utf-8").decode("utf-8")
    assert "[link=http://x]evil[/link]" in page and "sur\\udc80gate" in page
    assert "\x1b" not in page and "\x00" not in page


def _write_hostile_records(db: Path, tmp_path: Path) -> None:
    """One ordinary record per hostile value, then every text column the report reads set to that
    value in the database itself (a record builder may clean values; a database may still hold
    anything an older version or another tool wrote). Not the lone surrogate: no database holds one."""
    from tests.record.record_builders import make_record, write_sqlite_records

    records = [make_record(n, created_at=datetime.now(UTC) - timedelta(hours=1)) for n in range(len(STORABLE))]
    write_sqlite_records(db, records, tmp_path / "spool")
    columns = ("team_id", "api_key_hash", "key_alias", "model_group", "tier")
    with sqlite3.connect(db) as conn:
        for record, (value, _) in zip(records, STORABLE, strict=True):
            assignments = ", ".join(f"{column} = ?" for column in columns)
            changed = conn.execute(
                f"UPDATE request_records SET {assignments} WHERE litellm_call_id = ?",
                (*[value] * len(columns), record.litellm_call_id),
            ).rowcount
            assert changed == 1


def test_cli_report_on_hostile_records(tmp_path: Path) -> None:
    db = tmp_path / "hostile.sqlite"
    _write_hostile_records(db, tmp_path)
    app = typer.Typer()
    register(app)
    for by in GroupBy:
        result = CliRunner().invoke(app, ["report", "--url", f"sqlite:///{db}", "--by", by.value, "--since", "2d"])
        assert result.exit_code == 0, (by, result.output, result.exception)
        assert "\x1b" not in result.output and "\x00" not in result.output and "\r" not in result.output
        for _, expected in STORABLE:
            assert _shown(expected, by) in result.output, (by, expected)


def test_cli_report_prints_a_lone_surrogate_as_an_escape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A value no database stores but a renderer can still be handed: the output stream must not fail."""
    from thinkbudget_litellm.record import report as report_module

    async def fetch(*_args: object, **_kw: object) -> ReportData:
        return _hostile_data(GroupBy.TEAM)

    monkeypatch.setattr(report_module, "fetch_report_data", fetch)
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["report", "--url", f"sqlite:///{tmp_path / 'x.sqlite'}"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "sur\\udc80gate" in result.output and "\x1b" not in result.output


def test_routing_saving_is_summed_per_group_and_shown_only_when_known() -> None:
    with_saving = ReportData(
        **{
            **{f: getattr(DATA, f) for f in ("by", "since", "until", "database", "joined_litellm", "days")},
            "groups": (
                _totals("t1", "t1", 2, 10, cost_usd=0.1, route_saving_usd=0.4),
                _totals("t2", "t2", 1, 10, cost_usd=0.1, route_saving_usd=0.1),
                _totals("t3", "t3", 1, 10),
            ),
        }
    )
    report = build_report(with_saving)
    assert report.total.route_saving_usd == pytest.approx(0.5)
    assert "routing saved $" in table_columns(report)
    assert "routing saved $" not in table_columns(build_report(DATA))


def test_cli_report_sums_the_routing_saving(tmp_path: Path) -> None:
    from tests.record.record_builders import make_record, write_sqlite_records

    db = tmp_path / "routed.sqlite"
    now = datetime.now(UTC) - timedelta(hours=1)
    records = [
        make_record(1, created_at=now, team_id="t", cost_usd=0.25, baseline_cost_usd=1.5, route="qwen-small"),
        make_record(2, created_at=now, team_id="t", cost_usd=0.5, baseline_cost_usd=1.0, route="qwen-medium"),
        make_record(3, created_at=now, team_id="t", cost_usd=0.5),  # not routed: no baseline
    ]
    write_sqlite_records(db, records, tmp_path / "spool")
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["report", "--url", f"sqlite:///{db}", "--since", "2d"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, (result.output, result.exception)
    assert "routing saved $" in result.output, result.output
    assert "1.75" in result.output, result.output  # (1.5 - 0.25) + (1.0 - 0.5); the unrouted one adds nothing

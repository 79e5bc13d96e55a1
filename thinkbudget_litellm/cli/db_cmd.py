"""CLI: ``db upgrade``, ``db url`` and ``report``. Registered on the main app by :func:`register`.

Everything printed that came from the database, a URL, a config file or an exception goes through
:mod:`thinkbudget_litellm.cli.terminal` (shown literally, control characters spelled out)."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from thinkbudget_litellm.cli.extras import Extra, install_command, missing_modules
from thinkbudget_litellm.cli.terminal import error_line, line, visible
from thinkbudget_litellm.record.database_url import DatabaseTarget, DatabaseUrlError, resolve_database_target
from thinkbudget_litellm.record.report import GroupBy

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="Database URL. Default: THINKBUDGET_DATABASE_URL, else LiteLLM's DATABASE_URL, "
        "else ./thinkbudget.sqlite (THINKBUDGET_SQLITE_PATH).",
        show_default=False,
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="LiteLLM config.yaml whose thinkbudget.database_url to use.", show_default=False),
]


def _target(url: str | None, config: Path | None) -> DatabaseTarget:
    """--url, else the config's thinkbudget.database_url, else the environment. Bad input -> BadParameter."""
    if url is None and config is not None:
        from thinkbudget_litellm.policy.config_file import load_settings
        from thinkbudget_litellm.settings import SettingsError

        try:
            url = load_settings(config).database_url
        except SettingsError as exc:
            raise typer.BadParameter(visible(exc), param_hint="--config") from None
    try:
        return resolve_database_target(os.environ, url)
    except DatabaseUrlError as exc:
        raise typer.BadParameter(visible(exc), param_hint="--url") from None


def _fail(console: Console, what: str, exc: BaseException) -> typer.Exit:
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    console.print(error_line(f"{what}: {type(exc).__name__}: {first_line}"))
    return typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add the ``db`` sub-app (``upgrade``, ``url``) and the ``report`` command to ``app``."""
    db_app = typer.Typer(help="The records database (schema thinkbudget).", no_args_is_help=True)

    @db_app.command("upgrade")
    def upgrade(
        url: UrlOption = None,
        config: ConfigOption = None,
        views: Annotated[bool, typer.Option("--views/--no-views", help="(Re)create the reporting views.")] = True,
    ) -> None:
        """Create or migrate schema thinkbudget (idempotent); on Postgres also the reporting views."""
        from thinkbudget_litellm.record.migrate import upgrade_database

        console = Console()
        target = _target(url, config)
        try:
            result = asyncio.run(upgrade_database(target, views=views))
        except Exception as exc:
            raise _fail(console, f"upgrade of {target.display} failed", exc) from None
        state = (
            f"upgraded {result.revision_before or '(empty)'} -> {result.revision_after}"
            if result.changed
            else f"already at {result.revision_after}"
        )
        console.print(line(result.database, ": ", state))
        console.print(line(result.views.message))
        for note in result.notes:
            console.print(line("note: ", note))

    @db_app.command("url")
    def show_url(url: UrlOption = None, config: ConfigOption = None) -> None:
        """Show which database would be used (password masked) and how the URL was cleaned."""
        console = Console()
        target = _target(url, config)
        console.print(line(target.display, "  (from ", target.source, ")"))
        for note in target.notes:
            console.print(line("note: ", note))

    app.add_typer(db_app, name="db")

    @app.command("report")
    def report(
        by: Annotated[GroupBy, typer.Option("--by", help="Group rows by team, key, model or tier.")] = GroupBy.TEAM,
        since: Annotated[
            str, typer.Option("--since", help="Start of the period: 7d, 12h, 30m, 2w or an ISO date.")
        ] = "7d",
        url: UrlOption = None,
        config: ConfigOption = None,
        html: Annotated[
            Path | None,
            typer.Option("--html", help="Also write an HTML page with charts.", show_default=False),
        ] = None,
        png: Annotated[
            Path | None, typer.Option("--png", help="Also write the charts as PNG.", show_default=False)
        ] = None,
        limit: Annotated[int, typer.Option("--limit", min=1, help="Rows shown before folding into 'other'.")] = 20,
    ) -> None:
        """Thinking tokens, tokens saved, energy and cost per group."""
        from thinkbudget_litellm.record.engine import create_engine
        from thinkbudget_litellm.record.report import (
            ReportData,
            build_report,
            fetch_report_data,
            parse_since,
            render_chart_png,
            render_html,
            render_table,
        )

        console = Console()
        now = datetime.now(UTC)
        try:
            start = parse_since(since, now)
        except ValueError as exc:
            raise typer.BadParameter(visible(exc), param_hint="--since") from None
        for option, path in (("--html", html), ("--png", png)):
            if path is None:
                continue
            if not path.parent.exists():
                raise typer.BadParameter(f"directory {visible(path.parent)} does not exist", param_hint=option)
            if missing := missing_modules(Extra.CHARTS):
                raise typer.BadParameter(
                    f"charts need {', '.join(missing)}: {install_command(Extra.CHARTS)}", param_hint=option
                )
        target = _target(url, config)

        async def fetch() -> ReportData:
            engine = create_engine(target, pool_size=1)
            try:
                return await fetch_report_data(engine, by, start, now, target.display)
            finally:
                await engine.dispose()

        try:
            data = asyncio.run(fetch())
        except Exception as exc:
            hint = " (run `thinkbudget-litellm db upgrade` first?)" if "request_records" in str(exc) else ""
            raise _fail(console, f"reading {target.display}{hint}", exc) from None
        result = build_report(data)
        console.print(render_table(result, limit=limit))
        if html is not None or png is not None:
            image = render_chart_png(result)
            if png is not None:
                png.write_bytes(image)
                console.print(line("wrote ", png))
            if html is not None:
                html.write_text(render_html(result, image, limit=limit), encoding="utf-8")
                console.print(line("wrote ", html))

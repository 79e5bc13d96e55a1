"""CLI: ``calibrate``: the budget each (model group, tier, task) cell would get from its records
(Kaplan-Meier over the censored thinking lengths, :mod:`thinkbudget_litellm.calibrate`), next to the
budget it has now. Read-only: a running proxy with ``adaptive.enabled`` applies such budgets itself."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from thinkbudget_litellm.cli.db_cmd import ConfigOption, UrlOption, _fail, _target
from thinkbudget_litellm.cli.extras import Extra, install_command, missing_modules
from thinkbudget_litellm.cli.terminal import line, visible


def register(app: typer.Typer) -> None:
    @app.command("calibrate")
    def calibrate(
        since: Annotated[str, typer.Option("--since", help="Records from: 7d, 12h, 30m, 2w or an ISO date.")] = "7d",
        quantile: Annotated[
            float | None,
            typer.Option("--quantile", min=0.001, max=0.999, help="Share of natural thinking a budget covers."),
        ] = None,
        min_samples: Annotated[
            int | None, typer.Option("--min-samples", min=1, help="Fewer records: the parent cell's budget.")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
        png: Annotated[
            Path | None, typer.Option("--png", help="Also write a chart as PNG.", show_default=False)
        ] = None,
        url: UrlOption = None,
        config: ConfigOption = None,
    ) -> None:
        """Current and proposed thinking budget per model group, tier and task."""
        from thinkbudget_litellm.calibrate.proposal import CellKey, Observation, cell_counts, propose
        from thinkbudget_litellm.calibrate.report import build_rows, render_chart_png, render_table, rows_json
        from thinkbudget_litellm.calibrate.source import CellHistory, fetch_history, fetch_observations
        from thinkbudget_litellm.policy.config_file import load_settings
        from thinkbudget_litellm.record.engine import create_engine
        from thinkbudget_litellm.record.report import parse_since
        from thinkbudget_litellm.settings import SettingsError, ThinkBudgetSettings

        console = Console(width=max(Console().width, 150))  # eleven columns: wider than 80 when piped
        now = datetime.now(UTC)
        try:
            start = parse_since(since, now)
        except ValueError as exc:
            raise typer.BadParameter(visible(exc), param_hint="--since") from None
        if png is not None:
            if not png.parent.exists():
                raise typer.BadParameter(f"directory {visible(png.parent)} does not exist", param_hint="--png")
            if missing := missing_modules(Extra.CHARTS):
                raise typer.BadParameter(
                    f"charts need {', '.join(missing)}: {install_command(Extra.CHARTS)}", param_hint="--png"
                )
        try:
            settings = load_settings(config) if config is not None else ThinkBudgetSettings()
        except SettingsError as exc:
            raise typer.BadParameter(visible(exc), param_hint="--config") from None
        updates = {k: v for k, v in (("quantile", quantile), ("min_samples", min_samples)) if v is not None}
        adaptive = settings.adaptive.model_copy(update=updates)
        target = _target(url, config)

        async def fetch() -> tuple[list[Observation], dict[CellKey, CellHistory]]:
            engine = create_engine(target, pool_size=1)
            try:
                return await fetch_observations(engine, start, now), dict(await fetch_history(engine, start, now))
            finally:
                await engine.dispose()

        try:
            observations, history = asyncio.run(fetch())
        except Exception as exc:
            hint = " (run `thinkbudget-litellm db upgrade` first?)" if "request_records" in str(exc) else ""
            raise _fail(console, f"reading {target.display}{hint}", exc) from None
        proposals = propose(cell_counts(observations), settings.budgets, adaptive)
        rows = build_rows(proposals, history)
        meta = {
            "database": target.display,
            "since": start.isoformat(),
            "until": now.isoformat(),
            "quantile": adaptive.quantile,
            "min_samples": adaptive.min_samples,
            "estimator": "kaplan-meier (cut or capped requests right-censored at their thinking)",
        }
        if as_json:
            typer.echo(json.dumps(rows_json(rows, meta), indent=1))
        else:
            title = f"calibrated budgets, quantile {adaptive.quantile:g}, records since {start:%Y-%m-%d %H:%M} UTC"
            console.print(render_table(rows, title))
            if not rows:
                console.print(line("no answered requests in this period"))
        if png is not None:
            png.write_bytes(render_chart_png(rows))
            if not as_json:
                console.print(line("wrote ", png))

"""``check-config``: validate the thinkbudget blocks of a LiteLLM config before starting the proxy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console

from thinkbudget_litellm.policy.config_file import load_settings
from thinkbudget_litellm.settings import DeploymentSettings, SettingsError, parse_settings


def register(app: typer.Typer) -> None:
    @app.command("check-config")
    def check_config(
        config: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="LiteLLM config.yaml")],
    ) -> None:
        """Validate ``thinkbudget:`` and every deployment's ``model_info.thinkbudget``."""
        console = Console()
        errors: list[str] = []
        try:
            settings = load_settings(config)
            console.print(
                f"thinkbudget: budgets {{{', '.join(f'{t.value}: {n}' for t, n in settings.budgets.items())}}}"
            )
        except SettingsError as exc:
            errors.append(str(exc))
        doc = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        for i, dep in enumerate(doc.get("model_list") or []):
            name = (dep or {}).get("model_name", f"#{i}")
            block = ((dep or {}).get("model_info") or {}).get("thinkbudget")
            if block is None:
                console.print(f"deployment {name}: no thinkbudget block (default enforcement)")
                continue
            try:
                parsed = parse_settings(
                    DeploymentSettings, block, f"deployment {name} model_info.thinkbudget", operator_config=True
                )
                console.print(
                    f"deployment {name}: enforcement={parsed.enforcement.value} "
                    f"energy={parsed.energy.source.value} gpu={parsed.gpu.count}x{parsed.gpu.name}"
                )
            except SettingsError as exc:
                errors.append(str(exc))
        for e in errors:
            console.print(f"[red]error:[/red] {e}")
        if errors:
            raise typer.Exit(code=2)
        console.print("[green]ok[/green]")

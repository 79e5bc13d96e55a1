"""``check-config``: validate the thinkbudget blocks of a LiteLLM config before starting the proxy.

Deployment names and error messages quote the config; they are printed literally (never as rich
markup) with control characters spelled out (:mod:`thinkbudget_litellm.cli.terminal`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console

from thinkbudget_litellm.cli.terminal import error_line, line, styled
from thinkbudget_litellm.policy.config_file import load_settings
from thinkbudget_litellm.settings import DeploymentSettings, SettingsError, parse_settings


def _deployments(path: Path) -> list[tuple[str, Any]]:
    """``(model_name, model_info.thinkbudget block or None)`` per entry of ``model_list``; a file that
    does not parse or holds no list yields none (``load_settings`` has reported it already)."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    entries = doc.get("model_list") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        return []
    found: list[tuple[str, Any]] = []
    for i, entry in enumerate(entries):
        entry = entry if isinstance(entry, dict) else {}
        info = entry.get("model_info")
        block = info.get("thinkbudget") if isinstance(info, dict) else None
        found.append((str(entry.get("model_name", f"#{i}")), block))
    return found


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
            budgets = ", ".join(f"{tier.value}: {n}" for tier, n in settings.budgets.items())
            console.print(line(f"thinkbudget: budgets {{{budgets}}}"))
        except SettingsError as exc:
            errors.append(str(exc))
        for name, block in _deployments(config):
            if block is None:
                console.print(line("deployment ", name, ": no thinkbudget block (default enforcement)"))
                continue
            try:
                parsed = parse_settings(
                    DeploymentSettings, block, f"deployment {name} model_info.thinkbudget", operator_config=True
                )
            except SettingsError as exc:
                errors.append(str(exc))
                continue
            console.print(
                line(
                    "deployment ",
                    name,
                    f": enforcement={parsed.enforcement.value} energy={parsed.energy.source.value} gpu=",
                    f"{parsed.gpu.count}x",
                    parsed.gpu.name,
                )
            )
        for error in errors:
            console.print(error_line(error))
        if errors:
            raise typer.Exit(code=2)
        console.print(styled("ok", "green"))

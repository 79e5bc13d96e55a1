"""Read the ``thinkbudget:`` block from LiteLLM's config.yaml (or from a file that block names)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from thinkbudget_litellm.settings import SettingsError, ThinkBudgetSettings, parse_settings

CONFIG_ENV = "THINKBUDGET_CONFIG"


def settings_from_mapping(raw: Any, where: str = "thinkbudget", base_dir: Path | None = None) -> ThinkBudgetSettings:
    """Validate a ``thinkbudget`` mapping; ``config_file: path`` loads the block from another YAML file."""
    if isinstance(raw, dict) and "config_file" in raw:
        rest = {k: v for k, v in raw.items() if k != "config_file"}
        target = Path(str(raw["config_file"]))
        if not target.is_absolute() and base_dir is not None:
            target = base_dir / target
        loaded = _read_yaml(target)
        block = loaded.get("thinkbudget", loaded) if isinstance(loaded, dict) else loaded
        if not isinstance(block, dict):
            raise SettingsError(f"{where}.config_file: {target} does not hold a mapping")
        raw = {**block, **rest}
        where = f"{target}:thinkbudget"
    return parse_settings(ThinkBudgetSettings, raw, where, operator_config=True)


def load_settings(path: str | os.PathLike[str] | None = None) -> ThinkBudgetSettings:
    """Settings from ``path`` (a LiteLLM config.yaml or a standalone file), ``$THINKBUDGET_CONFIG``, or defaults."""
    chosen = path if path is not None else os.environ.get(CONFIG_ENV)
    if chosen is None:
        return ThinkBudgetSettings()
    p = Path(chosen)
    doc = _read_yaml(p)
    if not isinstance(doc, dict):
        raise SettingsError(f"{p}: expected a YAML mapping at the top level")
    return settings_from_mapping(doc.get("thinkbudget", {}), f"{p}:thinkbudget", p.parent)


def _read_yaml(p: Path) -> Any:
    try:
        with p.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh) or {}
    except FileNotFoundError:
        raise SettingsError(f"config file not found: {p}") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"{p}: invalid YAML: {exc}") from None

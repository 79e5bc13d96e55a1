"""The proxy callback runs on the core dependencies alone; the rest are extras (pyproject.toml).

A plain ``pip install thinkbudget-litellm`` (with ``litellm[proxy]``) lacks typer and matplotlib, and
rich, openai and aiohttp are there only because LiteLLM brings them. So in a fresh interpreter,
with typer and matplotlib made absent and any import of rich, openai, aiohttp or click by one of
*our* modules refused, every proxy-side module must import, ``proxy_handler`` must build, and the
lazily imported schema upgrade (Alembic and the migrations) must run.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from thinkbudget_litellm.cli.extras import MODULES, Extra

ROOT = Path(__file__).resolve().parents[2]

_CHILD = r"""
import asyncio, builtins, importlib, pkgutil, sys, tempfile
from pathlib import Path

ABSENT = ("typer", "matplotlib")  # only extras bring these
NOT_FROM_US = ("rich", "openai", "aiohttp", "click")  # LiteLLM brings these; the callback must not need them
for name in ABSENT:
    sys.modules[name] = None  # "import typer" now raises ModuleNotFoundError

refused = []


def _check(importer, name, level):
    if level == 0 and name.partition(".")[0] in NOT_FROM_US and str(importer).startswith("thinkbudget_litellm"):
        refused.append(f"{importer} imports {name}")
        raise ModuleNotFoundError(f"{importer} imports {name}, an extra", name=name)


real_import, real_import_module = builtins.__import__, importlib.import_module


def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    _check((globals or {}).get("__name__", ""), name, level)
    return real_import(name, globals, locals, fromlist, level)


def guarded_import_module(name, package=None):
    _check(sys._getframe(1).f_globals.get("__name__", ""), name, 0 if not name.startswith(".") else 1)
    return real_import_module(name, package)


builtins.__import__, importlib.import_module = guarded_import, guarded_import_module

import thinkbudget_litellm

PACKAGES = ["handler", "meter", "record", "policy", "classify", "enforce"]
MODULES = ["settings", "metrics", "tiers"]
CLI_SIDE = ("thinkbudget_litellm.record.report", "thinkbudget_litellm.record.migrations")
imported = []
for package in PACKAGES:
    root = real_import_module(f"thinkbudget_litellm.{package}")
    imported.append(root.__name__)
    for info in pkgutil.walk_packages(root.__path__, root.__name__ + "."):
        if not info.name.startswith(CLI_SIDE):  # the migrations are loaded by Alembic, below
            real_import_module(info.name)
            imported.append(info.name)
for name in MODULES:
    imported.append(real_import_module(f"thinkbudget_litellm.{name}").__name__)

handler = thinkbudget_litellm.proxy_handler
from thinkbudget_litellm.record import upgrade_database
from thinkbudget_litellm.record.database_url import clean_database_url

with tempfile.TemporaryDirectory() as tmp:
    result = asyncio.run(upgrade_database(clean_database_url(f"sqlite:///{Path(tmp) / 'core.sqlite'}")))

for name in ABSENT:
    assert sys.modules[name] is None, f"{name} was imported around the guard"
assert not refused, refused
print("imported", len(imported), "modules; handler", type(handler).__name__, "; schema at", result.revision_after)
"""


def test_the_proxy_callback_imports_and_migrates_without_any_extra(tmp_path: Path) -> None:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False"}
    env.pop("THINKBUDGET_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-4000:]
    match = re.search(r"imported (\d+) modules; handler ThinkBudgetHandler ; schema at (\S+)", done.stdout)
    assert match is not None, done.stdout
    assert int(match.group(1)) > 40  # the walk did find the proxy-side modules


def _requirement_names(requirements: list[str]) -> set[str]:
    names = (re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0] for requirement in requirements)
    return {name.lower().replace("_", "-") for name in names}


def _extras() -> tuple[set[str], dict[str, list[str]]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return _requirement_names(project["dependencies"]), project["optional-dependencies"]


def test_each_extra_declares_the_modules_the_cli_says_it_brings() -> None:
    core, extras = _extras()
    providers = importlib.metadata.packages_distributions()
    for extra, modules in MODULES.items():
        declared = _requirement_names(extras[extra.value])
        for module in modules:
            distributions = {name.lower() for name in providers[module]}
            assert distributions & declared, (extra, module)
            assert not distributions & core, f"{module} is an extra's, not a core dependency"


def test_dev_installs_every_extra() -> None:
    _, extras = _extras()
    (self_reference,) = [r for r in extras["dev"] if r.startswith("thinkbudget-litellm[")]
    included = set(self_reference.removeprefix("thinkbudget-litellm[").removesuffix("]").split(","))
    assert included == set(extras) - {"dev"}
    assert {extra.value for extra in Extra} <= included

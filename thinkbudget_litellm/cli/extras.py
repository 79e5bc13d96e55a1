"""The optional parts of the package (``pip install 'thinkbudget-litellm[cli]'`` and friends) and
the message that names the one to install when a command finds a module missing.

The proxy callback needs none of them; pyproject.toml declares them, and this module only knows
which extra brings which importable module (a test holds the two together). Imports nothing that
an extra brings, so the ``thinkbudget-litellm`` entry point can load it and explain what is missing.
"""

from __future__ import annotations

import importlib.util
from enum import StrEnum

DISTRIBUTION = "thinkbudget-litellm"


class Extra(StrEnum):
    """The extras of pyproject.toml that add runtime modules."""

    CLI = "cli"  # the thinkbudget-litellm command: typer, rich
    CHARTS = "charts"  # report --png/--html: matplotlib
    SIM = "sim"  # the simulated reasoning backend: aiohttp
    DEMO = "demo"  # the demo's OpenAI client: openai
    DASHBOARD = "dashboard"  # the dashboard's charts: plotly (its plotly.min.js)
    TRAIN = "train"  # benchmarks/train_classifier.py: scikit-learn


# Each module an extra adds, by its top-level import name.
MODULES: dict[Extra, tuple[str, ...]] = {
    Extra.CLI: ("typer", "rich"),
    Extra.CHARTS: ("matplotlib",),
    Extra.SIM: ("aiohttp",),
    Extra.DEMO: ("openai",),
    Extra.DASHBOARD: ("plotly",),
    Extra.TRAIN: ("sklearn",),
}
_EXTRA_OF_MODULE: dict[str, Extra] = {module: extra for extra, modules in MODULES.items() for module in modules}


def install_command(extra: Extra) -> str:
    return f"pip install '{DISTRIBUTION}[{extra.value}]'"


def extra_providing(module_name: str | None) -> Extra | None:
    """The extra whose install brings ``module_name`` (``"matplotlib.pyplot"`` counts as matplotlib)."""
    if not module_name:
        return None
    return _EXTRA_OF_MODULE.get(module_name.partition(".")[0])


def missing_modules(extra: Extra) -> tuple[str, ...]:
    """The modules of ``extra`` that cannot be imported here."""
    return tuple(module for module in MODULES[extra] if importlib.util.find_spec(module) is None)


def missing_extra_message(extra: Extra, module_name: str) -> str:
    """What to tell someone whose command stopped because ``module_name`` (of ``extra``) is absent."""
    message = (
        f"{DISTRIBUTION}: this needs the '{extra.value}' extra ({module_name} is not installed); install it with\n"
        f"    {install_command(extra)}\n"
    )
    if extra is Extra.CLI:
        message += (
            "The proxy callback itself does not need it: it creates or migrates schema thinkbudget when the proxy\n"
            "starts. Install the extra where you run `db upgrade`, `check-config` or `report`.\n"
        )
    return message

"""The ``thinkbudget-litellm`` Typer application: demo, simulated backend, classifier, database and
report commands. Needs the ``cli`` extra; :mod:`thinkbudget_litellm.cli.main` is the entry point."""

from __future__ import annotations

import typer

from thinkbudget_litellm.cli import calibrate_cmd, check_cmd, classify_cmd, db_cmd, demo_cmd, sim_cmd

app = typer.Typer(
    name="thinkbudget-litellm",
    help="Thinking budgets, GPU energy and cost for reasoning models behind the LiteLLM proxy.",
    no_args_is_help=True,
    add_completion=False,
)

for module in (demo_cmd, sim_cmd, classify_cmd, db_cmd, check_cmd, calibrate_cmd):
    module.register(app)

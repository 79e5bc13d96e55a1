"""``thinkbudget-litellm``: demo, simulated backend, classifier, database and report commands."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from thinkbudget_litellm.cli import check_cmd, classify_cmd, db_cmd, demo_cmd, sim_cmd

app = typer.Typer(
    name="thinkbudget-litellm",
    help="Thinking budgets, GPU energy and cost for reasoning models behind the LiteLLM proxy.",
    no_args_is_help=True,
    add_completion=False,
)

for module in (demo_cmd, sim_cmd, classify_cmd, db_cmd, check_cmd):
    module.register(app)


def main(argv: list[str] | None = None) -> None:
    app(
        args=argv if argv is not None else sys.argv[1:],
        prog_name=Path(sys.argv[0]).name or "thinkbudget-litellm",
    )


if __name__ == "__main__":
    main()

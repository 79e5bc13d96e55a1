"""``demo``: the README's first command."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        tokens_per_second: float = typer.Option(2000.0, help="simulated generation speed per request"),
        serve: bool = typer.Option(
            False, "--serve", help="keep the stack up: prints the dashboard's URL and a curl line; Ctrl-C stops it"
        ),
    ) -> None:
        """Start the simulated backends and a LiteLLM proxy with thinkbudget, send prompts, print a table.

        Records go where `report` reads them (THINKBUDGET_DATABASE_URL, else ./thinkbudget.sqlite)."""
        from thinkbudget_litellm.demo.run import run_demo

        try:
            run_demo(tokens_per_second=tokens_per_second, serve=serve)
        except KeyboardInterrupt:
            typer.echo("interrupted; all processes stopped.", err=True)
            raise typer.Exit(code=130) from None

"""``demo``: the README's first command."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        tokens_per_second: float = typer.Option(2000.0, help="simulated generation speed per request"),
    ) -> None:
        """Start the simulated backends and a LiteLLM proxy with thinkbudget, send prompts, print a table."""
        from thinkbudget_litellm.demo.run import run_demo

        try:
            run_demo(tokens_per_second=tokens_per_second)
        except KeyboardInterrupt:
            typer.echo("interrupted; all processes stopped.", err=True)
            raise typer.Exit(code=130) from None

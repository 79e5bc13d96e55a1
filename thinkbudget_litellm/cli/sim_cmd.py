"""``thinkbudget-litellm sim-backend``: serve the simulated reasoning backend (a test double of vLLM
serving a DeepSeek-R1 distill; all tokens, timings and energy are simulated)."""

from __future__ import annotations

import dataclasses
import enum
from typing import Annotated

import typer

from thinkbudget_litellm.sim.config import SimConfig, Style, Template

_D = SimConfig()


def sim_backend(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind; 0 picks a free one (printed on the ready line).")] = 8000,
    model_name: Annotated[str, typer.Option("--model-name", help="Served model name.")] = _D.model_name,
    style: Annotated[Style, typer.Option(help="How thinking is returned: parser, inline or preopened.")] = _D.style,
    template: Annotated[
        Template,
        typer.Option(help="keeps, or strips (DeepSeek-R1: continue_final_message fails with vLLM's HTTP 400)."),
    ] = _D.template,
    native_budget: Annotated[
        bool,
        typer.Option("--native-budget/--no-native-budget", help="Honour thinking_token_budget like vLLM."),
    ] = _D.native_budget,
    think_median: Annotated[float, typer.Option(help="Median natural thinking tokens.")] = _D.think_median,
    think_sigma: Annotated[float, typer.Option(help="Lognormal sigma of thinking length.")] = _D.think_sigma,
    think_min: Annotated[int, typer.Option(help="Clip thinking length below.")] = _D.think_min,
    think_max: Annotated[int, typer.Option(help="Clip thinking length above.")] = _D.think_max,
    think_tokens: Annotated[int | None, typer.Option(help="Fix thinking length for every request.")] = None,
    answer_min: Annotated[int, typer.Option(help="Shortest natural answer (tokens).")] = _D.answer_min,
    answer_max: Annotated[int, typer.Option(help="Longest natural answer (tokens).")] = _D.answer_max,
    answer_tokens: Annotated[int | None, typer.Option(help="Fix answer length for every request.")] = None,
    tokens_per_second: Annotated[
        float, typer.Option(help="Per-request stream rate; 0 = as fast as possible.")
    ] = _D.tokens_per_second,
    max_model_len: Annotated[int, typer.Option(help="Context length (prompt + completion).")] = _D.max_model_len,
    joules_per_token: Annotated[
        float, typer.Option(help="Simulated energy per generated token (J).")
    ] = _D.joules_per_token,
    prefill_weight: Annotated[
        float, typer.Option(help="Energy of a prompt token relative to a generated one.")
    ] = _D.prefill_weight,
    idle_watts: Annotated[float, typer.Option(help="Simulated idle power per GPU (W).")] = _D.idle_watts,
    gpus: Annotated[int, typer.Option(help="Number of simulated GPUs (energy split evenly).")] = _D.gpus,
) -> None:
    """Serve a SIMULATED vLLM-like reasoning model (OpenAI API, /metrics, /sim/stats)."""
    values = {k: v for k, v in locals().items() if k not in ("host", "port")}
    from thinkbudget_litellm.sim.server import run_server

    try:
        config = SimConfig(**values)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    run_server(config, host, port)


def cli_args(config: SimConfig) -> list[str]:
    """Command-line options reproducing config, e.g. for a subprocess ``sim-backend`` command."""
    args: list[str] = []
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        flag = "--" + field.name.replace("_", "-")
        if isinstance(value, bool):
            args.append(flag if value else "--no-" + flag[2:])
        elif value is not None:
            args += [flag, str(value.value if isinstance(value, enum.Enum) else value)]
    return args


def register(app: typer.Typer) -> None:
    app.command("sim-backend")(sim_backend)

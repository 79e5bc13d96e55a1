"""``classify``: tier, task and thinking budget of a prompt, or of a JSONL stream of requests.

    thinkbudget-litellm classify "Prove that sqrt(2) is irrational."
    thinkbudget-litellm classify --json "hi"
    thinkbudget-litellm classify --jsonl < requests.jsonl

In ``--jsonl`` mode each input line is a JSON object holding ``messages`` (an OpenAI chat
list) or ``text``, and optionally ``id``. Each line gets one JSON line back with ``tier``,
``task``, ``budget``, ``score`` and the ``id`` if one was given. A bad line gets a JSON
line ``{"line": N, "error": "..."}`` instead, plus a note on stderr. Processing continues,
and the exit code is 1 if any line was bad. Blank lines are skipped.

Output is safe on a terminal whatever the input held: JSON lines carry control characters, bidi
controls and lone surrogates (e.g. in an echoed ``id``) as ``\\uXXXX`` escapes, and text lines
spell them out (:mod:`thinkbudget_litellm.cli.terminal`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from thinkbudget_litellm.classify import Classification, classify
from thinkbudget_litellm.cli.terminal import json_line, visible
from thinkbudget_litellm.policy.config_file import load_settings
from thinkbudget_litellm.settings import SettingsError
from thinkbudget_litellm.tiers import Tier


def result_record(result: Classification, budgets: Mapping[Tier, int]) -> dict[str, Any]:
    """The JSON-ready view of one classification."""
    return {
        "tier": result.tier.value,
        "task": result.task.value,
        "budget": budgets[result.tier],
        "score": result.score,
        "confidence": round(result.confidence, 4),
        "probabilities": {tier.value: round(p, 4) for tier, p in result.probabilities.items()},
        "reasons": list(result.reasons),
    }


def classify_line(line: str, budgets: Mapping[Tier, int]) -> dict[str, Any]:
    """Classify one JSONL line; raises ValueError (with a readable message) for a bad line."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    if "messages" in record:
        payload = record["messages"]
        if not isinstance(payload, list):
            raise ValueError("'messages' must be a list of chat messages")
    elif "text" in record:
        payload = record["text"]
        if not isinstance(payload, str):
            raise ValueError("'text' must be a string")
    else:
        raise ValueError("expected a 'messages' or 'text' field")
    try:
        out = result_record(classify(payload), budgets)
    except (TypeError, ValueError) as exc:
        raise ValueError(str(exc)) from None
    if "id" in record:
        out = {"id": record["id"], **out}
    return out


def run_jsonl(lines: Iterable[str], budgets: Mapping[Tier, int], out: TextIO, err: TextIO) -> int:
    """Classify every line; returns the number of bad lines."""
    bad = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = classify_line(line, budgets)
        except ValueError as exc:
            bad += 1
            record = {"line": number, "error": str(exc)}
            err.write(f"line {number}: {visible(exc)}\n")
        out.write(json_line(record) + "\n")
    return bad


def register(app: typer.Typer) -> None:
    @app.command("classify")
    def classify_command(
        text: Annotated[str | None, typer.Argument(help="the prompt to classify ('-' reads it from stdin)")] = None,
        jsonl: Annotated[
            bool, typer.Option("--jsonl", help="read JSONL requests from stdin, write JSONL results")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="print the result of TEXT as one JSON object")] = False,
        config: Annotated[
            Path | None,
            typer.Option("--config", "-c", dir_okay=False, help="LiteLLM config.yaml with a thinkbudget block"),
        ] = None,
    ) -> None:
        """Classify a prompt into a thinking tier and task, and show its thinking budget."""
        if jsonl == (text is not None):
            typer.echo("error: give either TEXT (or '-') or --jsonl", err=True)
            raise typer.Exit(code=2)
        try:
            budgets = load_settings(config).budgets
        except SettingsError as exc:
            typer.echo(f"error: {visible(exc)}", err=True)
            raise typer.Exit(code=2) from None
        if jsonl:
            bad = run_jsonl(sys.stdin, budgets, sys.stdout, sys.stderr)
            if bad:
                typer.echo(f"{bad} bad line(s)", err=True)
                raise typer.Exit(code=1)
            return
        prompt = sys.stdin.read() if text == "-" else (text or "")
        record = result_record(classify(prompt), budgets)
        if as_json:
            typer.echo(json_line(record))
            return
        typer.echo(f"tier:    {record['tier']}")
        typer.echo(f"task:    {record['task']}")
        typer.echo(f"budget:  {record['budget']} thinking tokens")
        typer.echo(f"score:   {record['score']}")
        if record["probabilities"]:
            shares = ", ".join(f"{tier} {p:.0%}" for tier, p in record["probabilities"].items())
            typer.echo(f"chances: {shares} (confidence {record['confidence']:.0%})")
        typer.echo(f"reasons: {visible('; '.join(record['reasons']))}")

"""The ``classify`` command, run through a Typer app built here (the lead owns cli/main.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from thinkbudget_litellm.classify import classify
from thinkbudget_litellm.cli import classify_cmd


@pytest.fixture()
def app() -> typer.Typer:
    application = typer.Typer()
    classify_cmd.register(application)

    @application.callback()
    def _root() -> None:  # keeps "classify" a subcommand, as in the real CLI
        """test app"""

    return application


runner = CliRunner()


def test_text_prints_tier_task_and_default_budget(app: typer.Typer) -> None:
    result = runner.invoke(app, ["classify", "Prove that sqrt(3) is irrational."])
    assert result.exit_code == 0, result.output
    assert "tier:    deep" in result.stdout
    assert "task:    math" in result.stdout
    assert "budget:  8192 thinking tokens" in result.stdout


def test_json_output(app: typer.Typer) -> None:
    result = runner.invoke(app, ["classify", "--json", "hi"])
    assert result.exit_code == 0
    record = json.loads(result.stdout)
    assert record["tier"] == "trivial" and record["budget"] == 32 and record["task"] == "chat"


def test_budgets_come_from_the_config_file(app: typer.Typer, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("model_list: []\nthinkbudget:\n  budgets:\n    deep: 12000\n", encoding="utf-8")
    result = runner.invoke(app, ["classify", "--config", str(config), "--json", "Prove Fermat's little theorem."])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["budget"] == 12000


def test_invalid_config_is_a_clean_error(app: typer.Typer, tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("thinkbudget:\n  budgets:\n    deep: -5\n", encoding="utf-8")
    result = runner.invoke(app, ["classify", "--config", str(config), "hi"])
    assert result.exit_code == 2
    assert "deep" in result.stderr


def test_stdin_text(app: typer.Typer) -> None:
    result = runner.invoke(app, ["classify", "--json", "-"], input="Design a URL shortener for 5k rps.\n")
    out = json.loads(result.stdout)
    want = classify("Design a URL shortener for 5k rps.\n")
    assert (out["tier"], out["task"]) == (want.tier.value, want.task.value)
    assert out["tier"] in ("complex", "deep")  # a design under load: never below complex
    assert abs(sum(out["probabilities"].values()) - 1) < 0.01 and 0 < out["confidence"] <= 1


def test_jsonl_round_trip_with_ids_and_bad_lines(app: typer.Typer) -> None:
    lines = [
        json.dumps({"id": "a", "text": "hello"}),
        "{not json",
        "",
        json.dumps({"id": 7, "messages": [{"role": "user", "content": "Find the bug: print(1/0)"}]}),
        json.dumps(["a", "list"]),
        json.dumps({"text": 5}),
        json.dumps({"messages": [{"role": "user", "content": "capital of Chile?"}]}),
        json.dumps({"messages": "nope"}),
        json.dumps({"neither": True}),
    ]
    result = runner.invoke(app, ["classify", "--jsonl"], input="\n".join(lines) + "\n")
    assert result.exit_code == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 8  # the blank line is skipped, every other line answers
    assert out[0] == {**out[0], "id": "a", "tier": "trivial", "task": "chat", "budget": 32}
    assert out[1]["line"] == 2 and "invalid JSON" in out[1]["error"]
    assert out[2]["id"] == 7 and out[2]["tier"] == "complex" and out[2]["budget"] == 2048
    assert out[3] == {"line": 5, "error": "expected a JSON object, got list"}
    assert out[4]["line"] == 6 and "'text' must be a string" in out[4]["error"]
    assert "id" not in out[5] and out[5]["tier"] == "simple"
    assert out[6]["line"] == 8 and out[7]["line"] == 9
    assert "line 2:" in result.stderr and "5 bad line(s)" in result.stderr


def test_jsonl_all_good_exits_zero(app: typer.Typer) -> None:
    result = runner.invoke(app, ["classify", "--jsonl"], input=json.dumps({"text": "thanks!"}) + "\n")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["tier"] == "trivial"


@pytest.mark.parametrize("args", [["classify"], ["classify", "--jsonl", "some text"]])
def test_text_and_jsonl_are_exclusive(app: typer.Typer, args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "either TEXT" in result.stderr


def test_jsonl_output_is_safe_to_print_and_the_same_json(app: typer.Typer) -> None:
    """An echoed id may hold C1 controls, bidi overrides, ESC or a lone surrogate: they come back as
    \\u escapes (equal JSON), never raw where a terminal would obey or fail to encode them."""
    ids = ["c1\x9b31m", "sur\udc80gate", "bidi\u202eevil", "esc\x1b[2J", "ok 模型"]
    lines = "".join(json.dumps({"id": value, "text": "hi"}) + "\n" for value in ids)
    result = runner.invoke(app, ["classify", "--jsonl"], input=lines)
    assert result.exit_code == 0, (result.output, result.exception)
    assert not any(char in result.stdout for char in "\x9b\u202e\x1b")
    assert [json.loads(out)["id"] for out in result.stdout.splitlines()] == ids
    assert "ok 模型" in result.stdout  # other text stays readable

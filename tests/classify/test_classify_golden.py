"""The classifier reproduces every answer in the golden file exactly.

The golden file was written by ``golden_cases.py`` from the classifier before its speed work.
Optimisations must not change any tier, task, score, feature or reason; a rule change that is
meant to change answers regenerates the file (see ``golden_cases.py``) and says so in its commit.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.classify.golden_cases import GOLDEN, answer, dataset_rows, generated_inputs, prompt_of
from thinkbudget_litellm.classify import classify_rules


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(GOLDEN.read_text(encoding="utf-8"))
    return data


def test_dataset_answers_are_unchanged(golden: dict[str, Any]) -> None:
    rows = dataset_rows()
    assert {r["id"] for r in rows} == set(golden["dataset"]), "dataset changed: regenerate the golden file"
    changed = [
        (r["id"], golden["dataset"][r["id"]], got)
        for r in rows
        if (got := answer(classify_rules(prompt_of(r)))) != golden["dataset"][r["id"]]
    ]
    assert not changed


def test_recorded_test_inputs_give_the_same_answers(golden: dict[str, Any]) -> None:
    assert len(golden["recorded"]) > 500
    changed = [(x, want, got) for x, want in golden["recorded"] if (got := answer(classify_rules(x))) != want]
    assert not changed


def test_generated_inputs_give_the_same_answers(golden: dict[str, Any]) -> None:
    inputs = generated_inputs()
    assert len(inputs) == len(golden["generated"])
    changed = [
        (i, want, got)
        for i, (x, want) in enumerate(zip(inputs, golden["generated"], strict=True))
        if (got := answer(classify_rules(x))) != want
    ]
    assert not changed

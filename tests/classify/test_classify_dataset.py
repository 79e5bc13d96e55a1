"""The labelled dataset: its shape, and an accuracy floor on the dev split.

Only the dev split is used here: the test split stays held apart for the benchmark.
The floor is well below today's figure, so that ordinary rule changes pass. Breaking the
classifier (or the dataset) makes it fail.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from thinkbudget_litellm.classify import classify
from thinkbudget_litellm.tiers import TIER_ORDER, Task

DATASETS = Path(__file__).resolve().parents[2] / "benchmarks" / "datasets"
TIERS = [t.value for t in TIER_ORDER]
DEV_EXACT_FLOOR = 0.90
DEV_UNDER_BUDGET_CEILING = 0.03


def load(split: str) -> list[dict[str, Any]]:
    with (DATASETS / f"{split}.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="module")
def dev() -> list[dict[str, Any]]:
    return load("dev")


def test_dataset_shape() -> None:
    dev_rows, test_rows = load("dev"), load("test")
    rows = dev_rows + test_rows
    assert len(rows) >= 330
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "ids must be unique across the splits"
    per_tier = Counter(r["tier"] for r in rows)
    assert all(per_tier[t] >= 40 for t in TIERS), per_tier
    assert 0.55 <= len(dev_rows) / len(rows) <= 0.65
    tasks = {t.value for t in Task}
    for r in rows:
        assert r["tier"] in TIERS and r["task"] in tasks
        assert ("text" in r) != ("messages" in r), r["id"]


def test_dev_accuracy_floor(dev: list[dict[str, Any]]) -> None:
    exact = under = 0
    misses = []
    for row in dev:
        prompt = row["messages"] if "messages" in row else row["text"]
        predicted = TIERS.index(classify(prompt).tier.value)
        gold = TIERS.index(row["tier"])
        exact += predicted == gold
        under += predicted < gold
        if predicted != gold:
            misses.append(f"{row['id']}: {row['tier']} -> {TIERS[predicted]}")
    n = len(dev)
    assert exact / n >= DEV_EXACT_FLOOR, misses
    assert under / n <= DEV_UNDER_BUDGET_CEILING, misses

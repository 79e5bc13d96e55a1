"""The v2 labelled set: the frozen test split stays frozen, the split is what build.py makes of
the raw files, and the shipped learned stage was trained on the committed training data."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from thinkbudget_litellm.classify import classify
from thinkbudget_litellm.classify.learned import decide_tier, shipped_model
from thinkbudget_litellm.tiers import TIER_ORDER, Tier

ROOT = Path(__file__).resolve().parents[2]
V2 = ROOT / "benchmarks" / "datasets" / "v2"
sys.path.insert(0, str(V2))
import build  # noqa: E402


def _rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (V2 / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_split_is_what_build_makes_of_the_raw_files() -> None:
    train, test, _problems = build.build()
    assert _rows("train.jsonl") == train and _rows("test.jsonl") == test
    assert not {r["id"] for r in train} & {r["id"] for r in test}


def test_no_frozen_test_row_was_edited_or_dropped() -> None:
    frozen = dict(line.split() for line in (V2 / "FROZEN").read_text().splitlines() if line.strip())
    current = {r["id"]: build.row_digest(r) for r in _rows("test.jsonl")}
    assert frozen == current


def test_the_shipped_model_was_trained_on_the_committed_training_data() -> None:
    model = shipped_model()
    assert model is not None
    digest = hashlib.sha256()
    for name in model.meta["trained_on"]:
        digest.update((ROOT / name).read_bytes())
    assert model.meta["data_sha256"] == digest.hexdigest(), "retrain: python benchmarks/train_classifier.py"
    assert "benchmarks/datasets/v2/test.jsonl" not in model.meta["trained_on"]


@pytest.mark.parametrize(
    ("probabilities", "risk", "tier"),
    [
        ({Tier.TRIVIAL: 1.0}, 0.2, Tier.TRIVIAL),
        ({Tier.SIMPLE: 0.6, Tier.MODERATE: 0.4}, 0.5, Tier.SIMPLE),
        ({Tier.SIMPLE: 0.6, Tier.MODERATE: 0.4}, 0.3, Tier.MODERATE),  # torn: the higher one
        ({Tier.SIMPLE: 0.9, Tier.DEEP: 0.1}, 0.05, Tier.DEEP),
        ({Tier.SIMPLE: 0.9, Tier.DEEP: 0.1}, 0.1, Tier.SIMPLE),
        ({}, 0.5, Tier.DEEP),  # no information: the rubric says take the higher
    ],
)
def test_decide_tier_takes_the_lowest_tier_within_the_risk(
    probabilities: dict[Tier, float], risk: float, tier: Tier
) -> None:
    assert decide_tier(probabilities, risk) == tier


def test_probabilities_are_calibrated_shares_and_risk_only_moves_the_tier_up() -> None:
    for prompt in ("hi", "Prove that there are infinitely many primes of the form 4k+3.", "capital of Peru?"):
        c = classify(prompt)
        assert set(c.probabilities) == set(TIER_ORDER)
        assert abs(sum(c.probabilities.values()) - 1.0) < 1e-9
        assert c.confidence == max(c.probabilities.values())
        ranks = [classify(prompt, risk=r).tier.rank for r in (0.5, 0.3, 0.1, 0.01)]
        assert ranks == sorted(ranks)

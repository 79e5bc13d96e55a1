"""The learned stage's scoring: the ordinal head mixed with the softmax, older weight files without
it, and features read from bounded parts of the request."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from thinkbudget_litellm.classify import learned
from thinkbudget_litellm.classify.classifier import rule_pass
from thinkbudget_litellm.classify.learned import (
    LearnedModel,
    RulePass,
    edge_words,
    features,
    parse_model,
    shipped_model,
    structure_features,
)
from thinkbudget_litellm.tiers import TIER_ORDER, Task

TIERS = [t.value for t in TIER_ORDER]
TASKS = [t.value for t in Task]


def _head(classes: list[str], bias: list[float], weights: dict[str, list[float]], t: float = 1.0) -> dict[str, Any]:
    return {"classes": classes, "bias": bias, "weights": weights, "temperature": t}


def _doc(above: dict[str, Any] | None, temperature: float = 1.0) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "tier": _head(TIERS, [0.0] * 5, {"chat_only": [2.0, 0.0, 0.0, 0.0, 0.0]}, temperature),
        "task": _head(TASKS, [0.0] * 8, {}),
        "default_risk": 0.25,
    }
    if above is not None:
        doc["above"] = above
    return doc


def _softmax(xs: list[float]) -> list[float]:
    exps = [math.exp(x) for x in xs]
    return [e / sum(exps) for e in exps]


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_without_an_ordinal_head_the_tier_is_the_tempered_softmax() -> None:
    model = parse_model(_doc(None, temperature=2.0))
    tiers, tasks = model.predict(rule_pass("hi"))
    expected = _softmax([1.0, 0.0, 0.0, 0.0, 0.0])  # logits / temperature
    assert [tiers[t] for t in TIER_ORDER] == pytest.approx(expected)
    assert sum(tasks.values()) == pytest.approx(1.0)


def test_the_ordinal_head_is_averaged_with_the_softmax_then_tempered() -> None:
    above = _head(TIERS[:-1], [1.0, 0.0, -1.0, 3.0], {})  # the last chance exceeds the one before it
    model = parse_model(_doc(above, temperature=0.5))
    tiers, _ = model.predict(rule_pass("hi"))
    chances = [_sigmoid(1.0), _sigmoid(0.0), _sigmoid(-1.0)]
    chances.append(chances[-1])  # made non-increasing
    ordinal = [1 - chances[0], chances[0] - chances[1], chances[1] - chances[2], 1e-6, chances[3]]
    ordinal = [p / sum(ordinal) for p in ordinal]
    mixed = [(a + b) / 2 for a, b in zip(_softmax([2.0, 0, 0, 0, 0]), ordinal, strict=True)]
    tempered = [p**2 for p in mixed]
    assert [tiers[t] for t in TIER_ORDER] == pytest.approx([p / sum(tempered) for p in tempered])


def test_an_ordinal_head_needs_one_class_per_tier_but_the_last() -> None:
    with pytest.raises(ValueError, match="ordinal"):
        parse_model(_doc(_head(TIERS, [0.0] * 5, {})))


def test_edge_and_shape_features_do_not_depend_on_the_middle_of_a_long_paste() -> None:
    def prompt(middle: int) -> str:
        return "Here is our log, FYI:\n\n" + "GET /api/v1/items 200 12ms\n" * middle + "\nno need to reply, thanks"

    short, long = rule_pass(prompt(100)), rule_pass(prompt(5000))
    assert edge_words(short) == edge_words(long)
    assert {"b:fyi", "e:reply", "m:get"} <= features(long)
    assert set(structure_features(short)) == set(structure_features(long))


@pytest.mark.parametrize(
    "ask",
    [
        "Design a URL shortener for 5k rps.",
        "hi",
        "Prove that sqrt(2) is irrational.",
        "line one\nline two\nwhich line is longer?",
    ],
)
def test_blank_space_around_the_ask_does_not_change_the_learned_features(ask: str) -> None:
    # a prompt piped from a file or a terminal ends in a newline; its shape is the same ask's
    plain = features(rule_pass(ask))
    for padded in (ask + "\n", ask + "\n\n", "\n" + ask + "\n", ask + "  \n"):
        assert features(rule_pass(padded)) == plain, repr(padded)


@pytest.mark.parametrize(
    "prompt",
    [
        "hi",
        "Prove that there are infinitely many primes of the form 4k+3.",
        "Montre qu'il n'existe aucune fonction f : N -> N telle que f(f(n)) = n + 1987.",
        "请把这句改成全大写：error budget exhausted",
        "Here is the trace:\n\n" + "at com.acme.Foo.bar(Foo.java:42)\n" * 40 + "\nwhy does this fail?",
        [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "What is 2+2?"},
            {"role": "assistant", "content": "4"},
            {"role": "user", "content": "and now for n = 10^6, the sum of all primes below n?"},
        ],
    ],
)
def test_packed_scoring_is_the_linear_model_over_the_features(prompt: object) -> None:
    """The per-prefix tables and packed lanes add up to bias + the weights of ``features()``."""
    model = shipped_model()
    assert model is not None and model.above is not None
    rp = rule_pass(prompt)
    names = features(rp)
    expected = []
    for head in (model.tier, model.task, model.above):
        expected += [
            head.bias[k] + sum(head.weights[n][k] for n in names if n in head.weights) for k in range(len(head.classes))
        ]
    assert model.logits(rp) == pytest.approx(expected, abs=1e-6)


def _labelled_prompts(every: int) -> list[object]:
    datasets = Path(__file__).resolve().parents[2] / "benchmarks" / "datasets"
    prompts: list[object] = []
    for path in (datasets / "v2" / "train.jsonl", datasets / "dev.jsonl"):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        prompts += [r["messages"] if "messages" in r else r["text"] for r in rows[::every]]
    return prompts


ODD_PROMPTS = [
    "",
    "   ",
    "x" * 5000,
    "日本語の文章を要約してください。" * 20,
    "a=b 你好 " * 30,
    "1. one\n2. two\n- three",
    "how do i sort this, how do i sort that, how do i sort them all, how do i sort",
    "what is the time what is the time what is the time",
]


def test_the_scoring_tables_read_exactly_the_features_of_the_labelled_prompts() -> None:
    """``LearnedModel`` scores from per-feature tables without building names; what it adds up must be
    exactly the packed weights of ``features()``, which ``benchmarks/train_classifier.py`` fits on
    (every 3rd labelled prompt of v2 train and dev, and some odd ones)."""
    model = shipped_model()
    assert model is not None
    packed = model._packed
    differ = []
    for prompt in [*_labelled_prompts(3), *ODD_PROMPTS]:
        rp = rule_pass(prompt)
        expected = packed[""] + sum(packed[n] for n in features(rp) if n in packed)
        if model._total(rp) != expected:
            differ.append(prompt)
    assert not differ, f"{len(differ)} prompts differ, e.g. {differ[0]!r:.200}"


def _reference_predict(model: LearnedModel, rp: RulePass) -> tuple[list[float], list[float]]:
    """The probabilities as the module's helpers compute them, step by step."""
    logits = model.logits(rp)
    n, m = len(model.tier.classes), len(model.task.classes)
    tasks = learned._softmax(logits[n : n + m], model.task.temperature)
    if model.above is None:
        return learned._softmax(logits[:n], model.tier.temperature), tasks
    softmax, ordinal = learned._softmax(logits[:n], 1.0), learned._ordinal(logits[n + m :])
    mixed = [(a + b) / 2 for a, b in zip(softmax, ordinal, strict=True)]
    return learned._temper(mixed, model.tier.temperature), tasks


@pytest.mark.parametrize("above", [True, False])
def test_the_probabilities_are_bit_for_bit_those_of_the_reference_steps(above: bool) -> None:
    shipped = shipped_model()
    assert shipped is not None and shipped.above is not None
    model = shipped if above else LearnedModel(shipped.tier, shipped.task, shipped.default_risk, shipped.meta)
    for prompt in [*_labelled_prompts(7), *ODD_PROMPTS]:
        rp = rule_pass(prompt)
        tiers, tasks = model.predict(rp)
        ref_tiers, ref_tasks = _reference_predict(model, rp)
        assert list(tiers.values()) == ref_tiers and list(tasks.values()) == ref_tasks, prompt
        best_tiers, best_task = model.tiers_and_task(rp)
        assert best_tiers == tiers and best_task is max(tasks, key=tasks.__getitem__)


def test_weights_too_wide_for_32_bit_lanes_are_packed_in_64_bit_lanes() -> None:
    doc = _doc(_head(TIERS[:-1], [0.0, 0.0, 0.0, 0.0], {"chat_only": [40.0, -40.0, 0.5, 0.0]}))
    doc["task"]["weights"] = {"chat_only": [-300.0] + [0.0] * 7}
    model = parse_model(doc)
    rp = rule_pass("hi")
    assert "chat_only" in features(rp)
    assert model.logits(rp) == [2.0, 0, 0, 0, 0, -300.0, *[0.0] * 7, 40.0, -40.0, 0.5, 0.0]

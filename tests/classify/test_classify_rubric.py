"""The rubric's own examples (TIERS.md) and its rules for hard cases."""

from __future__ import annotations

import pytest

from thinkbudget_litellm.classify import Classification, classify, level_to_tier
from thinkbudget_litellm.tiers import Task, Tier

RACE_CODE = """var counter int
func worker(wg *sync.WaitGroup) {
    defer wg.Done()
    for i := 0; i < 1000; i++ {
        counter++
    }
}"""

RUBRIC_EXAMPLES = [
    ("hi", Tier.TRIVIAL),
    ("thanks, that worked", Tier.TRIVIAL),
    ("say OK", Tier.TRIVIAL),
    ("capital of Peru?", Tier.SIMPLE),
    ("convert 5 miles to km", Tier.SIMPLE),
    ("what does HTTP 404 mean?", Tier.SIMPLE),
    ("compare REST and GraphQL", Tier.MODERATE),
    ("write a Python function that reverses words", Tier.MODERATE),
    (
        "a train leaves at 3pm at 60 km/h, a second one at 4pm at 80 km/h; when does it catch up?",
        Tier.MODERATE,
    ),
    ("find the race condition in this code\n```go\n" + RACE_CODE + "\n```", Tier.COMPLEX),
    ("design a rate limiter for 10k rps", Tier.COMPLEX),
    ("count lattice paths from (0,0) to (5,5) avoiding these points: (2,2), (3,1)", Tier.COMPLEX),
    ("prove there are infinitely many primes of the form 4k+3", Tier.DEEP),
    (
        "design a multi-region strongly consistent database with these SLOs: RPO 0, p99 writes under 40 ms, "
        "survive a region outage, 100k writes/s",
        Tier.DEEP,
    ),
]


@pytest.mark.parametrize(("prompt", "tier"), RUBRIC_EXAMPLES, ids=[p[:30] for p, _ in RUBRIC_EXAMPLES])
def test_rubric_examples(prompt: str, tier: Tier) -> None:
    assert classify(prompt).tier == tier


def test_long_pasted_document_with_thanks_is_trivial() -> None:
    document = "\n\n".join(
        f"Section {i}. The committee reviewed the budget lines for parks, libraries and road repairs, and "
        "agreed to revisit the allocation for the swimming pools after the summer survey."
        for i in range(60)
    )
    assert len(document) > 3000
    result = classify(document + "\n\nthanks!")
    assert result.tier == Tier.TRIVIAL
    assert result.task == Task.CHAT


def test_short_conjecture_is_deep() -> None:
    assert classify("Is 2^89 - 1 prime? Justify.").tier == Tier.DEEP


def test_code_present_with_simple_ask_is_simple() -> None:
    code = '```\n#include <stdio.h>\nint main(void) {\n    printf("hello\\n");\n    return 0;\n}\n```'
    result = classify(code + "\nwhat language is this?")
    assert result.tier == Tier.SIMPLE
    assert result.task == Task.CODE


def test_result_shape() -> None:
    result = classify("Explain how DNS resolution works.")
    assert isinstance(result, Classification)
    assert result.tier == level_to_tier(result.score)
    assert result.reasons and all(isinstance(r, str) and r for r in result.reasons)
    assert result.features["intent"] == "explain"
    for value in result.features.values():
        assert isinstance(value, (str, int, float, bool))
    with pytest.raises(TypeError):
        result.features["intent"] = "changed"  # type: ignore[index]


@pytest.mark.parametrize(
    ("level", "tier"),
    [
        (0.0, Tier.TRIVIAL),
        (0.49, Tier.TRIVIAL),
        (0.5, Tier.SIMPLE),
        (1.4, Tier.SIMPLE),
        (1.5, Tier.MODERATE),
        (2.6, Tier.COMPLEX),
        (3.5, Tier.DEEP),
        (9.0, Tier.DEEP),
        (-1.0, Tier.TRIVIAL),
    ],
)
def test_level_to_tier_rounds_halves_up(level: float, tier: Tier) -> None:
    assert level_to_tier(level) == tier

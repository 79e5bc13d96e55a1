"""Escalation, table-driven: which answers escalate, to which model, and when the guard forbids it."""

from __future__ import annotations

import pytest

from thinkbudget_litellm.routing.budget_left import UNLIMITED, BudgetLimit, LimitScope, remaining
from thinkbudget_litellm.routing.escalation import (
    Escalation,
    EscalationCause,
    Target,
    escalation_cause,
    escalation_fits,
    next_tier_model,
)
from thinkbudget_litellm.tiers import Tier

EMPTY, LENGTH = EscalationCause.EMPTY_ANSWER, EscalationCause.CUT_AND_LENGTH


@pytest.mark.parametrize(
    ("answer", "finish", "cut", "expected"),
    [
        ("42", "stop", False, None),
        ("42", "stop", True, None),  # cut, but the answer finished
        ("42", "length", False, None),  # ended for length without a cut: the client's own max_tokens
        ("42", "length", True, LENGTH),
        ("", "stop", False, EMPTY),
        (None, "stop", False, EMPTY),
        ("  \n", "length", True, EMPTY),
        (None, None, True, EMPTY),
    ],
)
def test_which_answers_escalate(answer: str | None, finish: str | None, cut: bool, expected: object) -> None:
    assert escalation_cause(answer, finish, thinking_cut=cut) == expected


POOLS = {
    "NON_REASONING": ["small", "medium", "large"],
    "SIMPLE": ["small", "medium", "large"],
    "MEDIUM": ["medium", "small", "large"],
    "COMPLEX": ["large", "medium", "small"],
    "REASONING": ["large", "medium", "small"],
}
QUALITY = {"small": 2, "medium": 3, "large": 5}


@pytest.mark.parametrize(
    ("tier", "served", "pools", "expected"),
    [
        (Tier.TRIVIAL, "small", POOLS, Target(Tier.MODERATE, "medium")),  # SIMPLE's model is small too
        (Tier.SIMPLE, "small", POOLS, Target(Tier.MODERATE, "medium")),
        (Tier.MODERATE, "medium", POOLS, Target(Tier.COMPLEX, "large")),
        (Tier.MODERATE, "small", POOLS, Target(Tier.COMPLEX, "large")),  # cheapest served small
        (Tier.COMPLEX, "large", POOLS, None),  # nothing above is better
        (Tier.DEEP, "large", POOLS, None),  # the top
        (Tier.MODERATE, "large", POOLS, None),  # best_quality served the largest already
        (Tier.SIMPLE, "small", {"SIMPLE": ["small"], "REASONING": ["large"]}, Target(Tier.DEEP, "large")),
        (Tier.SIMPLE, "small", {"SIMPLE": ["small"]}, None),  # no rung above
        (Tier.SIMPLE, "medium", {"MEDIUM": ["small"], "COMPLEX": ["medium"]}, None),  # never to a lesser one
    ],
)
def test_the_next_tiers_model(tier: Tier, served: str, pools: dict[str, list[str]], expected: object) -> None:
    assert next_tier_model(tier, served, pools, QUALITY) == expected


def _left(usd: float) -> object:
    return remaining([BudgetLimit(LimitScope.KEY, usd, 0.0)])


@pytest.mark.parametrize(
    ("estimate", "left", "spent", "fits"),
    [
        (1.0, UNLIMITED, 100.0, True),
        (0.5, _left(1.0), 0.4, True),
        (0.5, _left(1.0), 0.6, False),  # the first attempt spent what the retry needed
        (0.5, _left(1.0), None, True),  # the first attempt had no price
        (1.5, _left(1.0), 0.0, False),
    ],
)
def test_the_guard_decides(estimate: float, left: object, spent: float | None, fits: bool) -> None:
    assert escalation_fits(estimate, left, spent) is fits  # type: ignore[arg-type]


def test_what_the_escalation_says() -> None:
    e = Escalation("qwen-small", "qwen-medium", EMPTY, "id-1", 0.002)
    assert e.header() == "qwen-small -> qwen-medium"
    assert e.reason() == "escalated from qwen-small to qwen-medium: empty answer"
    assert e.as_extra()["escalated_to"] == "qwen-medium"

"""The Anthropic adapter, table-driven."""

from __future__ import annotations

from typing import Any

import pytest
from engine_cases import LIFTS, lifted

from thinkbudget_litellm.enforce.context_fit import ContextLimits, fit_engine_budget
from thinkbudget_litellm.enforce.engine_adapter import Effort
from thinkbudget_litellm.enforce.engine_registry import adapter_for, infer_engine
from thinkbudget_litellm.enforce.engines.anthropic import LITELLM_EFFORT_BUDGETS
from thinkbudget_litellm.settings import Enforcement, Engine
from thinkbudget_litellm.tiers import Tier

ENGINE = Engine.ANTHROPIC
ADAPTER = adapter_for(ENGINE)
LIMIT = 1024  # Anthropic gives 1024 thinking tokens for the shared cases' 512


@pytest.mark.parametrize(
    ("model", "engine"),
    [
        ("anthropic/claude-sonnet-4-5", ENGINE),
        ("claude-3-7-sonnet-latest", ENGINE),
        ("bedrock/anthropic.claude-3-7-sonnet-20250219-v1:0", ENGINE),
        ("bedrock/us.anthropic.claude-sonnet-4", ENGINE),
        ("bedrock/meta.llama3-70b", Engine.OTHER),
        ("openai/claude-proxy", Engine.OPENAI),
    ],
)
def test_claims(model: str, engine: Engine) -> None:
    assert infer_engine(model) is engine


@pytest.mark.parametrize(
    ("budget", "thinking", "effective"),
    [
        (0, {"type": "disabled"}, 0),
        (32, {"type": "disabled"}, 0),
        (511, {"type": "disabled"}, 0),
        (512, {"type": "enabled", "budget_tokens": 1024}, 1024),
        (600, {"type": "enabled", "budget_tokens": 1024}, 1024),
        (8192, {"type": "enabled", "budget_tokens": 8192}, 8192),
    ],
)
def test_native_params_and_effective_budget(budget: int, thinking: dict[str, Any], effective: int) -> None:
    assert ADAPTER.native_params(budget, Tier.MODERATE, {}) == {"thinking": thinking}
    assert ADAPTER.effective_budget(budget) == effective


@pytest.mark.parametrize(("limit", "within"), [(0, 0), (511, 0), (1023, 0), (1024, 1024), (3000, 3000)])
def test_budget_within(limit: int, within: int) -> None:
    assert ADAPTER.budget_within(limit) == within
    assert ADAPTER.effective_budget(within) <= limit


@pytest.mark.parametrize(
    ("limit", "cap"),
    [(0, Effort.NONE), (1023, Effort.NONE), (1024, Effort.LOW), (4096, Effort.HIGH), (16384, Effort.MAX)],
)
def test_effort_cap(limit: int, cap: Effort) -> None:
    assert ADAPTER.effort_cap(limit) is cap


def test_effort_budgets_are_litellms() -> None:
    from litellm import constants

    assert dict(LITELLM_EFFORT_BUDGETS) == {
        Effort.MINIMAL: max(constants.DEFAULT_REASONING_EFFORT_MINIMAL_THINKING_BUDGET, 1024),
        Effort.LOW: constants.DEFAULT_REASONING_EFFORT_LOW_THINKING_BUDGET,
        Effort.MEDIUM: constants.DEFAULT_REASONING_EFFORT_MEDIUM_THINKING_BUDGET,
        Effort.HIGH: constants.DEFAULT_REASONING_EFFORT_HIGH_THINKING_BUDGET,
        Effort.XHIGH: constants.DEFAULT_REASONING_EFFORT_XHIGH_THINKING_BUDGET,
        Effort.MAX: constants.DEFAULT_REASONING_EFFORT_MAX_THINKING_BUDGET,
    }
    assert constants.ANTHROPIC_MIN_THINKING_BUDGET_TOKENS == 1024


def test_continuation() -> None:
    assert ADAPTER.continuation_params() == {}
    assert ADAPTER.prefill_open_tag(template_preopens=True) is True


EXPECTED: dict[str, Any] = {
    "thinking_token_budget": LIMIT,
    "thinking_token_budget@extra_body": LIMIT,
    "reasoning_effort": "low",
    "reasoning_effort@extra_body": "low",
    "reasoning_effort_object": {"effort": "low", "summary": "auto"},
    "thinking": {"type": "enabled", "budget_tokens": LIMIT},
    "thinking_adaptive": {"type": "enabled", "budget_tokens": LIMIT, "display": "summarized"},
    "thinking@extra_body": {"type": "enabled", "budget_tokens": LIMIT},
    "custom_params": {"thinking_budget": LIMIT, "x": 1},
    "thinking_budget_tokens": LIMIT,
    "enable_thinking_on_no_thinking_tier": False,
    "enable_thinking": True,
    "template_thinking_on_no_thinking_tier": False,
    "template_thinking_budget": LIMIT,
    "think_on_no_thinking_tier": False,
    "think_level": "low",
    "output_config": {"effort": "low", "format": {"type": "json_schema"}},
    "reasoning.effort": {"effort": "low", "summary": "auto"},
    "reasoning.max_tokens": {"max_tokens": LIMIT},
    "reasoning.enabled_on_no_thinking_tier": {"enabled": False},
    "thinkingConfig": {"thinkingBudget": LIMIT, "includeThoughts": True},
    "thinking_config.thinking_level": {"thinking_level": "low"},
    "generationConfig@extra_body": {"thinkingConfig": {"thinkingBudget": LIMIT, "thinkingLevel": "low"}},
}


def test_every_case_has_an_expectation() -> None:
    assert set(EXPECTED) == set(LIFTS)


@pytest.mark.parametrize("case", sorted(LIFTS))
def test_client_budget_fields(case: str) -> None:
    assert lifted(ENGINE, case) == EXPECTED[case]


@pytest.mark.parametrize("case", ["thinking", "thinking_adaptive", "thinking@extra_body"])
def test_native_thinking_wins(case: str) -> None:
    expected = {"type": "enabled", "budget_tokens": LIMIT}
    got = lifted(ENGINE, case, Enforcement.NATIVE)
    assert got == (expected if not case.endswith("@extra_body") else "<removed>")


@pytest.mark.parametrize(
    ("room", "budget", "expected"),
    [
        (100_000, 600, (600, 2048, False)),  # 1024 effective + 1024 answer
        (1500, 600, (0, 1024, True)),  # 1024 effective does not fit: disabled, not 476 tokens
        (2600, 2000, (1576, 2600, True)),
        (900, 8192, (0, 900, True)),
    ],
)
def test_fit_keeps_the_minimum_whole(room: int, budget: int, expected: tuple[int, int, bool]) -> None:
    fit = fit_engine_budget(ENGINE, ContextLimits(room, None), prompt_tokens=0, budget=budget, answer_room=1024)
    assert (fit.budget, fit.max_tokens, fit.clamped) == expected

"""The Gemini adapter, table-driven."""

from __future__ import annotations

from typing import Any

import pytest
from engine_cases import BUDGET, LIFTS, lifted

from thinkbudget_litellm.enforce.engine_adapter import Effort
from thinkbudget_litellm.enforce.engine_registry import adapter_for, infer_engine
from thinkbudget_litellm.enforce.engines.gemini import LITELLM_EFFORT_BUDGETS
from thinkbudget_litellm.settings import Enforcement, Engine
from thinkbudget_litellm.tiers import Tier

ENGINE = Engine.GEMINI
ADAPTER = adapter_for(ENGINE)


@pytest.mark.parametrize(
    "model", ["gemini/gemini-2.5-flash", "vertex_ai/gemini-2.5-pro", "gemini-2.5-flash", "vertex_ai/claude-x"]
)
def test_claims(model: str) -> None:
    # vertex_ai/claude-* is kept where the previous inference put it (see the lead's report)
    assert infer_engine(model) is ENGINE


@pytest.mark.parametrize("budget", [0, 128, 8192])
def test_native_params(budget: int) -> None:
    assert ADAPTER.native_params(budget, Tier.DEEP, {}) == {"thinking": {"type": "enabled", "budget_tokens": budget}}
    assert ADAPTER.effective_budget(budget) == budget


@pytest.mark.parametrize(
    ("limit", "cap"),
    [(0, Effort.NONE), (511, Effort.NONE), (512, Effort.MINIMAL), (1024, Effort.LOW), (100_000, Effort.HIGH)],
)
def test_effort_cap(limit: int, cap: Effort) -> None:
    assert ADAPTER.effort_cap(limit) is cap


def test_effort_budgets_are_litellms() -> None:
    from litellm import constants

    minimal = max(
        constants.DEFAULT_REASONING_EFFORT_MINIMAL_THINKING_BUDGET,
        constants.DEFAULT_REASONING_EFFORT_MINIMAL_THINKING_BUDGET_GEMINI_2_5_FLASH,
        constants.DEFAULT_REASONING_EFFORT_MINIMAL_THINKING_BUDGET_GEMINI_2_5_PRO,
        constants.DEFAULT_REASONING_EFFORT_MINIMAL_THINKING_BUDGET_GEMINI_2_5_FLASH_LITE,
    )
    assert dict(LITELLM_EFFORT_BUDGETS) == {
        Effort.MINIMAL: minimal,
        Effort.LOW: constants.DEFAULT_REASONING_EFFORT_LOW_THINKING_BUDGET,
        Effort.MEDIUM: constants.DEFAULT_REASONING_EFFORT_MEDIUM_THINKING_BUDGET,
        Effort.HIGH: constants.DEFAULT_REASONING_EFFORT_HIGH_THINKING_BUDGET,
    }


def test_continuation() -> None:
    assert ADAPTER.continuation_params() == {}
    assert ADAPTER.prefill_open_tag(template_preopens=True) is True


EXPECTED: dict[str, Any] = {
    "thinking_token_budget": BUDGET,
    "thinking_token_budget@extra_body": BUDGET,
    "reasoning_effort": "minimal",
    "reasoning_effort@extra_body": "minimal",
    "reasoning_effort_object": {"effort": "minimal", "summary": "auto"},
    "thinking": {"type": "enabled", "budget_tokens": BUDGET},
    "thinking_adaptive": {"type": "enabled", "budget_tokens": BUDGET, "display": "summarized"},
    "thinking@extra_body": {"type": "enabled", "budget_tokens": BUDGET},
    "custom_params": {"thinking_budget": BUDGET, "x": 1},
    "thinking_budget_tokens": BUDGET,
    "enable_thinking_on_no_thinking_tier": False,
    "enable_thinking": True,
    "template_thinking_on_no_thinking_tier": False,
    "template_thinking_budget": BUDGET,
    "think_on_no_thinking_tier": False,
    "think_level": "low",  # the lowest level every Gemini 3 model and gpt-oss accept
    "output_config": {"effort": "low", "format": {"type": "json_schema"}},
    "reasoning.effort": {"effort": "minimal", "summary": "auto"},
    "reasoning.max_tokens": {"max_tokens": BUDGET},
    "reasoning.enabled_on_no_thinking_tier": {"enabled": False},
    "thinkingConfig": {"thinkingBudget": BUDGET, "includeThoughts": True},
    "thinking_config.thinking_level": {"thinking_level": "low"},
    "generationConfig@extra_body": {"thinkingConfig": {"thinkingBudget": BUDGET, "thinkingLevel": "low"}},
}


def test_every_case_has_an_expectation() -> None:
    assert set(EXPECTED) == set(LIFTS)


@pytest.mark.parametrize("case", sorted(LIFTS))
def test_client_budget_fields(case: str) -> None:
    assert lifted(ENGINE, case) == EXPECTED[case]


def test_the_wire_config_in_extra_body_stays_clamped_under_native_enforcement() -> None:
    # LiteLLM deep-merges extra_body.generationConfig over what it built from `thinking`
    assert lifted(ENGINE, "generationConfig@extra_body", Enforcement.NATIVE) == {
        "thinkingConfig": {"thinkingBudget": BUDGET, "thinkingLevel": "low"}
    }

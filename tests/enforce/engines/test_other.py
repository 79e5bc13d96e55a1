"""The adapter for any other engine, table-driven."""

from __future__ import annotations

from typing import Any

import pytest
from engine_cases import BUDGET, LIFTS, lifted

from thinkbudget_litellm.enforce.engine_adapter import Effort
from thinkbudget_litellm.enforce.engine_registry import adapter_for, infer_engine
from thinkbudget_litellm.settings import Enforcement, Engine
from thinkbudget_litellm.tiers import Tier

ENGINE = Engine.OTHER
ADAPTER = adapter_for(ENGINE)


@pytest.mark.parametrize("model", ["custom/whatever", "openrouter/deepseek/deepseek-r1", "", None, "together_ai/qwq"])
def test_is_the_fallback(model: str | None) -> None:
    assert infer_engine(model) is ENGINE
    assert ADAPTER.claim((model or "").lower()) == 0


def test_no_native_cap_and_no_continuation_flag() -> None:
    assert ADAPTER.native_params(512, Tier.MODERATE, {"x": 1}) == {}
    assert ADAPTER.effective_budget(512) == 512
    assert ADAPTER.continuation_params() == {}
    assert ADAPTER.prefill_open_tag(template_preopens=True) is True


@pytest.mark.parametrize(("limit", "cap"), [(0, None), (512, Effort.LOW)])
def test_effort_cap(limit: int, cap: Effort | None) -> None:
    assert ADAPTER.effort_cap(limit) is cap


EXPECTED: dict[str, Any] = {
    "thinking_token_budget": BUDGET,
    "thinking_token_budget@extra_body": BUDGET,
    "reasoning_effort": "low",
    "reasoning_effort@extra_body": "low",
    "reasoning_effort_object": {"effort": "low", "summary": "auto"},
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
    "think_level": "low",
    "output_config": {"effort": "low", "format": {"type": "json_schema"}},
    "reasoning.effort": {"effort": "low", "summary": "auto"},
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


@pytest.mark.parametrize("case", sorted(LIFTS))
def test_native_enforcement_adds_nothing_for_an_unknown_engine(case: str) -> None:
    assert lifted(ENGINE, case, Enforcement.NATIVE) == EXPECTED[case]

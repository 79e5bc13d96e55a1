"""The OpenAI adapter, table-driven."""

from __future__ import annotations

from typing import Any

import pytest
from engine_cases import BUDGET, LIFTS, lifted

from thinkbudget_litellm.enforce.engine_adapter import Effort
from thinkbudget_litellm.enforce.engine_registry import adapter_for, infer_engine
from thinkbudget_litellm.settings import Enforcement, Engine
from thinkbudget_litellm.tiers import Tier

ENGINE = Engine.OPENAI
ADAPTER = adapter_for(ENGINE)


@pytest.mark.parametrize("model", ["openai/o4-mini", "azure/o3-deployment", "OpenAI/gpt-5"])
def test_claims(model: str) -> None:
    assert infer_engine(model) is ENGINE


@pytest.mark.parametrize(
    ("budget", "effort"),
    [(0, "minimal"), (32, "minimal"), (128, "minimal"), (129, "low"), (1024, "low"), (2048, "medium"), (8192, "high")],
)
def test_native_params(budget: int, effort: str) -> None:
    assert ADAPTER.native_params(budget, Tier.DEEP, {}) == {"reasoning_effort": effort}
    assert ADAPTER.effort_cap(budget) is Effort(effort)
    assert ADAPTER.effective_budget(budget) == budget


def test_continuation() -> None:
    assert ADAPTER.continuation_params() == {}
    assert ADAPTER.prefill_open_tag(template_preopens=False) is True


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


@pytest.mark.parametrize("case", ["reasoning_effort", "reasoning_effort_object", "reasoning_effort@extra_body"])
def test_native_effort_wins(case: str) -> None:
    expected = "<removed>" if case.endswith("@extra_body") else "low"
    assert lifted(ENGINE, case, Enforcement.NATIVE) == expected

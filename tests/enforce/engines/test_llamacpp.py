"""The llama.cpp adapter, table-driven."""

from __future__ import annotations

from typing import Any

import pytest
from engine_cases import BUDGET, LIFTS, lifted

from thinkbudget_litellm.enforce.engine_adapter import Effort
from thinkbudget_litellm.enforce.engine_registry import adapter_for
from thinkbudget_litellm.settings import Enforcement, Engine
from thinkbudget_litellm.tiers import Tier

ENGINE = Engine.LLAMACPP
ADAPTER = adapter_for(ENGINE)


@pytest.mark.parametrize("model", ["openai/qwen3", "llamacpp/qwen3", "qwen3.gguf"])
def test_claims_no_model_string(model: str) -> None:
    # llama-server is served behind an OpenAI-compatible prefix: a deployment names it
    assert ADAPTER.claim(model) == 0


@pytest.mark.parametrize(
    ("budget", "tier", "request_", "no_thinking", "expected"),
    [
        (64, Tier.SIMPLE, {}, frozenset(), {"thinking_budget_tokens": 64}),
        (
            0,
            Tier.TRIVIAL,
            {"chat_template_kwargs": {"x": 1}},
            frozenset(),
            {"thinking_budget_tokens": 0, "chat_template_kwargs": {"x": 1, "enable_thinking": False}},
        ),
    ],
)
def test_native_params(
    budget: int, tier: Tier, request_: dict[str, Any], no_thinking: frozenset[Tier], expected: dict[str, Any]
) -> None:
    assert ADAPTER.native_params(budget, tier, request_, no_thinking) == expected


@pytest.mark.parametrize("budget", [0, 5, 4096])
def test_budgets_are_what_the_policy_says(budget: int) -> None:
    assert ADAPTER.effective_budget(budget) == budget
    assert ADAPTER.budget_within(budget) == budget


@pytest.mark.parametrize(("limit", "cap"), [(0, None), (1024, Effort.LOW), (4097, Effort.HIGH)])
def test_effort_cap(limit: int, cap: Effort | None) -> None:
    assert ADAPTER.effort_cap(limit) is cap


def test_continuation() -> None:
    first = ADAPTER.continuation_params()
    assert first == {"chat_template_kwargs": {"enable_thinking": False}}
    first["chat_template_kwargs"]["enable_thinking"] = True
    assert ADAPTER.continuation_params()["chat_template_kwargs"]["enable_thinking"] is False
    assert ADAPTER.prefill_open_tag(template_preopens=True) is False
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
    "thinking_budget_tokens": BUDGET,  # -1 (unlimited) is clamped
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


def test_native_enforcement_owns_its_field() -> None:
    assert lifted(ENGINE, "thinking_budget_tokens", Enforcement.NATIVE) == BUDGET
    assert lifted(ENGINE, "thinking_token_budget@extra_body", Enforcement.NATIVE) == BUDGET  # not its field

"""The Ollama adapter, table-driven."""

from __future__ import annotations

from typing import Any

import pytest
from engine_cases import BUDGET, LIFTS, lifted

from thinkbudget_litellm.enforce.client_budget_fields import neutralise_client_budget_fields
from thinkbudget_litellm.enforce.engine_adapter import Effort
from thinkbudget_litellm.enforce.engine_registry import adapter_for, infer_engine
from thinkbudget_litellm.settings import Enforcement, Engine
from thinkbudget_litellm.tiers import Tier

ENGINE = Engine.OLLAMA
ADAPTER = adapter_for(ENGINE)


@pytest.mark.parametrize("model", ["ollama/qwen3:8b", "ollama_chat/qwen3:8b", "Ollama_Chat/gpt-oss:20b"])
def test_claims(model: str) -> None:
    assert infer_engine(model) is ENGINE


@pytest.mark.parametrize(
    ("budget", "tier", "no_thinking", "think"),
    [
        (0, Tier.TRIVIAL, frozenset(), False),
        (512, Tier.MODERATE, frozenset(), True),
        (512, Tier.MODERATE, frozenset({Tier.MODERATE}), False),
    ],
)
def test_native_params(budget: int, tier: Tier, no_thinking: frozenset[Tier], think: bool) -> None:
    assert ADAPTER.native_params(budget, tier, {}, no_thinking) == {"think": think}


@pytest.mark.parametrize(("limit", "cap"), [(0, Effort.NONE), (1, Effort.HIGH), (100_000, Effort.HIGH)])
def test_effort_cap_is_on_or_off(limit: int, cap: Effort) -> None:
    # Ollama has no numeric budget: a level cannot bound it, only "off" is a budget it honours
    assert ADAPTER.effort_cap(limit) is cap


def test_continuation() -> None:
    assert ADAPTER.continuation_params() == {}
    assert ADAPTER.prefill_open_tag(template_preopens=True) is True


EXPECTED: dict[str, Any] = {
    "thinking_token_budget": BUDGET,
    "thinking_token_budget@extra_body": BUDGET,
    "reasoning_effort": "high",
    "reasoning_effort@extra_body": "high",
    "reasoning_effort_object": {"effort": "high", "summary": "auto"},
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
    "think_level": "high",
    "output_config": {"effort": "high", "format": {"type": "json_schema"}},
    "reasoning.effort": {"effort": "high", "summary": "auto"},
    "reasoning.max_tokens": {"max_tokens": BUDGET},
    "reasoning.enabled_on_no_thinking_tier": {"enabled": False},
    "thinkingConfig": {"thinkingBudget": BUDGET, "includeThoughts": True},
    "thinking_config.thinking_level": {"thinking_level": "high"},
    "generationConfig@extra_body": {"thinkingConfig": {"thinkingBudget": BUDGET, "thinkingLevel": "high"}},
}


def test_every_case_has_an_expectation() -> None:
    assert set(EXPECTED) == set(LIFTS)


@pytest.mark.parametrize("case", sorted(LIFTS))
def test_client_budget_fields(case: str) -> None:
    assert lifted(ENGINE, case) == EXPECTED[case]


@pytest.mark.parametrize(
    ("request_", "budget", "expected"),
    [
        ({"think": True}, 0, {"think": False}),
        ({"think": True, "reasoning_effort": "high"}, 0, {"think": False, "reasoning_effort": "none"}),
        ({"think": 50_000}, 512, {"think": True}),  # a count (proposed upstream) is clamped, then native
        ({"extra_body": {"think": True}}, 0, {"think": False, "extra_body": {}}),
    ],
)
def test_native_think_switch(request_: dict[str, Any], budget: int, expected: dict[str, Any]) -> None:
    out = neutralise_client_budget_fields(request_, budget, Tier.TRIVIAL, [], ENGINE, Enforcement.NATIVE)
    assert out.request == expected


def test_a_think_count_is_clamped_under_stream_enforcement() -> None:
    out = neutralise_client_budget_fields({"think": 50_000}, 512, Tier.MODERATE, [], ENGINE, Enforcement.STREAM)
    assert out.request == {"think": 512}

"""The vLLM adapter, table-driven."""

from __future__ import annotations

from typing import Any

import pytest
from engine_cases import BUDGET, LIFTS, REMOVED, lifted

from thinkbudget_litellm.enforce.client_budget_fields import neutralise_client_budget_fields
from thinkbudget_litellm.enforce.context_fit import ContextLimits, fit_engine_budget
from thinkbudget_litellm.enforce.engine_adapter import Effort
from thinkbudget_litellm.enforce.engine_registry import adapter_for, infer_engine
from thinkbudget_litellm.settings import Enforcement, Engine
from thinkbudget_litellm.tiers import Tier

ENGINE = Engine.VLLM
ADAPTER = adapter_for(ENGINE)


@pytest.mark.parametrize("model", ["hosted_vllm/qwq-32b", "vllm/Qwen3-8B", "HOSTED_VLLM/x", "hosted_vllm/claude-x"])
def test_claims(model: str) -> None:
    assert infer_engine(model) is ENGINE


@pytest.mark.parametrize(
    ("budget", "tier", "request_", "no_thinking", "expected"),
    [
        (512, Tier.MODERATE, {}, frozenset(), {"thinking_token_budget": 512}),
        (
            0,
            Tier.TRIVIAL,
            {},
            frozenset(),
            {"thinking_token_budget": 0, "chat_template_kwargs": {"enable_thinking": False}},
        ),
        (
            32,
            Tier.TRIVIAL,
            {"chat_template_kwargs": {"a": 1}},
            frozenset({Tier.TRIVIAL}),
            {"thinking_token_budget": 32, "chat_template_kwargs": {"a": 1, "enable_thinking": False}},
        ),
        (32, Tier.TRIVIAL, {"chat_template_kwargs": {"a": 1}}, frozenset({Tier.DEEP}), {"thinking_token_budget": 32}),
    ],
)
def test_native_params(
    budget: int, tier: Tier, request_: dict[str, Any], no_thinking: frozenset[Tier], expected: dict[str, Any]
) -> None:
    snapshot = {k: dict(v) if isinstance(v, dict) else v for k, v in request_.items()}
    assert ADAPTER.native_params(budget, tier, request_, no_thinking) == expected
    assert request_ == snapshot


@pytest.mark.parametrize(("budget", "effective", "within"), [(0, 0, 0), (1, 1, 1), (600, 600, 600), (8192, 8192, 8192)])
def test_budgets(budget: int, effective: int, within: int) -> None:
    assert ADAPTER.effective_budget(budget) == effective
    assert ADAPTER.budget_within(budget) == within


@pytest.mark.parametrize(
    ("limit", "cap"), [(0, None), (1, Effort.MINIMAL), (128, Effort.MINIMAL), (512, Effort.LOW), (8192, Effort.HIGH)]
)
def test_effort_cap(limit: int, cap: Effort | None) -> None:
    assert ADAPTER.effort_cap(limit) is cap


def test_continuation() -> None:
    assert ADAPTER.continuation_params() == {"continue_final_message": True, "add_generation_prompt": False}
    assert ADAPTER.prefill_open_tag(template_preopens=True) is True
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


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("thinking_token_budget", BUDGET),
        ("thinking_token_budget@extra_body", REMOVED),  # moved out: the native top-level value is what vLLM sees
    ],
)
def test_native_enforcement_sets_the_engine_field_last(case: str, expected: Any) -> None:
    assert lifted(ENGINE, case, Enforcement.NATIVE) == expected


def test_extra_body_template_kwargs_cannot_drop_the_no_thinking_switch() -> None:
    # one chat_template_kwargs, with the switch, whichever of the two places LiteLLM lets win
    request = {"messages": [], "extra_body": {"chat_template_kwargs": {"custom": 1}}}
    out = neutralise_client_budget_fields(request, 32, Tier.TRIVIAL, [Tier.TRIVIAL], ENGINE).request
    assert out["chat_template_kwargs"] == {"custom": 1, "enable_thinking": False}
    assert "chat_template_kwargs" not in out["extra_body"]
    assert request["extra_body"] == {"chat_template_kwargs": {"custom": 1}}


def test_deep_tier_fits_a_4096_token_model() -> None:
    # issue 13: max_tokens = 8192 + 300 was refused by vLLM with max_model_len=4096
    fit = fit_engine_budget(ENGINE, ContextLimits(4096, None), prompt_tokens=100, budget=8192, answer_room=300)
    assert (fit.budget, fit.max_tokens, fit.clamped) == (3696, 3996, True)
    assert 100 + fit.max_tokens <= 4096

"""The vLLM adapter, table-driven (the shared checks are ``EngineContract``'s)."""

from __future__ import annotations

from typing import Any

import pytest
from engine_cases import BUDGET, REMOVED, EngineContract, EngineSpec, Native, as_is, expected_lifts, lifted

from thinkbudget_litellm.enforce.client_budget_fields import neutralise_client_budget_fields
from thinkbudget_litellm.enforce.context_fit import ContextLimits, fit_engine_budget
from thinkbudget_litellm.enforce.engine_adapter import Effort
from thinkbudget_litellm.settings import Enforcement, Engine
from thinkbudget_litellm.tiers import Tier

ENGINE = Engine.VLLM


class TestVllm(EngineContract):
    spec = EngineSpec(
        ENGINE,
        claims=dict.fromkeys(["hosted_vllm/qwq-32b", "vllm/Qwen3-8B", "HOSTED_VLLM/x", "hosted_vllm/claude-x"], ENGINE),
        native=[
            Native(512, {"thinking_token_budget": 512}),
            Native(0, {"thinking_token_budget": 0, "chat_template_kwargs": {"enable_thinking": False}}, Tier.TRIVIAL),
            Native(
                32,
                {"thinking_token_budget": 32, "chat_template_kwargs": {"a": 1, "enable_thinking": False}},
                Tier.TRIVIAL,
                {"chat_template_kwargs": {"a": 1}},
                frozenset({Tier.TRIVIAL}),
            ),
            Native(
                32,
                {"thinking_token_budget": 32},
                Tier.TRIVIAL,
                {"chat_template_kwargs": {"a": 1}},
                frozenset({Tier.DEEP}),
            ),
        ],
        effort_caps={0: None, 1: Effort.MINIMAL, 128: Effort.MINIMAL, 512: Effort.LOW, 8192: Effort.HIGH},
        lifts=expected_lifts(),
        effective=as_is(0, 1, 600, 8192),
        within=as_is(0, 1, 600, 8192),
        # the final message is rendered without the generation prompt: the prefill always carries <think>
        continuation={"continue_final_message": True, "add_generation_prompt": False},
    )


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

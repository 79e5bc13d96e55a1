"""The SGLang adapter, table-driven (the shared checks are ``EngineContract``'s)."""

from __future__ import annotations

from engine_cases import BUDGET, EngineContract, EngineSpec, Native, as_is, expected_lifts, lifted

from thinkbudget_litellm.enforce.engine_adapter import Effort
from thinkbudget_litellm.settings import Enforcement, Engine
from thinkbudget_litellm.tiers import Tier

ENGINE = Engine.SGLANG


class TestSglang(EngineContract):
    spec = EngineSpec(
        ENGINE,
        # SGLang is served behind an OpenAI-compatible prefix: a deployment names it (engine: sglang)
        claims={
            "hosted_vllm/qwen3": Engine.VLLM,
            "openai/qwen3": Engine.OPENAI,
            "sglang/qwen3": Engine.OTHER,
            "qwen3": Engine.OTHER,
        },
        native=[
            Native(128, {"custom_params": {"x": 1, "thinking_budget": 128}}, Tier.SIMPLE, {"custom_params": {"x": 1}}),
            Native(128, {"custom_params": {"thinking_budget": 128}}, Tier.SIMPLE, {"custom_params": "junk"}),
            Native(
                128,
                {"custom_params": {"thinking_budget": 128}, "chat_template_kwargs": {"enable_thinking": False}},
                Tier.SIMPLE,
                {"custom_params": {"thinking_budget": 9}},
                frozenset({Tier.SIMPLE}),
            ),
        ],
        effort_caps={0: None, 100: Effort.MINIMAL, 2048: Effort.MEDIUM},
        lifts=expected_lifts(),
        effective=as_is(0, 1, 600, 8192),
        within=as_is(0, 1, 600, 8192),
        continuation={"continue_final_message": True},
        # the prefill follows the generation prompt: a template that pre-opens <think> has written it
        prefill_open_tag={True: False, False: True},
    )


def test_native_budget_replaces_the_client_one_inside_custom_params() -> None:
    assert lifted(ENGINE, "custom_params", Enforcement.NATIVE) == {"thinking_budget": BUDGET, "x": 1}

"""The llama.cpp adapter, table-driven (the shared checks are ``EngineContract``'s)."""

from __future__ import annotations

from engine_cases import BUDGET, EngineContract, EngineSpec, Native, as_is, expected_lifts, lifted

from thinkbudget_litellm.enforce.engine_adapter import Effort
from thinkbudget_litellm.settings import Enforcement, Engine
from thinkbudget_litellm.tiers import Tier

ENGINE = Engine.LLAMACPP


class TestLlamacpp(EngineContract):
    spec = EngineSpec(
        ENGINE,
        # llama-server is served behind an OpenAI-compatible prefix: a deployment names it
        claims={"openai/qwen3": Engine.OPENAI, "llamacpp/qwen3": Engine.OTHER, "qwen3.gguf": Engine.OTHER},
        native=[
            Native(64, {"thinking_budget_tokens": 64}, Tier.SIMPLE),
            Native(
                0,
                {"thinking_budget_tokens": 0, "chat_template_kwargs": {"x": 1, "enable_thinking": False}},
                Tier.TRIVIAL,
                {"chat_template_kwargs": {"x": 1}},
            ),
        ],
        effort_caps={0: None, 1024: Effort.LOW, 4097: Effort.HIGH},
        lifts=expected_lifts(),
        effective=as_is(0, 5, 4096),
        within=as_is(0, 5, 4096),
        # the server refuses a prefill while thinking is enabled
        continuation={"chat_template_kwargs": {"enable_thinking": False}},
        prefill_open_tag={True: False, False: True},
    )


def test_native_enforcement_owns_its_field() -> None:
    assert lifted(ENGINE, "thinking_budget_tokens", Enforcement.NATIVE) == BUDGET
    assert lifted(ENGINE, "thinking_token_budget@extra_body", Enforcement.NATIVE) == BUDGET  # not its field

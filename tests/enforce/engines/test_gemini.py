"""The Gemini adapter, table-driven (the shared checks are ``EngineContract``'s)."""

from __future__ import annotations

from engine_cases import BUDGET, EngineContract, EngineSpec, Native, as_is, expected_lifts, lifted

from thinkbudget_litellm.enforce.engine_adapter import Effort
from thinkbudget_litellm.enforce.engine_registry import adapter_for
from thinkbudget_litellm.settings import Enforcement, Engine
from thinkbudget_litellm.tiers import Tier

ENGINE = Engine.GEMINI


class TestGemini(EngineContract):
    spec = EngineSpec(
        ENGINE,
        # vertex_ai/claude-* is kept where the previous inference put it (see the lead's report)
        claims=dict.fromkeys(
            ["gemini/gemini-2.5-flash", "vertex_ai/gemini-2.5-pro", "gemini-2.5-flash", "vertex_ai/claude-x"], ENGINE
        ),
        native=[Native(b, {"thinking": {"type": "enabled", "budget_tokens": b}}, Tier.DEEP) for b in (0, 128, 8192)],
        effort_caps={0: Effort.NONE, 511: Effort.NONE, 512: Effort.MINIMAL, 1024: Effort.LOW, 100_000: Effort.HIGH},
        lifts=expected_lifts(effort="minimal", floored="low"),
        effective=as_is(0, 128, 8192),
    )


def test_effort_budgets_are_litellms() -> None:
    from litellm import constants

    minimal = max(
        constants.DEFAULT_REASONING_EFFORT_MINIMAL_THINKING_BUDGET,
        constants.DEFAULT_REASONING_EFFORT_MINIMAL_THINKING_BUDGET_GEMINI_2_5_FLASH,
        constants.DEFAULT_REASONING_EFFORT_MINIMAL_THINKING_BUDGET_GEMINI_2_5_PRO,
        constants.DEFAULT_REASONING_EFFORT_MINIMAL_THINKING_BUDGET_GEMINI_2_5_FLASH_LITE,
    )
    assert dict(adapter_for(ENGINE).effort_budgets) == {
        Effort.MINIMAL: minimal,
        Effort.LOW: constants.DEFAULT_REASONING_EFFORT_LOW_THINKING_BUDGET,
        Effort.MEDIUM: constants.DEFAULT_REASONING_EFFORT_MEDIUM_THINKING_BUDGET,
        Effort.HIGH: constants.DEFAULT_REASONING_EFFORT_HIGH_THINKING_BUDGET,
    }


def test_the_wire_config_in_extra_body_stays_clamped_under_native_enforcement() -> None:
    # LiteLLM deep-merges extra_body.generationConfig over what it built from `thinking`
    assert lifted(ENGINE, "generationConfig@extra_body", Enforcement.NATIVE) == {
        "thinkingConfig": {"thinkingBudget": BUDGET, "thinkingLevel": "low"}
    }

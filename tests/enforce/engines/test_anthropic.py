"""The Anthropic adapter, table-driven (the shared checks are ``EngineContract``'s)."""

from __future__ import annotations

from typing import Any

import pytest
from engine_cases import REMOVED, EngineContract, EngineSpec, Native, expected_lifts, lifted

from thinkbudget_litellm.enforce.context_fit import ContextLimits, fit_engine_budget
from thinkbudget_litellm.enforce.engine_adapter import Effort
from thinkbudget_litellm.enforce.engine_registry import adapter_for
from thinkbudget_litellm.settings import Enforcement, Engine

ENGINE = Engine.ANTHROPIC
LIMIT = 1024  # Anthropic gives 1024 thinking tokens for the shared cases' 512
# policy budget -> the thinking Anthropic gets (below 512 it is disabled, else at least its minimum)
THINKING = {0: None, 32: None, 511: None, 512: 1024, 600: 1024, 8192: 8192}


def _thinking(tokens: int | None) -> dict[str, Any]:
    return {"type": "disabled"} if tokens is None else {"type": "enabled", "budget_tokens": tokens}


class TestAnthropic(EngineContract):
    spec = EngineSpec(
        ENGINE,
        claims={
            "anthropic/claude-sonnet-4-5": ENGINE,
            "claude-3-7-sonnet-latest": ENGINE,
            "bedrock/anthropic.claude-3-7-sonnet-20250219-v1:0": ENGINE,
            "bedrock/us.anthropic.claude-sonnet-4": ENGINE,
            "bedrock/meta.llama3-70b": Engine.OTHER,
            "openai/claude-proxy": Engine.OPENAI,
        },
        native=[Native(budget, {"thinking": _thinking(tokens)}) for budget, tokens in THINKING.items()],
        effort_caps={0: Effort.NONE, 1023: Effort.NONE, 1024: Effort.LOW, 4096: Effort.HIGH, 16384: Effort.MAX},
        lifts=expected_lifts(budget=LIMIT),
        effective={budget: tokens or 0 for budget, tokens in THINKING.items()},
        within={0: 0, 511: 0, 1023: 0, 1024: 1024, 3000: 3000},
        # no continuation flag: a trailing assistant message is a prefill
    )


def test_effort_budgets_are_litellms() -> None:
    from litellm import constants

    assert dict(adapter_for(ENGINE).effort_budgets) == {
        Effort.MINIMAL: max(constants.DEFAULT_REASONING_EFFORT_MINIMAL_THINKING_BUDGET, 1024),
        Effort.LOW: constants.DEFAULT_REASONING_EFFORT_LOW_THINKING_BUDGET,
        Effort.MEDIUM: constants.DEFAULT_REASONING_EFFORT_MEDIUM_THINKING_BUDGET,
        Effort.HIGH: constants.DEFAULT_REASONING_EFFORT_HIGH_THINKING_BUDGET,
        Effort.XHIGH: constants.DEFAULT_REASONING_EFFORT_XHIGH_THINKING_BUDGET,
        Effort.MAX: constants.DEFAULT_REASONING_EFFORT_MAX_THINKING_BUDGET,
    }
    assert constants.ANTHROPIC_MIN_THINKING_BUDGET_TOKENS == 1024


@pytest.mark.parametrize("case", ["thinking", "thinking_adaptive", "thinking@extra_body"])
def test_native_thinking_wins(case: str) -> None:
    expected = {"type": "enabled", "budget_tokens": LIMIT}
    got = lifted(ENGINE, case, Enforcement.NATIVE)
    assert got == (expected if not case.endswith("@extra_body") else REMOVED)


@pytest.mark.parametrize(
    ("room", "budget", "expected"),
    [
        (100_000, 600, (600, 2048, False)),  # 1024 effective + 1024 answer
        (1500, 600, (0, 1024, True)),  # 1024 effective does not fit: disabled, not 476 tokens
        (2600, 2000, (1576, 2600, True)),
        (900, 8192, (0, 900, True)),
    ],
)
def test_fit_keeps_the_minimum_whole(room: int, budget: int, expected: tuple[int, int, bool]) -> None:
    fit = fit_engine_budget(ENGINE, ContextLimits(room, None), prompt_tokens=0, budget=budget, answer_room=1024)
    assert (fit.budget, fit.max_tokens, fit.clamped) == expected

"""The OpenAI adapter, table-driven (the shared checks are ``EngineContract``'s)."""

from __future__ import annotations

import pytest
from engine_cases import REMOVED, EngineContract, EngineSpec, Native, as_is, expected_lifts, lifted

from thinkbudget_litellm.enforce.engine_adapter import Effort
from thinkbudget_litellm.settings import Enforcement, Engine
from thinkbudget_litellm.tiers import Tier

ENGINE = Engine.OPENAI
# the reasoning_effort native enforcement sends for a budget, which is also the effort cap
EFFORTS = {0: "minimal", 32: "minimal", 128: "minimal", 129: "low", 1024: "low", 2048: "medium", 8192: "high"}


class TestOpenai(EngineContract):
    spec = EngineSpec(
        ENGINE,
        claims=dict.fromkeys(["openai/o4-mini", "azure/o3-deployment", "OpenAI/gpt-5"], ENGINE),
        native=[Native(budget, {"reasoning_effort": effort}, Tier.DEEP) for budget, effort in EFFORTS.items()],
        effort_caps={budget: Effort(effort) for budget, effort in EFFORTS.items()},
        lifts=expected_lifts(),
        effective=as_is(*EFFORTS),
    )


@pytest.mark.parametrize("case", ["reasoning_effort", "reasoning_effort_object", "reasoning_effort@extra_body"])
def test_native_effort_wins(case: str) -> None:
    expected = REMOVED if case.endswith("@extra_body") else "low"
    assert lifted(ENGINE, case, Enforcement.NATIVE) == expected

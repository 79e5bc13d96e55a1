"""The Ollama adapter, table-driven (the shared checks are ``EngineContract``'s)."""

from __future__ import annotations

from typing import Any

import pytest
from engine_cases import EngineContract, EngineSpec, Native, expected_lifts

from thinkbudget_litellm.enforce.client_budget_fields import neutralise_client_budget_fields
from thinkbudget_litellm.enforce.engine_adapter import Effort
from thinkbudget_litellm.settings import Enforcement, Engine
from thinkbudget_litellm.tiers import Tier

ENGINE = Engine.OLLAMA


class TestOllama(EngineContract):
    spec = EngineSpec(
        ENGINE,
        claims=dict.fromkeys(["ollama/qwen3:8b", "ollama_chat/qwen3:8b", "Ollama_Chat/gpt-oss:20b"], ENGINE),
        native=[
            Native(0, {"think": False}, Tier.TRIVIAL),
            Native(512, {"think": True}, Tier.MODERATE),
            Native(512, {"think": False}, Tier.MODERATE, no_thinking=frozenset({Tier.MODERATE})),
        ],
        # Ollama has no numeric budget: a level cannot bound it, only "off" is a budget it honours
        effort_caps={0: Effort.NONE, 1: Effort.HIGH, 100_000: Effort.HIGH},
        lifts=expected_lifts(effort="high"),
    )


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

"""The adapter for any other engine, table-driven (the shared checks are ``EngineContract``'s)."""

from __future__ import annotations

from typing import Any

from engine_cases import EngineContract, EngineSpec, Native, expected_lifts, lifted

from thinkbudget_litellm.enforce.engine_adapter import Effort
from thinkbudget_litellm.settings import Enforcement, Engine

ENGINE = Engine.OTHER


class TestOther(EngineContract):
    spec = EngineSpec(
        ENGINE,
        # the fallback: it claims nothing; every model no other family claims is its
        claims=dict.fromkeys(
            ["custom/whatever", "openrouter/deepseek/deepseek-r1", "", None, "together_ai/qwq"], ENGINE
        ),
        native=[Native(512, {}, request={"x": 1})],  # no native cap is known
        effort_caps={0: None, 512: Effort.LOW},
        lifts=expected_lifts(),
    )

    def test_native_enforcement_adds_nothing_for_an_unknown_engine(self, case: str, expected: Any) -> None:
        assert lifted(ENGINE, case, Enforcement.NATIVE) == expected

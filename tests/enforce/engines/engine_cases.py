"""What the per-engine tests share: client requests that try to lift the thinking budget, and
``EngineContract``, the checks every engine's adapter is held to.

Each ``test_<engine>.py`` holds one ``EngineContract`` subclass whose ``EngineSpec`` states, as
tables, what its engine does (the models it claims, the fields ``native_params`` sets, its budgets
and effort caps, its continuation, and for every lifting case here the value its engine is left
with, built by ``expected_lifts``), plus tests of what only that engine does. A test in
test_engine_registry.py checks that every known budget field has a lifting case.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest

from thinkbudget_litellm.enforce.client_budget_fields import neutralise_client_budget_fields
from thinkbudget_litellm.enforce.engine_adapter import Effort, EngineAdapter
from thinkbudget_litellm.enforce.engine_registry import adapter_for, infer_engine
from thinkbudget_litellm.settings import Enforcement, Engine
from thinkbudget_litellm.tiers import Tier

BUDGET = 512
TIER = Tier.MODERATE
REMOVED = "<removed>"


@dataclass(frozen=True)
class Lift:
    request: dict[str, Any]
    path: tuple[str, ...]  # where the result is read ("extra_body" first when it is there)
    off: bool = False  # on a no-thinking tier
    fields: tuple[str, ...] = field(default=())  # the budget fields (BudgetField.name) it exercises


LIFTS: dict[str, Lift] = {
    "thinking_token_budget": Lift(
        {"thinking_token_budget": 100_000}, ("thinking_token_budget",), fields=("thinking_token_budget",)
    ),
    "thinking_token_budget@extra_body": Lift(
        {"extra_body": {"thinking_token_budget": 100_000}}, ("extra_body", "thinking_token_budget")
    ),
    "reasoning_effort": Lift({"reasoning_effort": "high"}, ("reasoning_effort",), fields=("reasoning_effort",)),
    "reasoning_effort@extra_body": Lift(
        {"extra_body": {"reasoning_effort": "xhigh"}}, ("extra_body", "reasoning_effort")
    ),
    "reasoning_effort_object": Lift({"reasoning_effort": {"effort": "max", "summary": "auto"}}, ("reasoning_effort",)),
    "thinking": Lift({"thinking": {"type": "enabled", "budget_tokens": 50_000}}, ("thinking",), fields=("thinking",)),
    "thinking_adaptive": Lift({"thinking": {"type": "adaptive", "display": "summarized"}}, ("thinking",)),
    "thinking@extra_body": Lift(
        {"extra_body": {"thinking": {"type": "enabled", "budget_tokens": 50_000}}}, ("extra_body", "thinking")
    ),
    "custom_params": Lift(
        {"custom_params": {"thinking_budget": 100_000, "x": 1}},
        ("custom_params",),
        fields=("custom_params.thinking_budget",),
    ),
    "thinking_budget_tokens": Lift(
        {"thinking_budget_tokens": -1}, ("thinking_budget_tokens",), fields=("thinking_budget_tokens",)
    ),
    "enable_thinking_on_no_thinking_tier": Lift(
        {"chat_template_kwargs": {"enable_thinking": True}},
        ("chat_template_kwargs", "enable_thinking"),
        off=True,
        fields=("chat_template_kwargs.enable_thinking",),
    ),
    "enable_thinking": Lift(
        {"chat_template_kwargs": {"enable_thinking": True}}, ("chat_template_kwargs", "enable_thinking")
    ),
    "template_thinking_on_no_thinking_tier": Lift(
        {"chat_template_kwargs": {"thinking": True}},
        ("chat_template_kwargs", "thinking"),
        off=True,
        fields=("chat_template_kwargs.thinking",),
    ),
    "template_thinking_budget": Lift(
        {"chat_template_kwargs": {"thinking_budget": -1}},
        ("chat_template_kwargs", "thinking_budget"),
        fields=("chat_template_kwargs.thinking_budget",),
    ),
    "think_on_no_thinking_tier": Lift({"think": True}, ("think",), off=True, fields=("think",)),
    "think_level": Lift({"think": "high"}, ("think",)),
    "output_config": Lift(
        {"output_config": {"effort": "max", "format": {"type": "json_schema"}}},
        ("output_config",),
        fields=("output_config.effort",),
    ),
    "reasoning.effort": Lift(
        {"reasoning": {"effort": "high", "summary": "auto"}}, ("reasoning",), fields=("reasoning.effort",)
    ),
    "reasoning.max_tokens": Lift(
        {"reasoning": {"max_tokens": 100_000}}, ("reasoning",), fields=("reasoning.max_tokens",)
    ),
    "reasoning.enabled_on_no_thinking_tier": Lift(
        {"reasoning": {"enabled": True}}, ("reasoning",), off=True, fields=("reasoning.enabled",)
    ),
    "thinkingConfig": Lift(
        {"thinkingConfig": {"thinkingBudget": -1, "includeThoughts": True}},
        ("thinkingConfig",),
        fields=("thinkingConfig.thinkingBudget",),
    ),
    "thinking_config.thinking_level": Lift(
        {"thinking_config": {"thinking_level": "high"}}, ("thinking_config",), fields=("thinkingConfig.thinkingLevel",)
    ),
    "generationConfig@extra_body": Lift(
        {"extra_body": {"generationConfig": {"thinkingConfig": {"thinkingBudget": 24_576, "thinkingLevel": "high"}}}},
        ("extra_body", "generationConfig"),
        fields=("generationConfig.thinkingConfig.thinkingBudget", "generationConfig.thinkingConfig.thinkingLevel"),
    ),
}


def lifted(engine: Engine, case: str, enforcement: Enforcement = Enforcement.STREAM) -> Any:
    """What ``engine`` is left with at the case's path (``REMOVED`` when the field is gone)."""
    lift = LIFTS[case]
    out = neutralise_client_budget_fields(
        {"messages": [{"role": "user", "content": "hi"}], **lift.request},
        BUDGET,
        TIER,
        [TIER] if lift.off else [],
        engine,
        enforcement,
    ).request
    value: Any = out
    for key in lift.path:
        if not isinstance(value, dict) or key not in value:
            return REMOVED
        value = value[key]
    return value


def expected_lifts(budget: int = BUDGET, effort: str = "low", floored: str | None = None) -> dict[str, Any]:
    """What an engine is left with for every case in ``LIFTS``.

    ``budget``: the token count a field is clamped to (the engine's effective budget for ``BUDGET``;
    llama.cpp's and Gemini's -1, unlimited, is clamped too); ``effort``: the level a field is clamped
    to (the engine's ``effort_cap``); ``floored``: the level of the fields with a floor (Ollama's
    ``think``, Anthropic's ``output_config.effort``, Gemini's ``thinkingLevel``: the lowest level every
    Gemini 3 model and gpt-oss accept), ``effort`` unless that is below the floor. A switch is turned
    off on a no-thinking tier; ``enable_thinking`` on a thinking tier is left as it is.
    """
    floored = floored or effort
    return {
        "thinking_token_budget": budget,
        "thinking_token_budget@extra_body": budget,
        "reasoning_effort": effort,
        "reasoning_effort@extra_body": effort,
        "reasoning_effort_object": {"effort": effort, "summary": "auto"},
        "thinking": {"type": "enabled", "budget_tokens": budget},
        "thinking_adaptive": {"type": "enabled", "budget_tokens": budget, "display": "summarized"},
        "thinking@extra_body": {"type": "enabled", "budget_tokens": budget},
        "custom_params": {"thinking_budget": budget, "x": 1},
        "thinking_budget_tokens": budget,
        "enable_thinking_on_no_thinking_tier": False,
        "enable_thinking": True,
        "template_thinking_on_no_thinking_tier": False,
        "template_thinking_budget": budget,
        "think_on_no_thinking_tier": False,
        "think_level": floored,
        "output_config": {"effort": floored, "format": {"type": "json_schema"}},
        "reasoning.effort": {"effort": effort, "summary": "auto"},
        "reasoning.max_tokens": {"max_tokens": budget},
        "reasoning.enabled_on_no_thinking_tier": {"enabled": False},
        "thinkingConfig": {"thinkingBudget": budget, "includeThoughts": True},
        "thinking_config.thinking_level": {"thinking_level": floored},
        "generationConfig@extra_body": {"thinkingConfig": {"thinkingBudget": budget, "thinkingLevel": floored}},
    }


@dataclass(frozen=True)
class Native:
    """One ``native_params`` case: the policy's budget and tier, the client's request and the
    no-thinking tiers, and the fields the adapter sets."""

    budget: int
    expected: dict[str, Any]
    tier: Tier = TIER
    request: dict[str, Any] = field(default_factory=dict)
    no_thinking: frozenset[Tier] = frozenset()


def as_is(*budgets: int) -> dict[int, int]:
    """A budget table for an engine that takes each of ``budgets`` as it is."""
    return {budget: budget for budget in budgets}


def _scribble(value: dict[str, Any]) -> None:
    for key, item in value.items():
        if isinstance(item, dict):
            _scribble(item)
        else:
            value[key] = "scribbled"


@dataclass(frozen=True)
class EngineSpec:
    """What an engine's adapter does, as tables: each entry is one test case of ``EngineContract``.
    The defaults are ``EngineAdapter``'s: the policy's budget as it is, no continuation flag, and a
    prefill that always carries ``<think>``."""

    engine: Engine
    claims: Mapping[str | None, Engine]  # LiteLLM model string -> the engine inferred for it
    native: Sequence[Native]
    effort_caps: Mapping[int, Effort | None]  # limit -> effort_cap
    lifts: Mapping[str, Any]  # every LIFTS case -> what the engine is left with (expected_lifts)
    effective: Mapping[int, int] = field(default_factory=lambda: as_is(0, BUDGET, 8192))  # -> effective_budget
    within: Mapping[int, int] = field(default_factory=lambda: as_is(0, BUDGET, 8192))  # limit -> budget_within
    continuation: Mapping[str, Any] = field(default_factory=dict)  # continuation_params()
    prefill_open_tag: Mapping[bool, bool] = field(default_factory=lambda: {True: True, False: True})


class EngineContract:
    """The checks every engine's adapter is held to: a ``Test<Engine>`` subclass per engine sets
    ``spec``, and ``pytest_generate_tests`` parametrizes each test over the table its argument names
    (so a subclass's own test taking ``case, expected`` runs over the lifting cases too)."""

    spec: ClassVar[EngineSpec]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        spec = self.spec
        tables: dict[tuple[str, str], Mapping[Any, Any]] = {
            ("model", "engine"): spec.claims,
            ("budget", "effective"): spec.effective,
            ("limit", "within"): spec.within,
            ("limit", "cap"): spec.effort_caps,
            ("preopens", "carries"): spec.prefill_open_tag,
            ("case", "expected"): dict(sorted(spec.lifts.items())),
        }
        for argnames, table in tables.items():
            if set(argnames) <= set(metafunc.fixturenames):
                metafunc.parametrize(argnames, list(table.items()), ids=[str(key) for key in table])
        if "native" in metafunc.fixturenames:
            metafunc.parametrize("native", spec.native)

    @property
    def adapter(self) -> EngineAdapter:
        return adapter_for(self.spec.engine)

    def test_claims(self, model: str | None, engine: Engine) -> None:
        assert infer_engine(model) is engine
        if engine is not self.spec.engine or not self.adapter.prefixes:
            # a family claims only its own models; one a deployment names (no prefixes) claims none
            assert self.adapter.claim((model or "").lower()) == 0

    def test_native_params(self, native: Native) -> None:
        request = copy.deepcopy(native.request)
        assert self.adapter.native_params(native.budget, native.tier, request, native.no_thinking) == native.expected
        assert request == native.request  # read, never mutated

    def test_effective_budget(self, budget: int, effective: int) -> None:
        assert self.adapter.effective_budget(budget) == effective

    def test_budget_within(self, limit: int, within: int) -> None:
        assert self.adapter.budget_within(limit) == within
        assert self.adapter.effective_budget(within) <= limit

    def test_effort_cap(self, limit: int, cap: Effort | None) -> None:
        assert self.adapter.effort_cap(limit) is cap

    def test_continuation(self) -> None:
        first = self.adapter.continuation_params()
        assert first == self.spec.continuation
        _scribble(first)
        assert self.adapter.continuation_params() == self.spec.continuation  # a fresh copy each time

    def test_prefill_open_tag(self, preopens: bool, carries: bool) -> None:
        assert self.adapter.prefill_open_tag(template_preopens=preopens) is carries

    def test_every_case_has_an_expectation(self) -> None:
        assert set(self.spec.lifts) == set(LIFTS)

    def test_client_budget_fields(self, case: str, expected: Any) -> None:
        assert lifted(self.spec.engine, case) == expected

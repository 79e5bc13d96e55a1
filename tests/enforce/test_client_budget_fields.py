"""Neutralising client-sent engine budget fields: the behaviour shared by every engine.

What each engine is left with for each field is tabled in tests/enforce/engines/test_<engine>.py.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from thinkbudget_litellm.enforce.client_budget_fields import (
    Action,
    FieldChange,
    Location,
    neutralise_client_budget_fields,
)
from thinkbudget_litellm.enforce.engine_registry import adapter_for
from thinkbudget_litellm.settings import Enforcement, Engine
from thinkbudget_litellm.tiers import Tier

EVERYTHING: dict[str, Any] = {
    "messages": [{"role": "user", "content": "hi"}],
    "thinking_token_budget": 100_000,
    "reasoning_effort": {"effort": "max", "summary": "auto"},
    "thinking": {"type": "adaptive"},
    "custom_params": {"thinking_budget": -1, "keep": [1, 2]},
    "thinking_budget_tokens": 99_999,
    "chat_template_kwargs": {"enable_thinking": True, "thinking": True, "thinking_budget": -1, "other": "x"},
    "think": "high",
    "output_config": {"effort": "max"},
    "reasoning": {"effort": "xhigh", "max_tokens": 100_000, "enabled": True},
    "thinkingConfig": {"thinkingBudget": -1, "thinkingLevel": "high"},
    "extra_body": {
        "thinking_token_budget": 100_000,
        "chat_template_kwargs": {"enable_thinking": True},
        "generation_config": {"thinking_config": {"thinking_budget": 24_576}},
        "unrelated": {"a": 1},
    },
    "temperature": 0.6,
}


def run(request: dict[str, Any], budget: int = 512, **kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"tier": Tier.MODERATE, "no_thinking_tiers": [], "engine": Engine.VLLM}
    args.update(kw)
    return neutralise_client_budget_fields(request, budget, **args).request


@pytest.mark.parametrize("engine", list(Engine))
@pytest.mark.parametrize("enforcement", list(Enforcement))
def test_the_request_is_never_mutated(engine: Engine, enforcement: Enforcement) -> None:
    request = copy.deepcopy(EVERYTHING)
    out = neutralise_client_budget_fields(request, 512, Tier.MODERATE, [Tier.MODERATE], engine, enforcement)
    assert request == EVERYTHING
    assert out.request is not request


@pytest.mark.parametrize("engine", list(Engine))
def test_off_enforcement_changes_nothing(engine: Engine) -> None:
    out = neutralise_client_budget_fields(EVERYTHING, 0, Tier.TRIVIAL, [Tier.TRIVIAL], engine, Enforcement.OFF)
    assert out.request == EVERYTHING
    assert out.changes == ()


@pytest.mark.parametrize("engine", list(Engine))
@pytest.mark.parametrize("enforcement", [Enforcement.NATIVE, Enforcement.STREAM])
@pytest.mark.parametrize("budget", [0, 32, 512, 8192])
def test_neutralising_twice_changes_nothing_more(engine: Engine, enforcement: Enforcement, budget: int) -> None:
    once = neutralise_client_budget_fields(EVERYTHING, budget, Tier.MODERATE, [], engine, enforcement)
    twice = neutralise_client_budget_fields(once.request, budget, Tier.MODERATE, [], engine, enforcement)
    assert twice.request == once.request
    assert twice.changes == ()


@pytest.mark.parametrize("engine", list(Engine))
def test_native_enforcement_sets_the_native_fields_on_top(engine: Engine) -> None:
    out = run(EVERYTHING, 2048, engine=engine, enforcement=Enforcement.NATIVE)
    native = adapter_for(engine).native_params(2048, Tier.MODERATE, out)
    assert {k: out[k] for k in native} == native
    assert not set(native) & set(out["extra_body"])


def test_stream_enforcement_adds_no_native_field() -> None:
    assert run({"messages": []}, enforcement=Enforcement.STREAM) == {"messages": []}


def test_unrelated_fields_are_kept() -> None:
    out = run(EVERYTHING, enforcement=Enforcement.STREAM)
    assert out["messages"] == EVERYTHING["messages"]
    assert out["temperature"] == 0.6
    assert out["custom_params"]["keep"] == [1, 2]
    assert out["chat_template_kwargs"]["other"] == "x"
    assert out["extra_body"]["unrelated"] == {"a": 1}


@pytest.mark.parametrize(
    "request_",
    [
        {"thinking_token_budget": 100},
        {"thinking_token_budget": 0},
        {"reasoning_effort": "minimal"},
        {"reasoning_effort": "none"},
        {"thinking": {"type": "disabled"}},
        {"thinking": {"type": "enabled", "budget_tokens": 200}},
        {"chat_template_kwargs": {"enable_thinking": False}},
        {"think": False},
        {"extra_body": {"thinkingConfig": {"thinkingBudget": 0}}},
    ],
)
def test_a_client_may_lower_its_budget(request_: dict[str, Any]) -> None:
    out = neutralise_client_budget_fields(request_, 512, Tier.MODERATE, [], Engine.VLLM, Enforcement.STREAM)
    assert out.request == request_
    assert out.changes == ()


@pytest.mark.parametrize(
    ("request_", "path"),
    [
        ({"thinking_token_budget": "100000"}, ("thinking_token_budget",)),
        ({"thinking_token_budget": True}, ("thinking_token_budget",)),
        ({"thinking_token_budget": 1e9}, ("thinking_token_budget",)),
        ({"reasoning_effort": "turbo"}, ("reasoning_effort",)),
        ({"reasoning_effort": {"summary": "auto"}}, ("reasoning_effort",)),
        ({"thinking": "on"}, ("thinking",)),
        ({"thinking": {"type": "enabled", "budget_tokens": "lots"}}, ("thinking",)),
        ({"thinking": {"type": "enabled"}}, ("thinking",)),
        ({"thinking": {"type": "whatever"}}, ("thinking",)),
        ({"chat_template_kwargs": {"enable_thinking": "true"}}, ("chat_template_kwargs", "enable_thinking")),
        ({"think": "turbo"}, ("think",)),
    ],
)
def test_unreadable_values_are_removed(request_: dict[str, Any], path: tuple[str, ...]) -> None:
    out = neutralise_client_budget_fields(request_, 512, Tier.MODERATE, [], Engine.VLLM, Enforcement.STREAM)
    value: Any = out.request
    for key in path[:-1]:
        value = value[key]
    assert path[-1] not in value
    assert [c.action for c in out.changes] == [Action.REMOVED]


def test_reasoning_effort_is_removed_when_no_level_fits_a_no_thinking_request() -> None:
    out = run({"reasoning_effort": "low"}, 0, enforcement=Enforcement.STREAM)
    assert "reasoning_effort" not in out


def test_the_policy_is_off_when_the_engine_gives_no_thinking() -> None:
    # Anthropic disables thinking below 512: nothing may switch it back on
    out = run(
        {"chat_template_kwargs": {"enable_thinking": True}, "thinking": {"type": "enabled", "budget_tokens": 4000}},
        300,
        engine=Engine.ANTHROPIC,
        enforcement=Enforcement.STREAM,
    )
    assert out == {"chat_template_kwargs": {"enable_thinking": False}, "thinking": {"type": "disabled"}}


def test_a_field_under_a_non_mapping_parent_is_left_alone() -> None:
    request = {"custom_params": "junk", "extra_body": "junk"}
    assert run(request, enforcement=Enforcement.STREAM) == request


def test_changes_say_what_was_done() -> None:
    out = neutralise_client_budget_fields(
        {"thinking_token_budget": 100_000, "reasoning_effort": "turbo", "extra_body": {"thinking_token_budget": 9}},
        512,
        Tier.MODERATE,
        [],
        Engine.VLLM,
    )
    assert out.changes == (
        FieldChange(Location.TOP, ("thinking_token_budget",), Action.CLAMPED, 100_000, 512),
        FieldChange(Location.TOP, ("reasoning_effort",), Action.REMOVED, "turbo", None),
        FieldChange(Location.EXTRA_BODY, ("thinking_token_budget",), Action.MOVED, 9, None),
    )
    assert [c.describe() for c in out.changes] == [
        "thinking_token_budget: 100000 -> 512",
        "reasoning_effort: removed",
        "extra_body.thinking_token_budget: moved",
    ]
    assert out.request == {"thinking_token_budget": 512, "extra_body": {}}


def test_spellings_are_all_checked() -> None:
    out = run(
        {"thinkingConfig": {"thinking_budget": 9000}, "thinking_config": {"thinkingBudget": 9000}},
        enforcement=Enforcement.STREAM,
    )
    assert out == {"thinkingConfig": {"thinking_budget": 512}, "thinking_config": {"thinkingBudget": 512}}


@pytest.mark.parametrize("budget", [-1, True, 1.5])
def test_budget_must_be_a_non_negative_int(budget: Any) -> None:
    with pytest.raises(ValueError, match="budget"):
        run({}, budget)

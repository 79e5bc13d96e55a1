"""Shared cases for the per-engine tests: client requests that try to lift the thinking budget.

Each engine's test file lists, for every case here, the value its engine is left with; a test in
test_engine_registry.py checks that every known budget field has a case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from thinkbudget_litellm.enforce.client_budget_fields import neutralise_client_budget_fields
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

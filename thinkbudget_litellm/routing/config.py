"""Routing and budget-guard settings: the ``thinkbudget.routing`` block of config.yaml, a deployment's
``model_info.thinkbudget.routing`` block and the ``routing`` entry of key/team ``metadata.thinkbudget``.

Validated with pydantic like the rest of the settings (``settings.parse_settings`` names the field on
error); imported by :mod:`thinkbudget_litellm.settings`, so nothing here imports it back.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict

from thinkbudget_litellm.tiers import Task, Tier

_Count = Annotated[int, Strict(), Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Strategy(StrEnum):
    """How a model is chosen among a tier's candidates (README "Routing and budget guard")."""

    BALANCED = "balanced"  # the tier map: the first model of the tier's pool
    CHEAPEST = "cheapest"  # the cheapest whose declared quality is enough for the tier
    BEST_QUALITY = "best_quality"  # the highest declared quality (task bonus included)
    BUDGET_CONSTRAINED = "budget_constrained"  # the best that fits the caller's remaining budget


ALL_STRATEGIES: tuple[Strategy, ...] = tuple(Strategy)

DEFAULT_MIN_QUALITY: dict[Tier, int] = {
    Tier.TRIVIAL: 1,
    Tier.SIMPLE: 1,
    Tier.MODERATE: 2,
    Tier.COMPLEX: 3,
    Tier.DEEP: 4,
}


class DeploymentRouting(_Strict):
    """``model_info.thinkbudget.routing``: what a deployment declares about itself for routing."""

    quality: int = Field(default=3, ge=1, le=5, description="1 (small distill) ... 5 (frontier)")
    strengths: dict[Task, float] = Field(
        default_factory=dict, description="quality bonus per task type (code: 1.0 = one quality step)"
    )
    input_cost_per_token: float | None = Field(default=None, ge=0, description="configured price fallback")
    output_cost_per_token: float | None = Field(default=None, ge=0, description="configured price fallback")


class GuardSettings(_Strict):
    """``thinkbudget.routing.guard``: the pre-flight budget guard."""

    enabled: bool = Field(default=False, description="off: LiteLLM's own budget checks alone, as before")
    min_thinking_tokens: _Count = Field(default=32, description="the guard never lowers a budget below this")
    answer_tokens: _Count = Field(default=256, description="answer estimate when the client names no max_tokens")
    soft_budgets: bool = Field(default=True, description="a soft budget counts as a limit too")


class RoutingSettings(_Strict):
    """``thinkbudget.routing``."""

    strategy: Strategy = Strategy.BALANCED
    allowed_strategies: list[Strategy] | None = Field(
        default=None, description="what key/team metadata may choose (default: every strategy)"
    )
    min_quality: dict[Tier, int] = Field(default_factory=lambda: dict(DEFAULT_MIN_QUALITY))
    baseline_model: str | None = Field(default=None, description="model group the saving is measured against")
    price_window: int = Field(default=50, ge=1, le=10_000, description="recent requests per deployment priced")
    guard: GuardSettings = GuardSettings()
    escalate: bool = Field(
        default=False, description="retry an empty or length-cut answer once on the next tier's model"
    )

    def allowed(self) -> tuple[Strategy, ...]:
        return tuple(self.allowed_strategies) if self.allowed_strategies is not None else ALL_STRATEGIES


class ScopeRouting(_Strict):
    """``routing`` in key/team ``metadata.thinkbudget``: narrows what the operator allows, never widens it."""

    strategy: Strategy | None = None
    allowed_strategies: list[Strategy] | None = None

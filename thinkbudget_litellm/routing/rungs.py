"""Our five tiers on the complexity router's five built-in rungs (NON_REASONING needs
``enable_non_reasoning_tier: true``); with four rungs, trivial shares SIMPLE."""

from __future__ import annotations

from collections.abc import Mapping

from thinkbudget_litellm.tiers import TIER_ORDER, Tier

RUNG_OF: Mapping[Tier, str] = {
    Tier.TRIVIAL: "NON_REASONING",
    Tier.SIMPLE: "SIMPLE",
    Tier.MODERATE: "MEDIUM",
    Tier.COMPLEX: "COMPLEX",
    Tier.DEEP: "REASONING",
}
TIER_OF: Mapping[str, Tier] = {rung: tier for tier, rung in RUNG_OF.items()}


def rung_for(tier: Tier, *, non_reasoning: bool = True) -> str:
    if tier is Tier.TRIVIAL and not non_reasoning:
        return RUNG_OF[Tier.SIMPLE]
    return RUNG_OF[tier]


def pool_for(tier: Tier, pools: Mapping[str, list[str]]) -> tuple[str, list[str]]:
    """The tier's pool, else the next configured rung up (then down): (rung, model groups)."""
    order = list(TIER_ORDER[tier.rank :]) + list(reversed(TIER_ORDER[: tier.rank]))
    for t in order:
        pool = pools.get(RUNG_OF[t])
        if pool:
            return RUNG_OF[t], list(pool)
    return RUNG_OF[tier], []

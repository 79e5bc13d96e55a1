"""The shared vocabulary: thinking tiers, task types and the default budgets (../shared/TIERS.md)."""

from __future__ import annotations

from enum import StrEnum


class Tier(StrEnum):
    """How much private deliberation a request needs, in increasing order."""

    TRIVIAL = "trivial"
    SIMPLE = "simple"
    MODERATE = "moderate"
    COMPLEX = "complex"
    DEEP = "deep"

    @property
    def rank(self) -> int:
        return TIER_ORDER.index(self)

    def shifted(self, steps: int) -> Tier:
        """The tier ``steps`` places up (positive) or down (negative), clamped to the ends."""
        idx = min(max(self.rank + steps, 0), len(TIER_ORDER) - 1)
        return TIER_ORDER[idx]


TIER_ORDER: tuple[Tier, ...] = (Tier.TRIVIAL, Tier.SIMPLE, Tier.MODERATE, Tier.COMPLEX, Tier.DEEP)


class Task(StrEnum):
    """One task type per request."""

    CHAT = "chat"
    FACT = "fact"
    MATH = "math"
    CODE = "code"
    WRITING = "writing"
    SUMMARIZE = "summarize"
    ANALYSIS = "analysis"
    OTHER = "other"


DEFAULT_BUDGETS: dict[Tier, int] = {
    Tier.TRIVIAL: 32,
    Tier.SIMPLE: 128,
    Tier.MODERATE: 512,
    Tier.COMPLEX: 2048,
    Tier.DEEP: 8192,
}

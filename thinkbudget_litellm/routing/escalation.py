"""Escalation, pure: whether a request's answer calls for one retry on a larger model, and which.

A request escalates at most once, when ``thinkbudget.routing.escalate`` is on, its route came from a
complexity router, and its answer came back empty, or its thinking was cut at the budget and its
answer then ended for length. The retry goes to the next tier's model group (the tier map's model,
the first of the next rung's pool) that is not the one that served and declares a higher quality;
never when the guard would refuse it (its estimate does not fit what is left of the caller's budget
after what the first attempt cost).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from thinkbudget_litellm.routing.budget_left import Remaining
from thinkbudget_litellm.routing.rungs import RUNG_OF
from thinkbudget_litellm.tiers import TIER_ORDER, Tier


class EscalationCause(StrEnum):
    EMPTY_ANSWER = "empty answer"
    CUT_AND_LENGTH = "thinking cut and answer ended for length"


def escalation_cause(answer: str | None, finish_reason: str | None, *, thinking_cut: bool) -> EscalationCause | None:
    """Why this response calls for an escalation, or None when it answered."""
    if not (answer or "").strip():
        return EscalationCause.EMPTY_ANSWER
    if thinking_cut and finish_reason == "length":
        return EscalationCause.CUT_AND_LENGTH
    return None


@dataclass(frozen=True, slots=True)
class Target:
    tier: Tier  # the tier whose model it is
    model: str  # its model group


def next_tier_model(
    tier: Tier, served: str, pools: Mapping[str, list[str]], quality: Mapping[str, int]
) -> Target | None:
    """The first tier above ``tier`` whose tier-map model is not ``served`` and declares a higher
    quality than it (``quality``: each model group's declared quality); None at the top."""
    floor = quality.get(served, 0)
    for t in TIER_ORDER[tier.rank + 1 :]:
        pool = pools.get(RUNG_OF[t]) or []
        if not pool:
            continue
        model = pool[0]
        if model != served and quality.get(model, 0) > floor:
            return Target(t, model)
    return None


def escalation_fits(estimate_usd: float, remaining: Remaining, spent_usd: float | None) -> bool:
    """The guard lets the retry through: its estimate fits what was left at admission less what the
    request has cost so far (nothing limits the caller: it fits)."""
    if remaining.usd is None:
        return True
    return estimate_usd <= remaining.usd - (spent_usd or 0.0)


@dataclass(frozen=True, slots=True)
class Escalation:
    """One request's escalation, as the shell issued it."""

    from_model: str
    to_model: str
    cause: EscalationCause
    call_id: str  # the id we issued for the retry (never a client field)
    estimate_usd: float
    refused: bool = False  # the guard refused it: the first answer stands
    failed: bool = False  # the retry failed: the first answer stands

    @property
    def served(self) -> bool:
        """The client got the escalated response."""
        return not (self.refused or self.failed)

    def header(self) -> str:
        return f"{self.from_model} -> {self.to_model}"

    def reason(self) -> str:
        return f"escalated from {self.from_model} to {self.to_model}: {self.cause.value}"

    def as_extra(self) -> dict[str, object]:
        if not self.served:
            why = "refused by the budget guard" if self.refused else "failed"
            return {"escalation_not_served": f"{self.header()} ({self.cause.value}): {why}"}
        return {
            "escalated_from": self.from_model,
            "escalated_to": self.to_model,
            "escalation_cause": self.cause.value,
            "escalation_call_id": self.call_id,
            "escalation_estimated_cost_usd": self.estimate_usd,
        }

"""What is left of the caller's LiteLLM budgets (key, team, user, end user; hard and soft).

Plain figures in, plain figures out: ``litellm_io.budget_limits`` reads them from ``UserAPIKeyAuth``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class LimitScope(StrEnum):
    KEY = "key"
    TEAM = "team"
    USER = "user"
    END_USER = "end_user"


@dataclass(frozen=True, slots=True)
class BudgetLimit:
    scope: LimitScope
    limit_usd: float
    spend_usd: float
    soft: bool = False  # LiteLLM's soft budget (an alert there; a limit for the guard when configured)

    @property
    def left_usd(self) -> float:
        return max(self.limit_usd - self.spend_usd, 0.0)

    def describe(self) -> str:
        kind = "soft budget" if self.soft else "budget"
        return f"{self.scope.value} {kind} ${self.left_usd:.6g} left of ${self.limit_usd:.6g}"


@dataclass(frozen=True, slots=True)
class Remaining:
    """The tightest limit, or none (``usd`` None: nothing limits this caller)."""

    usd: float | None
    binding: BudgetLimit | None

    def fits(self, cost_usd: float) -> bool:
        return self.usd is None or cost_usd <= self.usd

    def describe(self) -> str:
        return "no budget limit" if self.binding is None else self.binding.describe()


UNLIMITED = Remaining(None, None)


def remaining(limits: Iterable[BudgetLimit], *, soft_budgets: bool = True) -> Remaining:
    """The least that is left among ``limits`` (soft ones only when ``soft_budgets``)."""
    binding: BudgetLimit | None = None
    for limit in limits:
        if limit.soft and not soft_budgets:
            continue
        if binding is None or limit.left_usd < binding.left_usd:
            binding = limit
    return UNLIMITED if binding is None else Remaining(binding.left_usd, binding)

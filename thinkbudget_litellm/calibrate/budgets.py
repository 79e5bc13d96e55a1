"""The adaptive budgets a proxy applies: the latest calibration's proposals, looked up per request.

A proposal that fell back to the configured default is not an adaptive budget (its scope stays
``tier``); any other sets the request's starting budget with scope ``adaptive``. Key, team and user
overrides, ceilings and the caller's own lowering apply on top (``policy.budget.resolve_budget``).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from thinkbudget_litellm.calibrate.explore import exploration_budget, explores
from thinkbudget_litellm.calibrate.proposal import CellKey, Proposal
from thinkbudget_litellm.policy.budget import BudgetScope
from thinkbudget_litellm.settings import AdaptiveSettings
from thinkbudget_litellm.tiers import Task, Tier


@dataclass(frozen=True, slots=True)
class BudgetTable:
    """Adaptive budgets per cell, from records created in ``[since, until)``."""

    budgets: Mapping[CellKey, int] = field(default_factory=dict)
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def of(cls, proposals: Mapping[CellKey, Proposal], since: datetime, until: datetime) -> BudgetTable:
        return cls({c: p.budget for c, p in proposals.items() if p.adaptive}, since, until)

    def lookup(self, model_group: str | None, tier: Tier, task: Task) -> int | None:
        """The task cell's budget, else its tier cell's; None: no adaptive budget."""
        if model_group is None:
            return None
        found = self.budgets.get(CellKey(model_group, tier, task))
        return found if found is not None else self.budgets.get(CellKey(model_group, tier))


class AdaptivePolicy:
    """What admission asks: the starting budget of a request and, if it explores, its larger one.
    The table is replaced whole by the refresher (one reference swap: readers never see half)."""

    def __init__(self, settings: AdaptiveSettings, table: BudgetTable | None = None) -> None:
        self.settings = settings
        self.table = table or BudgetTable()
        self.seed = settings.explore_seed if settings.explore_seed is not None else secrets.token_hex(16)

    def start(self, model_group: str | None, tier: Tier, task: Task, default: int) -> tuple[int, BudgetScope]:
        found = self.table.lookup(model_group, tier, task) if self.settings.enabled else None
        return (found, BudgetScope.ADAPTIVE) if found is not None else (default, BudgetScope.TIER)

    def explore_to(self, call_id: str, base: int) -> int | None:
        """The exploration budget for this request, or None when it does not explore."""
        s = self.settings
        if not s.enabled or not explores(self.seed, call_id, s.explore_share):
            return None
        return exploration_budget(base, s.explore_factor, s.bounds.max)

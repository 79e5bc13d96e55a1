"""A running proxy's adaptive budgets, recomputed in the background from the shared records database.

Every instance must apply the same budgets. Each computes them from the same rows: the window is
aligned to multiples of ``refresh_s`` since the epoch (records created in ``[until - window_s,
until)`` with ``until`` the latest boundary), and the refresh for a boundary runs a short settle time
after it, once the records of requests that finished before it are written. The computation is
deterministic, so instances that read the same rows agree exactly.

A refresh that fails (database down, table not migrated yet) keeps the budgets in force, logs and
counts it (``thinkbudget_errors_total{hook="adaptive_refresh"}``); requests never wait for it.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from thinkbudget_litellm import metrics
from thinkbudget_litellm.calibrate.budgets import AdaptivePolicy, BudgetTable
from thinkbudget_litellm.calibrate.proposal import cell_counts, propose
from thinkbudget_litellm.calibrate.source import fetch_observations
from thinkbudget_litellm.record.database_url import DatabaseTarget
from thinkbudget_litellm.record.engine import create_engine
from thinkbudget_litellm.tiers import Tier

log = logging.getLogger("thinkbudget_litellm")


def aligned_window(now: datetime, refresh_s: float, window_s: float) -> tuple[datetime, datetime]:
    """``[since, until)``: ``until`` the latest multiple of ``refresh_s`` since the epoch at or before
    ``now``; the same for every instance in the same refresh period."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    periods = math.floor((now - epoch).total_seconds() / refresh_s)
    until = epoch + timedelta(seconds=periods * refresh_s)
    return until - timedelta(seconds=window_s), until


def settle_s(refresh_s: float) -> float:
    """How long after a boundary its refresh runs (records of requests finished just before it land)."""
    return min(refresh_s / 4, 5.0)


class AdaptiveRefresher:
    def __init__(
        self,
        policy: AdaptivePolicy,
        defaults: Mapping[Tier, int],
        target: DatabaseTarget,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.policy = policy
        self.defaults = dict(defaults)
        self.target = target
        self.clock = clock
        self.refreshes = 0

    async def refresh_once(self) -> BudgetTable:
        """Recompute from the current aligned window and put the table in force."""
        s = self.policy.settings
        since, until = aligned_window(self.clock(), s.refresh_s, s.window_s)
        engine = create_engine(self.target, pool_size=1)
        try:
            observations = await fetch_observations(engine, since, until)
        finally:
            await engine.dispose()
        table = BudgetTable.of(propose(cell_counts(observations), self.defaults, s), since, until)
        self.policy.table = table
        self.refreshes += 1
        return table

    async def run(self) -> None:
        """Refresh once per period, ``settle_s`` after each boundary, until cancelled."""
        s = self.policy.settings
        while True:
            now = self.clock()
            _, until = aligned_window(now, s.refresh_s, s.window_s)
            due = until + timedelta(seconds=settle_s(s.refresh_s))
            if now < due:  # this period's records may still be landing
                await asyncio.sleep((due - now).total_seconds())
            try:
                table = await self.refresh_once()
                log.info(
                    "thinkbudget: adaptive budgets for %d cells (records before %s)", len(table.budgets), table.until
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                metrics.ERRORS.labels(hook="adaptive_refresh").inc()
                log.exception("thinkbudget: refreshing the adaptive budgets failed; the previous ones stay")
            now = self.clock()
            _, until = aligned_window(now, s.refresh_s, s.window_s)
            next_due = until + timedelta(seconds=s.refresh_s + settle_s(s.refresh_s))
            await asyncio.sleep(max((next_due - now).total_seconds(), 0.05))

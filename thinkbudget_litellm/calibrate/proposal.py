"""Budgets proposed per (model group, tier, task) cell from the records' censored thinking lengths.

Each cell's natural thinking length is estimated with the Kaplan-Meier product-limit estimator
(:mod:`.survival`): a request the proxy cut or the engine capped is right-censored at the thinking it
did. The proposal is the configured quantile (``adaptive.quantile``, e.g. 0.9: enough thinking for
90% of the cell's requests; linearly interpolated within the step of the curve that crosses it),
within ``adaptive.bounds``.

* Fewer than ``min_samples`` records in a task cell: the cell takes its parent's budget (the same
  model group and tier, every task pooled); a tier cell below it takes the configured default.
* The quantile lies beyond the data (the largest lengths are all censored, so KM cannot reach it):
  the proposal grows instead of shrinking to what was seen: to the quantile of an exponential tail
  fitted to the curve (:func:`tail_quantile`), past the largest finished length and at most the
  largest censoring point x ``growth_factor``. (KM stays flat past its last finished length, however
  few requests are left there, often only exploration ones; the fitted tail does not overshoot on
  that.) Exploration requests (a larger budget,
  :mod:`.explore`) then see further next time.

Pure: counts in, proposals out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from thinkbudget_litellm.calibrate.survival import Counts, SurvivalCurve, kaplan_meier, merge, quantile
from thinkbudget_litellm.settings import AdaptiveSettings
from thinkbudget_litellm.tiers import Task, Tier


@dataclass(frozen=True, slots=True, order=True)
class CellKey:
    """A calibration cell; ``task`` None: the tier cell (every task of the model group and tier)."""

    model_group: str
    tier: Tier
    task: Task | None = None

    @property
    def parent(self) -> CellKey | None:
        return CellKey(self.model_group, self.tier) if self.task is not None else None

    def label(self) -> str:
        return f"{self.model_group}/{self.tier.value}/{self.task.value if self.task else '*'}"


class Source(StrEnum):
    """Where a cell's proposed budget came from."""

    ESTIMATE = "estimate"  # the cell's own quantile estimate
    GROWTH = "growth"  # the quantile lies beyond the data: largest censoring point x growth factor
    PARENT = "parent"  # too few samples: the tier cell's proposal
    DEFAULT = "default"  # too few samples up to the tier cell: the configured tier budget


@dataclass(frozen=True, slots=True)
class Proposal:
    cell: CellKey
    samples: int
    censored: int
    budget: int  # proposed
    source: Source
    estimate: int | None  # the cell's own quantile (None: too few samples, or beyond the data)
    lower_bound: int | None  # beyond the data: the quantile is at least this
    curve: SurvivalCurve | None  # the cell's own estimate (None without samples)

    @property
    def censored_share(self) -> float:
        return self.censored / self.samples if self.samples else 0.0

    @property
    def adaptive(self) -> bool:
        """The budget comes from data (the cell's or its parent's), not the configured default."""
        return self.source is not Source.DEFAULT

    def expected_thinking(self, budget: int) -> float | None:
        """Expected thinking per request under ``budget`` (KM restricted mean); None without samples."""
        return self.curve.restricted_mean(budget) if self.curve is not None else None

    def expected_over_budget(self, budget: int) -> float | None:
        """Expected share of requests whose natural thinking exceeds ``budget`` (cut or capped)."""
        return self.curve.at(budget) if self.curve is not None else None


def _bounded(value: float, settings: AdaptiveSettings) -> int:
    return min(max(math.ceil(value), settings.bounds.min), settings.bounds.max)


def _own(cell: CellKey, counts: Mapping[int, Counts], settings: AdaptiveSettings) -> Proposal | None:
    """The cell's own proposal, or None when it has too few samples."""
    curve = kaplan_meier(counts)
    if curve.samples < settings.min_samples:
        return None
    q = quantile(curve, settings.quantile, interpolate=True)
    if q.value is not None:
        return Proposal(
            cell, curve.samples, curve.censored, _bounded(q.value, settings), Source.ESTIMATE, q.value, None, curve
        )
    bound = q.lower_bound or 0
    cap = max(bound * settings.growth_factor, bound + 1)
    tail = tail_quantile(curve, settings.quantile)
    grown = cap if tail is None else min(max(tail, (curve.max_event or 0) + 1), cap)
    return Proposal(cell, curve.samples, curve.censored, _bounded(grown, settings), Source.GROWTH, None, bound, curve)


def tail_quantile(curve: SurvivalCurve, q: float) -> float | None:
    """Beyond the data: the ``q`` quantile of an exponential tail fitted to the curve from its median
    (or from 0) to its last finished length; None when the curve has no slope to fit. Used as the
    growth step when it is smaller than the full ``growth_factor`` (when the budget sits just below
    the quantile a little more is enough, and a full doubling would overshoot)."""
    if not curve.times:
        return None
    t_m, s_m = curve.times[-1], curve.survival[-1]
    t_a, s_a = 0, 1.0
    for t, s in zip(curve.times, curve.survival, strict=True):
        if s <= 0.5 and t < t_m:
            t_a, s_a = t, s
            break
    if t_m <= t_a or s_m <= 0.0 or s_m >= s_a:
        return None
    rate = math.log(s_a / s_m) / (t_m - t_a)
    return t_m + math.log(s_m / (1.0 - q)) / rate


def propose(
    cells: Mapping[CellKey, Mapping[int, Counts]],
    defaults: Mapping[Tier, int],
    settings: AdaptiveSettings,
) -> dict[CellKey, Proposal]:
    """A proposal for every task cell in ``cells`` and every tier cell above them.

    ``cells`` are task cells (``task`` set) with their counts per thinking length; tier cells pool
    them. ``defaults``: the configured tier budgets (the last fallback)."""
    tiers: dict[CellKey, list[Mapping[int, Counts]]] = {}
    for cell, counts in cells.items():
        tiers.setdefault(cell.parent or cell, []).append(counts)
    out: dict[CellKey, Proposal] = {}
    for tier_cell, tables in tiers.items():
        pooled = merge(tables)
        own = _own(tier_cell, pooled, settings)
        if own is None:
            curve = kaplan_meier(pooled)
            own = Proposal(
                tier_cell,
                curve.samples,
                curve.censored,
                defaults[tier_cell.tier],
                Source.DEFAULT,
                None,
                None,
                curve if curve.samples else None,
            )
        out[tier_cell] = own
    for cell, counts in cells.items():
        if cell.task is None:
            continue
        own = _own(cell, counts, settings)
        if own is None:
            above = out[CellKey(cell.model_group, cell.tier)]
            curve = kaplan_meier(counts)
            source = Source.PARENT if above.adaptive else Source.DEFAULT
            own = Proposal(
                cell, curve.samples, curve.censored, above.budget, source, None, None, curve if curve.samples else None
            )
        out[cell] = own
    return out


@dataclass(frozen=True, slots=True)
class Observation:
    """One record as calibration sees it (or several equal ones: ``count``)."""

    model_group: str | None
    tier: str | None
    task: str | None
    budget: int | None
    enforcement: str | None
    status: str | None
    cut: bool
    thinking_tokens: int
    count: int = 1


# Records whose thinking length says something: answered (cut or not). A failure or a client that
# left says nothing about how long the model would have thought.
USABLE_STATUSES = frozenset({"success", "cut"})


def censored(obs: Observation) -> bool:
    """The natural length is only known to be at least ``thinking_tokens``: the proxy cut it, or the
    engine capped it at the budget (native enforcement, as ``RequestOutcome.engine_capped``)."""
    if obs.cut:
        return True
    return obs.enforcement == "native" and obs.budget is not None and obs.thinking_tokens >= obs.budget


def cell_of(obs: Observation) -> CellKey | None:
    """The task cell of an observation; None when it cannot be calibrated on."""
    if obs.status not in USABLE_STATUSES or obs.model_group is None or obs.enforcement is None or obs.tier is None:
        return None
    try:
        tier = Tier(obs.tier)
        task = Task(obs.task) if obs.task is not None else Task.OTHER
    except ValueError:
        return None
    return CellKey(obs.model_group, tier, task)


def cell_counts(observations: Iterable[Observation]) -> dict[CellKey, dict[int, Counts]]:
    """Task cells with their counts per thinking length."""
    out: dict[CellKey, dict[int, Counts]] = {}
    for obs in observations:
        cell = cell_of(obs)
        if cell is None or obs.count <= 0 or obs.thinking_tokens < 0:
            continue
        table = out.setdefault(cell, {})
        add = Counts(0, obs.count) if censored(obs) else Counts(obs.count, 0)
        table[obs.thinking_tokens] = table.get(obs.thinking_tokens, Counts()) + add
    return out

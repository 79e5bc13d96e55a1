"""Savings against the MEASURED baseline: the same requests through plain LiteLLM and through
LiteLLM with thinkbudget, paired by request id and grouped by ground-truth tier. Pure.

Two views of energy and cost per request:

* steady state (the headline): each request is charged its weighted tokens (generated + 0.1 x
  prompt) at the per-token energy and GPU-time price measured over the whole baseline run (the
  ML.ENERGY method: J/token over a window x tokens). Both runs use the same rates, so the figure
  does not depend on how busy the GPU happened to be while a request ran.
* as metered: the baseline run's counter delta and bill split by token share, against
  thinkbudget's own per-request records. These carry a share of whatever the GPU drew while the
  request ran, so in a short benchmark the last long requests, running with few neighbours, carry
  much of the run's idle power and wall time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.workloads.results import RequestResult
from thinkbudget_litellm.tiers import TIER_ORDER, Tier

ALL = "all"
PREFILL_WEIGHT = 0.1  # a prompt token's share of the work of a generated one (the meter's default)


def token_weight(row: RequestResult) -> float:
    """Generated tokens plus PREFILL_WEIGHT x prompt tokens."""
    return row.thinking_tokens + row.answer_tokens + PREFILL_WEIGHT * (row.prompt_tokens or 0)


@dataclass(frozen=True)
class Rates:
    """Per weighted token, measured over a baseline run."""

    joules: float | None
    usd: float | None


def steady_rates(baseline: Sequence[RequestResult], counter_j: float | None, bill_usd: float | None) -> Rates:
    """Energy and GPU-time price per weighted token over the baseline run (None when unknown)."""
    total = sum(token_weight(r) for r in baseline if r.ok)
    if total <= 0:
        return Rates(None, None)
    return Rates(None if counter_j is None else counter_j / total, None if bill_usd is None else bill_usd / total)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation; None for no values."""
    if not 0 <= q <= 100:
        raise ValueError("q must be in [0, 100]")
    xs = sorted(values)
    if not xs:
        return None
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def saved_fraction(before: float, after: float) -> float | None:
    """1 - after/before (None when there was nothing before)."""
    return None if before <= 0 else 1.0 - after / before


def pair(
    baseline: Sequence[RequestResult], budgeted: Sequence[RequestResult]
) -> list[tuple[RequestResult, RequestResult]]:
    """(baseline, budgeted) rows of the same request where both succeeded, in baseline order."""
    ext = {r.request_id: r for r in budgeted if r.ok}
    return [(b, ext[b.request_id]) for b in baseline if b.ok and b.request_id in ext]


@dataclass(frozen=True)
class GroupStats:
    """One ground-truth tier (or ``all``) of one workload and enforcement mode."""

    group: str
    n: int
    think_base: float  # mean thinking tokens per request
    think_ext: float
    think_saved: float | None  # fraction of the baseline's thinking tokens saved
    output_base: float  # mean thinking + answer tokens
    output_ext: float
    output_saved: float | None
    energy_base: float | None  # mean J per request, steady state
    energy_ext: float | None
    energy_saved: float | None
    cost_base: float | None  # mean USD per request, steady state
    cost_ext: float | None
    cost_saved: float | None
    metered_energy_base: float | None  # mean J per request, as metered
    metered_energy_ext: float | None
    metered_cost_base: float | None  # mean USD per request, as metered
    metered_cost_ext: float | None
    cut_frac: float | None
    under_budget_frac: float | None  # classified below its label: budget smaller than the label's
    ttft_p50_base: float | None
    ttft_p50_ext: float | None
    ttfa_p50_base: float | None
    ttfa_p50_ext: float | None
    latency_p50_base: float | None
    latency_p50_ext: float | None
    latency_p95_base: float | None
    latency_p95_ext: float | None
    correct_base: float | None  # fraction of items with a known answer answered correctly
    correct_ext: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sum_known(values: Sequence[float | None]) -> float | None:
    """Sum when every value is known, else None (a partial sum would overstate savings)."""
    return None if not values or any(v is None for v in values) else sum(v for v in values if v is not None)


def _stats(group: str, pairs: Sequence[tuple[RequestResult, RequestResult]], rates: Rates) -> GroupStats:
    n = len(pairs)
    base, ext = [b for b, _ in pairs], [e for _, e in pairs]

    def tot(rows: Sequence[RequestResult], get: Callable[[RequestResult], float]) -> float:
        return float(sum(get(r) for r in rows))

    def avg_known(rows: Sequence[RequestResult], get: Callable[[RequestResult], float | None]) -> float | None:
        s = _sum_known([get(r) for r in rows])
        return None if s is None else s / n

    def pct(rows: Sequence[RequestResult], get: Callable[[RequestResult], float | None], q: float) -> float | None:
        return percentile([v for v in (get(r) for r in rows) if v is not None], q)

    def frac(flags: Sequence[bool | None]) -> float | None:
        known = [f for f in flags if f is not None]
        return sum(known) / len(known) if known else None

    think_b, think_e = tot(base, lambda r: r.thinking_tokens), tot(ext, lambda r: r.thinking_tokens)
    out_b = tot(base, lambda r: r.thinking_tokens + r.answer_tokens)
    out_e = tot(ext, lambda r: r.thinking_tokens + r.answer_tokens)
    w_b, w_e = tot(base, token_weight) / n, tot(ext, token_weight) / n
    e_b, e_e = (None, None) if rates.joules is None else (w_b * rates.joules, w_e * rates.joules)
    c_b, c_e = (None, None) if rates.usd is None else (w_b * rates.usd, w_e * rates.usd)
    under = [None if e.tier is None else Tier(e.tier).rank < Tier(e.label).rank for e in ext]
    return GroupStats(
        group=group,
        n=n,
        think_base=think_b / n,
        think_ext=think_e / n,
        think_saved=saved_fraction(think_b, think_e),
        output_base=out_b / n,
        output_ext=out_e / n,
        output_saved=saved_fraction(out_b, out_e),
        energy_base=e_b,
        energy_ext=e_e,
        energy_saved=None if e_b is None or e_e is None else saved_fraction(e_b, e_e),
        cost_base=c_b,
        cost_ext=c_e,
        cost_saved=None if c_b is None or c_e is None else saved_fraction(c_b, c_e),
        metered_energy_base=avg_known(base, lambda r: r.energy_j),
        metered_energy_ext=avg_known(ext, lambda r: r.energy_j),
        metered_cost_base=avg_known(base, lambda r: r.cost_usd),
        metered_cost_ext=avg_known(ext, lambda r: r.cost_usd),
        cut_frac=frac([e.cut for e in ext]),
        under_budget_frac=frac(under),
        ttft_p50_base=pct(base, lambda r: r.ttft_ms, 50),
        ttft_p50_ext=pct(ext, lambda r: r.ttft_ms, 50),
        ttfa_p50_base=pct(base, lambda r: r.ttfa_ms, 50),
        ttfa_p50_ext=pct(ext, lambda r: r.ttfa_ms, 50),
        latency_p50_base=pct(base, lambda r: r.latency_ms, 50),
        latency_p50_ext=pct(ext, lambda r: r.latency_ms, 50),
        latency_p95_base=pct(base, lambda r: r.latency_ms, 95),
        latency_p95_ext=pct(ext, lambda r: r.latency_ms, 95),
        correct_base=frac([r.answer_correct for r in base]),
        correct_ext=frac([r.answer_correct for r in ext]),
    )


def compare_runs(
    baseline: Sequence[RequestResult], budgeted: Sequence[RequestResult], rates: Rates = Rates(None, None)
) -> list[GroupStats]:
    """Per ground-truth tier (those present, in tier order) and ``all``, over paired requests."""
    pairs = pair(baseline, budgeted)
    out = [_stats(t.value, group, rates) for t in TIER_ORDER if (group := [p for p in pairs if p[0].label == t.value])]
    if pairs:
        out.append(_stats(ALL, pairs, rates))
    return out

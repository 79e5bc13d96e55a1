"""Kaplan-Meier (product-limit) estimate of natural thinking lengths from right-censored counts.

A request whose thinking the proxy cut (or the engine capped) at its budget tells us only that its
natural length is *at least* what it thought: it is right-censored there. Treating it as a finished
length biases every quantile down (and budgets set from them shrink round after round).

The estimator: at each distinct observed length ``t`` with ``d`` finished requests and ``n`` still
"at risk" (length >= t, censored or not), the survival ``S`` drops by the factor ``1 - d/n``. At a
tie, finished requests count before censored ones (the usual convention: a request censored at
``t`` was still thinking at ``t``). The ``q`` quantile is the smallest ``t`` with ``1 - S(t) >= q``.
Without censoring this is exactly the empirical (inverted-CDF) quantile. When the largest
observations are censored, ``S`` may never fall to ``1 - q``: the quantile is then *beyond the
data* (``Quantile.value`` is None) and only a lower bound, the largest censoring point, is known.

Assumption: censoring is independent of the natural length given the cell (a request's budget does
not depend on how long it would think), which holds when budgets are set per cell, not per request.

Pure: counts in, numbers out. The input is aggregated (``Counts``: one entry per distinct length),
so a database can group the rows and send only the distinct values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Probabilities are compared with this slack: S is a product of float factors.
EPS = 1e-9


@dataclass(frozen=True, slots=True)
class Counts:
    """How many requests of one cell ended at one thinking length: finished there, or censored."""

    events: int = 0  # natural length observed exactly (thinking ended by itself)
    censored: int = 0  # still thinking when cut or capped: natural length >= this

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.events + other.events, self.censored + other.censored)

    @property
    def total(self) -> int:
        return self.events + self.censored


def tally(observations: Iterable[tuple[int, bool]]) -> dict[int, Counts]:
    """(length, censored) pairs -> counts per distinct length."""
    out: dict[int, Counts] = {}
    for length, censored in observations:
        if length < 0:
            raise ValueError(f"a thinking length is >= 0, got {length}")
        out[length] = out.get(length, Counts()) + (Counts(0, 1) if censored else Counts(1, 0))
    return out


def merge(tables: Iterable[Mapping[int, Counts]]) -> dict[int, Counts]:
    out: dict[int, Counts] = {}
    for table in tables:
        for length, counts in table.items():
            out[length] = out.get(length, Counts()) + counts
    return out


@dataclass(frozen=True, slots=True)
class SurvivalCurve:
    """``S(t)`` as steps: ``survival[i]`` holds for ``times[i] <= t < times[i + 1]`` (1 before the first)."""

    times: tuple[int, ...]  # distinct lengths with at least one finished request, ascending
    survival: tuple[float, ...]
    samples: int
    censored: int
    max_event: int | None  # the largest finished length
    max_censored: int | None  # the largest censoring point

    def at(self, t: float) -> float:
        """``S(t) = P(length > t)``; past the last finished length it stays at its last value (a
        lower bound when censored requests lie beyond)."""
        s = 1.0
        for time, value in zip(self.times, self.survival, strict=True):
            if time > t:
                break
            s = value
        return s

    def restricted_mean(self, limit: int) -> float:
        """``E[min(length, limit)] = integral of S from 0 to limit`` (a thinking budget of ``limit``:
        the expected thinking per request). Beyond the data, ``S`` is held at its last value."""
        total, prev_t, s = 0.0, 0, 1.0
        for time, value in zip(self.times, self.survival, strict=True):
            if time >= limit:
                break
            total += s * (time - prev_t)
            prev_t, s = time, value
        return total + s * max(limit - prev_t, 0)


def kaplan_meier(counts: Mapping[int, Counts]) -> SurvivalCurve:
    """The product-limit estimate from counts per distinct length."""
    lengths = sorted(t for t, c in counts.items() if c.total)
    at_risk = sum(counts[t].total for t in lengths)
    samples, censored = at_risk, sum(counts[t].censored for t in lengths)
    times: list[int] = []
    survival: list[float] = []
    s = 1.0
    for t in lengths:
        c = counts[t]
        if c.events:
            s *= 1.0 - c.events / at_risk
            times.append(t)
            survival.append(s)
        at_risk -= c.total
    events = [t for t in lengths if counts[t].events]
    cens = [t for t in lengths if counts[t].censored]
    return SurvivalCurve(
        tuple(times),
        tuple(survival),
        samples,
        censored,
        events[-1] if events else None,
        cens[-1] if cens else None,
    )


@dataclass(frozen=True, slots=True)
class Quantile:
    q: float
    value: int | None  # None: beyond the data (the largest observations are censored)
    lower_bound: int | None  # when beyond the data: the quantile is at least this (largest censoring point)


def quantile(curve: SurvivalCurve, q: float, *, interpolate: bool = False) -> Quantile:
    """The smallest length ``t`` with ``1 - S(t) >= q``; None when ``S`` never gets that low.

    ``interpolate``: within the step of ``S`` that crosses ``1 - q``, the point where the straight
    line from the previous finished length to this one crosses it (rounded up). In the tail few
    requests are left at risk and one step can be wide (often to a lone exploration request's
    length); the line keeps the estimate from jumping to its far end. Between the previous finished
    length and the plain quantile; the first step is not interpolated (nothing finished before it)."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"quantile must be in (0, 1), got {q}")
    prev_t: int | None = None
    prev_s = 1.0
    for t, s in zip(curve.times, curve.survival, strict=True):
        if 1.0 - s >= q - EPS:
            if not interpolate or prev_t is None or prev_s - s <= EPS:
                return Quantile(q, t, None)
            share = min(max((prev_s - (1.0 - q)) / (prev_s - s), 0.0), 1.0)
            return Quantile(q, min(math.ceil(prev_t + share * (t - prev_t) - EPS), t), None)
        prev_t, prev_s = t, s
    return Quantile(q, None, curve.max_censored if curve.max_censored is not None else curve.max_event)


def empirical_quantile(values: Iterable[int], q: float) -> int:
    """The inverted-CDF quantile of uncensored values (what KM gives without censoring)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(math.ceil(q * len(ordered) - EPS * len(ordered)), 1)
    return ordered[rank - 1]

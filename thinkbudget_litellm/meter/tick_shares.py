"""How one tick's energy and GPU-seconds are split (pure).

Inputs: the tick's interval, its participants (requests of this proxy instance active at some
point in it, with their weight = generated tokens + prefill_weight x prompt tokens placed in the
tick, and the part of the tick they were active in) and, optionally, the engine's own token weight
for the tick (vLLM counters: every proxy instance's tokens).

Rules, as fractions of the tick that sum to 1:

- No participant: all of it is ``others`` when the engine produced tokens, else ``idle``.
- Proxy denominator (no engine weight): the time no participant was active is ``idle`` (time
  proportional); the rest is split by weight, or by active time when no weight was produced.
- Engine denominator: ``D = max(engine weight, our weight)``; each participant gets ``w / D`` and
  ``others`` gets ``1 - our weight / D``. When nobody produced a token, the proxy rule applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Participant:
    call_id: str
    weight: float  # >= 0
    start: float  # active interval, clipped to the tick
    end: float


@dataclass(frozen=True, slots=True)
class TickShares:
    requests: Mapping[str, float]  # call_id -> fraction of the tick
    idle: float
    others: float

    @property
    def ours(self) -> float:
        return sum(self.requests.values())


def coverage(tick_start: float, tick_end: float, intervals: Sequence[tuple[float, float]]) -> float:
    """Fraction of the tick covered by the union of the intervals (1.0 for a zero-length tick)."""
    duration = tick_end - tick_start
    if not intervals:
        return 0.0
    if duration <= 0:
        return 1.0
    covered = 0.0
    cur_lo: float | None = None
    cur_hi = 0.0
    for lo, hi in sorted((max(lo, tick_start), min(hi, tick_end)) for lo, hi in intervals):
        if hi <= lo:
            continue
        if cur_lo is None or lo > cur_hi:
            if cur_lo is not None:
                covered += cur_hi - cur_lo
            cur_lo, cur_hi = lo, hi
        else:
            cur_hi = max(cur_hi, hi)
    if cur_lo is not None:
        covered += cur_hi - cur_lo
    return min(1.0, covered / duration)


def _by_time(parts: Sequence[Participant], scale: float, duration: float) -> dict[str, float]:
    times = [max(0.0, p.end - p.start) for p in parts]
    total = sum(times)
    if total <= 0 or duration <= 0:
        return {p.call_id: scale / len(parts) for p in parts}
    return {p.call_id: scale * (t / total) for p, t in zip(parts, times, strict=True)}


def split_tick(
    tick_start: float,
    tick_end: float,
    participants: Sequence[Participant],
    engine_weight: float | None = None,
) -> TickShares:
    """Fractions of the tick for each participant, the idle bucket and other proxy instances."""
    for p in participants:
        if p.weight < 0 or p.weight != p.weight:
            raise ValueError(f"{p.call_id}: weight must be >= 0, got {p.weight}")
    if engine_weight is not None and not engine_weight >= 0:
        raise ValueError(f"engine weight must be >= 0, got {engine_weight}")
    if not participants:
        if engine_weight:
            return TickShares({}, 0.0, 1.0)
        return TickShares({}, 1.0, 0.0)
    duration = tick_end - tick_start
    ours = sum(p.weight for p in participants)
    if engine_weight is not None and max(ours, engine_weight) > 0:
        denom = max(ours, engine_weight)
        shares = {p.call_id: p.weight / denom for p in participants}
        return TickShares(shares, 0.0, max(0.0, 1.0 - ours / denom))
    busy = coverage(tick_start, tick_end, [(p.start, p.end) for p in participants])
    if ours > 0:
        shares = {p.call_id: busy * (p.weight / ours) for p in participants}
    else:
        shares = _by_time(participants, busy, duration)
    return TickShares(shares, 1.0 - busy, 0.0)

"""Which items a benchmark run sends: a stratified subset of the labelled set, or a production-like
traffic mix drawn from it. Orders come from hashes of the ids, never from looking at results.

The traffic mix. Production chat traffic is mostly light. In OpenAI's study of ChatGPT messages
(Chatterji et al., "How People Use ChatGPT", NBER w34255, 2025; figures as publicly summarised)
Practical Guidance (~29%), Seeking Information (~24%) and Writing (~24%, two thirds of it editing
or transforming text the user supplied) make up ~77% of messages, while computer programming is a
few percent. Conversations also carry many greetings, thanks and acknowledgements. We map that to
tiers as: trivial 15% (chit-chat, thanks, format requests), simple 30% (information seeking:
facts, definitions, conversions), moderate 35% (guidance, explanations, rewriting, short code),
complex 14% (debugging, design with trade-offs, multi-constraint planning), deep 6% (proofs,
olympiad math, whole-system design). Trivial + simple = 45%. A developer-facing gateway would see
more complex/deep traffic (and so save less relative to its bill): this is an assumption, stated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from benchmarks.workloads.items import BenchItem
from thinkbudget_litellm.tiers import TIER_ORDER, Tier

TRAFFIC_MIX: dict[Tier, float] = {
    Tier.TRIVIAL: 0.15,
    Tier.SIMPLE: 0.30,
    Tier.MODERATE: 0.35,
    Tier.COMPLEX: 0.14,
    Tier.DEEP: 0.06,
}


@dataclass(frozen=True)
class Request:
    """One request of a workload: a request id (unique in the workload) and the item it sends."""

    request_id: str
    item: BenchItem


def hash_order(items: Sequence[BenchItem], salt: str) -> list[BenchItem]:
    return sorted(items, key=lambda i: hashlib.sha256(f"{salt}:{i.id}".encode()).hexdigest())


def by_tier(items: Sequence[BenchItem]) -> dict[Tier, list[BenchItem]]:
    groups: dict[Tier, list[BenchItem]] = {t: [] for t in TIER_ORDER}
    for item in items:
        groups[item.tier].append(item)
    return groups


def stratified(items: Sequence[BenchItem], per_tier: int, salt: str = "labelled") -> list[Request]:
    """Up to ``per_tier`` items of each label tier (fewer when a tier has fewer), in hash order."""
    if per_tier < 0:
        raise ValueError("per_tier must be >= 0")
    chosen = [i for group in by_tier(items).values() for i in hash_order(group, salt)[:per_tier]]
    return [Request(i.id, i) for i in chosen]


def allocate(total: int, shares: Mapping[Tier, float]) -> dict[Tier, int]:
    """Split ``total`` requests over tiers by ``shares`` (largest remainder; counts sum to total)."""
    if total < 0:
        raise ValueError("total must be >= 0")
    weight = sum(shares.values())
    if weight <= 0 or any(s < 0 for s in shares.values()):
        raise ValueError("shares must be >= 0 with a positive sum")
    exact = {t: total * s / weight for t, s in shares.items()}
    counts = {t: int(x) for t, x in exact.items()}
    by_remainder = sorted(shares, key=lambda t: (-(exact[t] - counts[t]), TIER_ORDER.index(t)))
    for t in by_remainder[: total - sum(counts.values())]:
        counts[t] += 1
    return counts


def traffic_mix(
    items: Sequence[BenchItem], total: int, shares: Mapping[Tier, float] = TRAFFIC_MIX, salt: str = "mix"
) -> list[Request]:
    """``total`` requests with tier shares ``shares``, items of each tier in hash order, reused
    cyclically when a tier has fewer items than requests; requests interleaved in hash order."""
    groups = by_tier(items)
    requests: list[Request] = []
    for tier, count in allocate(total, shares).items():
        pool = hash_order(groups.get(tier, []), salt)
        if count and not pool:
            raise ValueError(f"the traffic mix needs {tier.value} items but the dataset has none")
        requests += [
            Request(f"mix-{tier.value}-{k:03d}:{pool[k % len(pool)].id}", pool[k % len(pool)]) for k in range(count)
        ]
    return sorted(requests, key=lambda r: hashlib.sha256(f"{salt}:{r.request_id}".encode()).hexdigest())

"""How long the simulated reasoning model thinks and answers for an item when nothing caps it.

Lengths are lognormal per GROUND-TRUTH tier (the label, not the classifier's guess), drawn
deterministically from a hash of the item id, so every run, baseline or budgeted, asks the
simulator for the same natural lengths. The medians are anchored on published figures:

* trivial 300: thinking models "overthink for hundreds of tokens on the simplest user queries"
  (OptimalThinkingBench, Aggarwal et al., arXiv 2508.13141).
* simple 600: reasoning models produce ~18x more tokens than needed on basic math
  (Srivastava et al., "Do LLMs Overthink Basic Math?", arXiv 2507.04023); 18 x a ~35-token direct
  answer is ~600.
* deep 6000 with sigma 0.5, i.e. a mean of 6000 * exp(0.125) ~ 6,800: ML.ENERGY Leaderboard v3.0
  measured a mean of 6,988 output tokens per problem-solving response with reasoning on, about
  10x the 717 of text conversation. Our simple mean (~680) to deep mean (~6,800) is the same 10x.
* moderate 1300 and complex 2800 lie on the geometric line between simple and deep
  (ratio 10^(1/3) ~ 2.15 per tier).

Sigma 0.5 everywhere (p10..p90 spans ~3.6x within a tier). Thinking is clipped to [32, 12000]:
the upper clip bounds benchmark runtime (the proxy streams ~600 tokens/s on a 2-core machine); it
touches the top ~8% of deep items and lowers the deep mean from ~6,800 to ~6,500.
Answer lengths (what follows the thinking, the same with or without a budget) are modest
assumptions, not anchored figures: medians 25 / 60 / 250 / 400 / 500 tokens, sigma 0.4,
clipped to [8, 1000] so they fit the proxy's default 1024-token answer reserve.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from statistics import NormalDist

from thinkbudget_litellm.tiers import Tier


@dataclass(frozen=True)
class Lognormal:
    median: float
    sigma: float
    low: int
    high: int

    def quantile(self, u: float) -> int:
        """The value at probability u in (0, 1), rounded and clipped to [low, high]."""
        if not 0.0 < u < 1.0:
            raise ValueError(f"u must be in (0, 1), got {u}")
        value = self.median * math.exp(self.sigma * NormalDist().inv_cdf(u))
        return min(self.high, max(self.low, round(value)))

    @property
    def mean(self) -> float:
        """Mean of the unclipped distribution."""
        return self.median * math.exp(self.sigma**2 / 2)


THINK_LENGTHS: dict[Tier, Lognormal] = {
    Tier.TRIVIAL: Lognormal(300, 0.5, 32, 12000),
    Tier.SIMPLE: Lognormal(600, 0.5, 32, 12000),
    Tier.MODERATE: Lognormal(1300, 0.5, 32, 12000),
    Tier.COMPLEX: Lognormal(2800, 0.5, 32, 12000),
    Tier.DEEP: Lognormal(6000, 0.5, 32, 12000),
}

ANSWER_LENGTHS: dict[Tier, Lognormal] = {
    Tier.TRIVIAL: Lognormal(25, 0.4, 8, 1000),
    Tier.SIMPLE: Lognormal(60, 0.4, 8, 1000),
    Tier.MODERATE: Lognormal(250, 0.4, 8, 1000),
    Tier.COMPLEX: Lognormal(400, 0.4, 8, 1000),
    Tier.DEEP: Lognormal(500, 0.4, 8, 1000),
}


def unit_from_id(item_id: str, salt: str) -> float:
    """A number in (0, 1) determined by the item id and a salt (uniform over ids)."""
    digest = hashlib.sha256(f"{salt}:{item_id}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") + 0.5) / 2**64


def natural_lengths(item_id: str, label: Tier) -> tuple[int, int]:
    """(thinking tokens, answer tokens) the simulated model produces for this item unbudgeted."""
    think = THINK_LENGTHS[label].quantile(unit_from_id(item_id, "think"))
    answer = ANSWER_LENGTHS[label].quantile(unit_from_id(item_id, "answer"))
    return think, answer


def table_rows() -> list[tuple[str, float, float, float, float]]:
    """(tier, think median, think sigma, think mean, answer median) for the report."""
    return [(t.value, d.median, d.sigma, d.mean, ANSWER_LENGTHS[t].median) for t, d in THINK_LENGTHS.items()]

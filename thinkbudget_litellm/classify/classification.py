"""The classifier's answer for one request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from thinkbudget_litellm.tiers import Task, Tier

FeatureValue = float | int | str | bool


@dataclass(frozen=True, slots=True)
class Classification:
    """Tier and task of a request, with the evidence that decided them.

    ``score`` is the rules' difficulty level on a 0-4 scale (0 trivial ... 4 deep).
    ``probabilities`` are the learned stage's calibrated chances of each tier (empty when the
    package ships no model: the tier is then the level rounded to the nearest step) and
    ``confidence`` the largest of them. ``features`` holds the figures the rules used and
    ``reasons`` says in a few words why.
    """

    tier: Tier
    task: Task
    score: float
    features: Mapping[str, FeatureValue]
    reasons: tuple[str, ...]
    probabilities: Mapping[Tier, float] = field(default_factory=dict)
    confidence: float = 1.0

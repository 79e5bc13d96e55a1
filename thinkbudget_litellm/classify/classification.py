"""The classifier's answer for one request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from thinkbudget_litellm.tiers import Task, Tier

FeatureValue = float | int | str | bool


@dataclass(frozen=True, slots=True)
class Classification:
    """Tier and task of a request, with the evidence that decided them.

    ``score`` is the difficulty level on a 0-4 scale (0 trivial ... 4 deep); the tier is the
    level rounded to the nearest step. ``features`` holds the figures the decision used and
    ``reasons`` says in a few words why.
    """

    tier: Tier
    task: Task
    score: float
    features: Mapping[str, FeatureValue]
    reasons: tuple[str, ...]

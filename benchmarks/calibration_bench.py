"""Benchmark: adaptive budgets converge to each cell's true 0.9 quantile of natural thinking, with
enforcement on throughout (so the data are censored); ignoring the censoring undershoots.

In-process, no proxy: requests of 20 cells (2 model groups x 5 tiers x 2 tasks) draw natural
thinking lengths from known lognormals (the medians of benchmarks/workloads/natural_lengths.py,
sigma 0.5, x a model factor and a task factor). Each request is admitted as the proxy admits it
(``AdaptivePolicy`` + ``resolve_budget``: the cell's adaptive budget, or the configured tier default
before there is one, and 2% exploration at 2x), its thinking runs through the stream cut state
machine (``ThinkingStream``, the budget enforced: a longer one is cut and recorded as censored), and
after every round of requests the budgets are recalibrated from all records so far
(``calibrate.proposal.propose``: Kaplan-Meier, growth beyond the data, parent fallback).

The same loop runs with a naive estimator that reads every recorded thinking length as finished
(the censoring ignored), once from the default budgets and once from the true quantiles.

    PYTHONPATH=. python benchmarks/calibration_bench.py [--per-round 100] [--rounds 16]

Writes benchmarks/results/calibration.txt and calibration.json.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from statistics import NormalDist

from thinkbudget_litellm.calibrate.budgets import AdaptivePolicy, BudgetTable
from thinkbudget_litellm.calibrate.proposal import CellKey, Observation, cell_counts, propose
from thinkbudget_litellm.enforce.thinking_stream import ThinkingStream
from thinkbudget_litellm.policy.budget import resolve_budget
from thinkbudget_litellm.settings import AdaptiveBounds, AdaptiveSettings
from thinkbudget_litellm.tiers import DEFAULT_BUDGETS, TIER_ORDER, Task, Tier

RESULTS = Path(__file__).parent / "results"
MEDIANS = {Tier.TRIVIAL: 300, Tier.SIMPLE: 600, Tier.MODERATE: 1300, Tier.COMPLEX: 2800, Tier.DEEP: 6000}
SIGMA = 0.5
MODELS = {"distill-1.5b": 1.6, "qwq-32b": 1.0}  # a small distill thinks longer than a large model
TASKS = {Task.MATH: 1.3, Task.CHAT: 0.7}
QUANTILE = 0.9
TOLERANCE = 0.10
SETTINGS = AdaptiveSettings(
    enabled=True,
    quantile=QUANTILE,
    min_samples=50,
    bounds=AdaptiveBounds(min=16, max=65_536),
    growth_factor=2.0,
    explore_share=0.02,
    explore_factor=2.0,
    explore_seed="calibration-bench",
)


@dataclass(frozen=True)
class Cell:
    key: CellKey
    median: float

    def draw(self, rng: random.Random) -> int:
        return max(1, round(self.median * math.exp(SIGMA * rng.gauss())))

    @property
    def true_quantile(self) -> float:
        return self.median * math.exp(SIGMA * NormalDist().inv_cdf(QUANTILE))


CELLS = [
    Cell(CellKey(model, tier, task), MEDIANS[tier] * mf * tf)
    for model, mf in MODELS.items()
    for tier in TIER_ORDER
    for task, tf in TASKS.items()
]


def enforce(natural: int, budget: int) -> tuple[int, bool]:
    """Run the natural thinking through the stream cut at ``budget``: (thinking recorded, cut)."""
    ts = ThinkingStream(budget=budget, counter=len)
    step = ts.feed("x" * natural, None)
    if not step.cut:
        ts.feed(None, "answer")
        ts.finish()
    return ts.thinking_tokens, step.cut


Estimator = Callable[[list[Observation]], BudgetTable]


def km_estimator(observations: list[Observation]) -> BudgetTable:
    now = datetime.now(UTC)
    return BudgetTable.of(propose(cell_counts(observations), DEFAULT_BUDGETS, SETTINGS), now, now)


def naive_estimator(observations: list[Observation]) -> BudgetTable:
    """Every recorded length read as a finished one (the cut flag ignored)."""
    finished = [
        Observation(o.model_group, o.tier, o.task, o.budget, "off", "success", False, o.thinking_tokens)
        for o in observations
    ]
    return km_estimator(finished)


@dataclass
class Run:
    name: str
    errors: list[dict[str, float]]  # per round: cell label -> relative error of the budget in force after it
    budgets: list[dict[str, int]]
    cut_share: list[float]
    explorations: int = 0
    exploration_extra_tokens: int = 0


def simulate(
    name: str, estimator: Estimator, rounds: int, per_round: int, start: Mapping[CellKey, int] | None, seed: int = 17
) -> Run:
    rng = random.Random(seed)
    policy = AdaptivePolicy(SETTINGS, BudgetTable(dict(start)) if start else None)
    observations: list[Observation] = []
    run = Run(name, [], [], [])
    serial = 0
    for _ in range(rounds):
        cuts = total = 0
        for cell in CELLS:
            k = cell.key
            for _ in range(per_round):
                serial += 1
                call_id = f"req-{serial}"
                base = policy.start(k.model_group, k.tier, k.task or Task.OTHER, DEFAULT_BUDGETS[k.tier])
                decision = resolve_budget(
                    k.tier, DEFAULT_BUDGETS, [], base=base, explore_to=policy.explore_to(call_id, base[0])
                )
                thinking, cut = enforce(cell.draw(rng), decision.budget)
                if decision.explore_base is not None:
                    run.explorations += 1
                    run.exploration_extra_tokens += max(thinking - decision.explore_base, 0)
                cuts += cut
                total += 1
                observations.append(
                    Observation(
                        k.model_group,
                        k.tier.value,
                        k.task.value if k.task else None,
                        decision.budget,
                        "stream",
                        "cut" if cut else "success",
                        cut,
                        thinking,
                    )
                )
        policy.table = estimator(observations)
        in_force = {
            c.key.label(): policy.start(
                c.key.model_group, c.key.tier, c.key.task or Task.OTHER, DEFAULT_BUDGETS[c.key.tier]
            )[0]
            for c in CELLS
        }
        run.budgets.append(in_force)
        run.errors.append({c.key.label(): in_force[c.key.label()] / c.true_quantile - 1.0 for c in CELLS})
        run.cut_share.append(cuts / total)
    return run


def converged_after(run: Run) -> int | None:
    """The first round after which every cell's budget stays within the tolerance to the end."""
    for r in range(len(run.errors)):
        if all(abs(e) <= TOLERANCE for later in run.errors[r:] for e in later.values()):
            return r + 1
    return None


def summary(runs: list[Run], per_round: int) -> tuple[str, dict[str, object]]:
    lines = [
        "Adaptive budgets: convergence to the true 0.9 quantile of natural thinking per cell",
        f"{len(CELLS)} cells ({len(MODELS)} model groups x 5 tiers x {len(TASKS)} tasks), lognormal sigma {SIGMA}; "
        f"{per_round} requests per cell per round; enforcement on throughout (stream cut at the budget);",
        f"quantile {QUANTILE}, min_samples {SETTINGS.min_samples}, growth x{SETTINGS.growth_factor}, "
        f"exploration {SETTINGS.explore_share:.0%} at x{SETTINGS.explore_factor}; start: the default tier budgets "
        f"{'/'.join(str(DEFAULT_BUDGETS[t]) for t in TIER_ORDER)}.",
        "",
    ]
    data: dict[str, object] = {
        "cells": len(CELLS),
        "per_round_per_cell": per_round,
        "tolerance": TOLERANCE,
        "quantile": QUANTILE,
        "runs": {},
    }
    for run in runs:
        after = converged_after(run)
        worst = [max(abs(e) for e in errs.values()) for errs in run.errors]
        under = [sum(e < -TOLERANCE for e in errs.values()) for errs in run.errors]
        median_err = [sorted(errs.values())[len(errs) // 2] for errs in run.errors]
        lines.append(f"== {run.name}")
        lines.append("round  requests  cut share  worst |error|  median error  cells >10% under")
        for i, (w, m, u, c) in enumerate(zip(worst, median_err, under, run.cut_share, strict=True)):
            lines.append(f"{i + 1:5d}  {(i + 1) * per_round * len(CELLS):8d}  {c:9.1%}  {w:13.1%}  {m:+12.1%}  {u:16d}")
        if after is None:
            lines.append("never within 10% in every cell")
        else:
            lines.append(
                f"within 10% in every cell from round {after} on: after {after * per_round} requests per "
                f"cell ({after * per_round * len(CELLS)} in all)"
            )
        lines.append(
            f"exploration: {run.explorations} requests, {run.exploration_extra_tokens} thinking tokens "
            "beyond the budget they would have had"
        )
        lines.append("")
        data["runs"][run.name] = {  # type: ignore[index]
            "converged_after_round": after,
            "converged_after_requests_per_cell": after * per_round if after else None,
            "worst_abs_error": worst,
            "median_error": median_err,
            "cells_under_by_more_than_tolerance": under,
            "cut_share": run.cut_share,
            "final_budgets": run.budgets[-1],
            "explorations": run.explorations,
            "exploration_extra_tokens": run.exploration_extra_tokens,
        }
    km = runs[0]
    lines.append("final budgets (Kaplan-Meier) vs the true 0.9 quantile:")
    for c in CELLS:
        label = c.key.label()
        lines.append(
            f"  {label:32s} true {c.true_quantile:8.0f}  km {km.budgets[-1][label]:6d} "
            f"({km.errors[-1][label]:+.1%})  naive {runs[1].budgets[-1][label]:6d} "
            f"({runs[1].errors[-1][label]:+.1%})"
        )
    data["true_quantiles"] = {c.key.label(): c.true_quantile for c in CELLS}
    return "\n".join(lines) + "\n", data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-round", type=int, default=100, help="requests per cell per round")
    parser.add_argument("--rounds", type=int, default=16)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    truth = {c.key: math.ceil(c.true_quantile) for c in CELLS}
    runs = [
        simulate("kaplan-meier (censoring handled)", km_estimator, args.rounds, args.per_round, None),
        simulate("naive (censoring ignored), from the defaults", naive_estimator, args.rounds, args.per_round, None),
        simulate(
            "naive (censoring ignored), from the true quantiles", naive_estimator, args.rounds, args.per_round, truth
        ),
    ]
    text, data = summary(runs, args.per_round)
    print(text, end="")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "calibration.txt").write_text(text, encoding="utf-8")
    (args.out / "calibration.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

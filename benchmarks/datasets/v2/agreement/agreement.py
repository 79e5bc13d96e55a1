"""How far people agree on the rubric (issue 14): two labellers with fresh eyes, given only the
rubric (``TIERS.md``) and the prompts of 300 training rows drawn at random (seed 7; no labels, no
classifier), labelled them again (``A.jsonl``, ``B.jsonl``). Their agreement with the writers'
labels, and with each other, is the ceiling a classifier can be expected to reach on labels like
these.

    python benchmarks/datasets/v2/agreement/agreement.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
TIERS = ("trivial", "simple", "moderate", "complex", "deep")


def load(path: Path) -> dict[str, dict[str, str]]:
    return {row["id"]: row for row in map(json.loads, path.read_text().splitlines()) if row}


def compare(x: dict[str, dict[str, str]], y: dict[str, dict[str, str]], ids: list[str]) -> dict[str, float]:
    """x's labels against y's: exact, within one tier, x below y (under-budget if y is the truth), task."""
    n = len(ids)
    rank = {t: i for i, t in enumerate(TIERS)}
    return {
        "exact": sum(x[i]["tier"] == y[i]["tier"] for i in ids) / n,
        "within_one": sum(abs(rank[x[i]["tier"]] - rank[y[i]["tier"]]) <= 1 for i in ids) / n,
        "lower": sum(rank[x[i]["tier"]] < rank[y[i]["tier"]] for i in ids) / n,
        "task": sum(x[i]["task"] == y[i]["task"] for i in ids) / n,
    }


def main() -> None:
    writers = load(HERE.parent / "train.jsonl")
    a, b = load(HERE / "A.jsonl"), load(HERE / "B.jsonl")
    ids = sorted(set(a) & set(b) & set(writers))
    print(f"{len(ids)} prompts labelled by the writer and by two labellers")
    for name, (x, y) in {
        "labeller A vs writer": (a, writers),
        "labeller B vs writer": (b, writers),
        "labeller A vs labeller B": (a, b),
    }.items():
        f = compare(x, y, ids)
        print(
            f"{name:26s} exact {f['exact']:.1%}  within one {f['within_one']:.1%}  "
            f"lower {f['lower']:.1%}  task {f['task']:.1%}"
        )


if __name__ == "__main__":
    main()

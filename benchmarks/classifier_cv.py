"""Out-of-fold figures of the classifier's learned stage, inside the training data only.

    PYTHONPATH=. python benchmarks/classifier_cv.py [--curve] [--families] [--writers]

Never reads the frozen ``v2/test.jsonl``. Every fold trains exactly as ``train_classifier.py`` does
(its features, its regularisation and calibration choices; for speed the final fits stop at the
looser tolerance of its inner cross-validation) on the other folds of ``v2/train.jsonl`` plus all
of ``dev.jsonl``, and is scored on its held-out ``v2/train.jsonl`` rows by the package's own
scoring code.

Folds are grouped: rows that share a system prompt, or whose texts are near-duplicates (Jaccard
of word 3-shingles >= 0.5), stay in one fold, so a writer's template cannot leak across. With
``--writers`` the folds are the five writers instead (leave one writer out: the closest this data
comes to "prompts written by someone else"). ``--curve`` repeats the grouped CV on 25/50/75/100%
of each training fold (the held-out rows unchanged) to see whether more data would help.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import train_classifier as tc  # noqa: E402

from thinkbudget_litellm.classify.classifier import rule_pass  # noqa: E402
from thinkbudget_litellm.classify.learned import decide_tier, parse_model  # noqa: E402

V2_TRAIN = tc.DATASETS / "v2" / "train.jsonl"


def families(row: dict[str, Any]) -> list[str]:
    """Families of a row read from its structure and labels (never from the classifier)."""
    out = [f"tier={row['tier']}", f"writer={row['id'][:2]}"]
    msgs = row.get("messages") or []
    users = [m for m in msgs if m.get("role") == "user"]
    last = str(users[-1].get("content") or "") if users else str(row.get("text", ""))
    total = len(tc._text_of(row))
    out.append("english" if row.get("lang", "en") == "en" else "non-english")
    if len(users) > 1:
        out.append("multi-turn")
    if any(m.get("role") == "tool" for m in msgs):
        out.append("tool results")
    if any(m.get("role") == "system" for m in msgs):
        out.append("system prompt")
    low = row["tier"] in ("trivial", "simple")
    high = row["tier"] in ("complex", "deep")
    if total >= 2000:
        out.append("long (>=2000 chars)")
        out.append("long, low tier" if low else "long, moderate+")
    if high and len(last) <= 200 and len(users) <= 1:
        out.append("short hard ask (<=200 chars)")
    if row.get("genre") == "chitchat":
        out.append("chitchat genre")
    if row["task"] in ("code",) and low:
        out.append("code, low tier")
    if row["task"] == "math" and high:
        out.append("math, high tier")
    return out


def summary(preds: Sequence[int], tasks: Sequence[int], y: Sequence[int], y_task: Sequence[int]) -> dict[str, float]:
    n = len(y)
    if not n:
        return {"n": 0}
    return {
        "n": n,
        "exact": sum(p == g for p, g in zip(preds, y, strict=True)) / n,
        "within_one": sum(abs(p - g) <= 1 for p, g in zip(preds, y, strict=True)) / n,
        "under": sum(p < g for p, g in zip(preds, y, strict=True)) / n,
        "task": sum(p == g for p, g in zip(tasks, y_task, strict=True)) / n,
    }


def fmt(s: dict[str, float]) -> str:
    if not s["n"]:
        return "n=0"
    return (
        f"n={int(s['n']):4d}  exact {100 * s['exact']:5.1f}  within1 {100 * s['within_one']:5.1f}"
        f"  under {100 * s['under']:4.1f}  task {100 * s['task']:5.1f}"
    )


def out_of_fold(
    rows: Sequence[dict[str, Any]], extra: Sequence[dict[str, Any]], fold_of: Sequence[int], fraction: float = 1.0
) -> tuple[list[int], list[int]]:
    """Tier (after the risk rule) and task of every row in ``rows``, each predicted by the shipped
    scoring code from weights that ``train_classifier.fit_model`` fitted without the row's fold."""
    import random

    tiers, tasks = [0] * len(rows), [0] * len(rows)
    rng = random.Random(tc.SEED)
    for k in sorted(set(fold_of)):
        train_idx = [i for i, f in enumerate(fold_of) if f != k]
        if fraction < 1.0:
            train_idx = sorted(rng.sample(train_idx, round(fraction * len(train_idx))))
        doc = tc.fit_model([rows[i] for i in train_idx] + list(extra), quiet=True, final_tol=tc.CV_TOL)
        model = parse_model(doc)
        for i in (i for i, f in enumerate(fold_of) if f == k):
            tier_p, task_p = model.predict(rule_pass(tc.prompt_of(rows[i])))
            tiers[i] = tc.TIERS.index(decide_tier(tier_p, model.default_risk).value)
            tasks[i] = tc.TASKS.index(max(task_p, key=task_p.__getitem__).value)
    return tiers, tasks


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--curve", action="store_true", help="learning curve: 25/50/75/100%% of each training fold")
    ap.add_argument("--families", action="store_true", help="figures per family of rows")
    ap.add_argument("--writers", action="store_true", help="leave one writer out instead of grouped folds")
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = ap.parse_args()

    rows, _ = tc.load_rows([V2_TRAIN])
    extra, _ = tc.load_rows([p for p in tc.TRAIN_FILES if p != V2_TRAIN])
    y = [tc.TIERS.index(r["tier"]) for r in rows]
    y_task = [tc.TASKS.index(r["task"]) for r in rows]
    if args.writers:
        writers = sorted({r["id"][:2] for r in rows})
        fold_of = [writers.index(r["id"][:2]) for r in rows]
    else:
        groups = tc.near_duplicate_groups(rows)
        print(f"{len(rows)} rows in {len(set(groups))} groups (largest {max(groups.count(g) for g in set(groups))})")
        fold_of = tc.fold_ids(groups, y)

    report: dict[str, Any] = {}
    for fraction in (0.25, 0.5, 0.75, 1.0) if args.curve else (1.0,):
        preds, tasks = out_of_fold(rows, extra, fold_of, fraction)
        overall = summary(preds, tasks, y, y_task)
        print(f"{round(fraction * 100):3d}% of each training fold: {fmt(overall)}", flush=True)
        report[f"{fraction:g}"] = overall
        if args.families and fraction == 1.0:
            by: dict[str, list[int]] = defaultdict(list)
            for i, row in enumerate(rows):
                for fam in families(row):
                    by[fam].append(i)
            report["families"] = {}
            for fam in sorted(by):
                idx = by[fam]
                pick = [preds[i] for i in idx], [tasks[i] for i in idx], [y[i] for i in idx], [y_task[i] for i in idx]
                report["families"][fam] = s = summary(*pick)
                print(f"  {fam:30s} {fmt(s)}")
            if args.json:
                errors = [
                    {"id": r["id"], "tier": r["tier"], "pred": tc.TIERS[p], "task": r["task"], "pred_task": tc.TASKS[t]}
                    for r, p, t in zip(rows, preds, tasks, strict=True)
                ]
                report["predictions"] = errors
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Train the classifier's learned stage and write its weights into the package.

    pip install -e '.[train]'
    PYTHONPATH=. python benchmarks/train_classifier.py [--check]

Training data: ``benchmarks/datasets/v2/train.jsonl`` (written by helpers who saw only the rubric)
and ``benchmarks/datasets/dev.jsonl``. Never the frozen ``v2/test.jsonl`` nor the old ``test.jsonl``:
those are what the result is measured on (``classifier_bench.py``).

Logistic regression (scikit-learn, L2, lbfgs) over ``learned.features`` seen in at least two
training rows, three heads: a softmax over the tiers, an ordinal head (one logistic model per tier
but the last, "the label lies above it") whose reading is averaged with the softmax's, and a softmax
over the tasks. Five-fold cross-validation, grouped so that rows sharing a system prompt or
near-duplicate texts stay in one fold (seeded), picks the regularisation, fits a temperature on
the out-of-fold probabilities (calibration), and picks the default risk that maximises out-of-fold
exact accuracy minus ``--under-weight`` times the under-budget rate (the rubric's asymmetry: an
under-budget error weighs twice an exact miss by default). ``benchmarks/classifier_cv.py`` scores
this whole procedure out of fold. Deterministic: the same data gives the same weights. ``--check``
retrains and fails when the shipped file differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from thinkbudget_litellm.classify.classifier import rule_pass  # noqa: E402
from thinkbudget_litellm.classify.learned import WEIGHTS_FILE, decide_tier, features  # noqa: E402
from thinkbudget_litellm.tiers import TIER_ORDER, Task, Tier  # noqa: E402

DATASETS = ROOT / "benchmarks" / "datasets"
TRAIN_FILES = (DATASETS / "v2" / "train.jsonl", DATASETS / "dev.jsonl")
OUT = ROOT / "thinkbudget_litellm" / "classify" / "model" / WEIGHTS_FILE
TIERS = [t.value for t in TIER_ORDER]
TASKS = [t.value for t in Task]
C_GRID = (0.5, 1.0, 2.0)
RISKS = tuple(round(0.05 * i, 2) for i in range(1, 11))
DIGITS = 4
SEED = 7
FOLDS = 5
SHINGLE = 3  # near-duplicates: Jaccard of word 3-shingles ...
NEAR = 0.5  # ... at least this
CV_TOL = 1e-4  # the choices are made on quicker fits; the shipped weights are fitted to FINAL_TOL
FINAL_TOL = 1e-6
FLOOR = 1e-6  # learned._FLOOR
UNDER_WEIGHT = 2.0  # the rubric: a budget too small costs accuracy, one too large costs nothing unused


def load_rows(paths: Sequence[Path]) -> tuple[list[dict[str, Any]], str]:
    rows: list[dict[str, Any]] = []
    digest = hashlib.sha256()
    for path in paths:
        raw = path.read_bytes()
        digest.update(raw)
        rows += [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
    return rows, digest.hexdigest()


def prompt_of(row: dict[str, Any]) -> Any:
    return row["messages"] if "messages" in row else row["text"]


def featurize(row: dict[str, Any]) -> set[str]:
    return features(rule_pass(prompt_of(row)))


def design(feats: Sequence[set[str]], vocab: set[str]) -> list[dict[str, float]]:
    """The features in the vocabulary (those seen in at least two training rows)."""
    return [{f: 1.0 for f in fs if f in vocab} for fs in feats]


def _fit(x: Any, y: Sequence[int], c: float, tol: float = FINAL_TOL) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=3000, tol=tol).fit(x, y)


def _nll(probs: Any, y: Sequence[int], t: float) -> float:
    import numpy as np

    logp = np.log(np.clip(probs, 1e-12, 1.0)) / t
    logp -= logp.max(axis=1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


def _temper(probs: Any, t: float) -> Any:
    import numpy as np

    z = np.log(np.clip(probs, 1e-12, 1.0)) / t
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def _text_of(row: dict[str, Any]) -> str:
    if "text" in row:
        return str(row["text"])
    return "\n".join(str(m.get("content") or "") for m in row["messages"] if m.get("role") != "system")


def _system_of(row: dict[str, Any]) -> str:
    if "messages" not in row:
        return ""
    return "\n".join(str(m.get("content") or "") for m in row["messages"] if m.get("role") == "system")


def near_duplicate_groups(rows: Sequence[dict[str, Any]]) -> list[int]:
    """A group id per row: rows with one system prompt, or near-duplicate texts (Jaccard of word
    3-shingles at least ``NEAR``), share a group, so cross-validation keeps them in one fold."""
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_system: dict[str, int] = {}
    shingles: list[frozenset[str]] = []
    for i, row in enumerate(rows):
        system = _system_of(row).strip()
        if system:
            parent[find(i)] = find(by_system.setdefault(system, i))
        words = _text_of(row).lower().split()
        shingles.append(frozenset(" ".join(words[k : k + SHINGLE]) for k in range(max(1, len(words) - SHINGLE + 1))))
    by_gram: dict[str, list[int]] = {}
    for i, grams in enumerate(shingles):
        for g in grams:
            by_gram.setdefault(g, []).append(i)
    for i, grams in enumerate(shingles):
        shared: dict[int, int] = {}
        for g in grams:
            for j in by_gram[g]:
                if j > i:
                    shared[j] = shared.get(j, 0) + 1
        for j, inter in shared.items():
            if inter / (len(grams) + len(shingles[j]) - inter) >= NEAR:
                parent[find(i)] = find(j)
    return [find(i) for i in range(len(rows))]


def fold_ids(groups: Sequence[int], y: Sequence[int], folds: int = FOLDS) -> list[int]:
    """A fold per row: stratified by label, one group never split across folds (seeded)."""
    from sklearn.model_selection import StratifiedGroupKFold

    fold_of = [0] * len(y)
    split = StratifiedGroupKFold(folds, shuffle=True, random_state=SEED).split(list(range(len(y))), y, groups)
    for k, (_, held) in enumerate(split):
        for i in held:
            fold_of[i] = k
    return fold_of


def _fit_above(x: Any, y: Sequence[int], c: float, tol: float = FINAL_TOL) -> list[Any]:
    """The ordinal head: one logistic model per tier but the last, of "the label lies above it"."""
    return [_fit(x, [int(v > k) for v in y], c, tol) for k in range(len(TIERS) - 1)]


def _ordinal(above: Any) -> Any:
    """Tier probabilities from the chances of lying above each tier (as ``learned._ordinal``)."""
    import numpy as np

    above = np.minimum.accumulate(above, axis=1)
    ones = np.ones((len(above), 1))
    probs = np.maximum(np.hstack([ones, above]) - np.hstack([above, np.zeros((len(above), 1))]), FLOOR)
    return probs / probs.sum(axis=1, keepdims=True)


def _mixed(model: Any, above: Sequence[Any], x: Any) -> Any:
    """The tier's probabilities as the package computes them before tempering."""
    import numpy as np

    softmax = np.zeros((x.shape[0], len(TIERS)))
    softmax[:, model.classes_] = model.predict_proba(x)
    chances = np.column_stack([m.predict_proba(x)[:, 1] for m in above])
    return (softmax + _ordinal(chances)) / 2


def cross_validate(x: Any, y: Sequence[int], classes: int, c: float, fold_of: Sequence[int]) -> Any:
    """Out-of-fold probabilities (rows x classes) of a softmax model of regularisation ``c``."""
    import numpy as np

    oof = np.zeros((len(y), classes))
    for k in sorted(set(fold_of)):
        train = [i for i, f in enumerate(fold_of) if f != k]
        held = [i for i, f in enumerate(fold_of) if f == k]
        model = _fit(x[train], [y[i] for i in train], c, CV_TOL)
        oof[np.ix_(held, model.classes_)] = model.predict_proba(x[held])
    return oof


def cross_validate_tier(x: Any, y: Sequence[int], c: float, fold_of: Sequence[int]) -> Any:
    """Out-of-fold tier probabilities of the softmax and ordinal heads mixed (untempered)."""
    import numpy as np

    oof = np.zeros((len(y), len(TIERS)))
    for k in sorted(set(fold_of)):
        train = [i for i, f in enumerate(fold_of) if f != k]
        held = [i for i, f in enumerate(fold_of) if f == k]
        y_train = [y[i] for i in train]
        model = _fit(x[train], y_train, c, CV_TOL)
        oof[held] = _mixed(model, _fit_above(x[train], y_train, c, CV_TOL), x[held])
    return oof


def tier_figures(probs: Any, y: Sequence[int], risk: float) -> dict[str, float]:
    n = len(y)
    exact = under = within = 0
    for p, gold in zip(probs, y, strict=True):
        pred = TIERS.index(decide_tier({Tier(TIERS[i]): float(p[i]) for i in range(len(TIERS))}, risk).value)
        exact += pred == gold
        under += pred < gold
        within += abs(pred - gold) <= 1
    return {"exact": exact / n, "within_one": within / n, "under_budget": under / n}


def head_json(model: Any, names: Sequence[str], classes: Sequence[str], temperature: float) -> dict[str, Any]:
    """The weights as the package reads them, pruned of features that weigh nothing."""
    coef = model.coef_
    order = list(model.classes_)
    weights: dict[str, list[float]] = {}
    for j, name in enumerate(names):
        w = [round(float(coef[order.index(k), j]), DIGITS) if k in order else 0.0 for k in range(len(classes))]
        if max(abs(v) for v in w) >= 10**-DIGITS:
            weights[name] = w
    intercept = model.intercept_
    bias = [round(float(intercept[order.index(k)]), DIGITS) if k in order else -30.0 for k in range(len(classes))]
    return {"classes": list(classes), "bias": bias, "weights": weights, "temperature": temperature}


def above_json(models: Sequence[Any], names: Sequence[str]) -> dict[str, Any]:
    """The ordinal head as the package reads it: class k is "the label lies above tier k"."""
    weights: dict[str, list[float]] = {}
    for j, name in enumerate(names):
        w = [round(float(m.coef_[0, j]), DIGITS) for m in models]
        if max(abs(v) for v in w) >= 10**-DIGITS:
            weights[name] = w
    bias = [round(float(m.intercept_[0]), DIGITS) for m in models]
    return {"classes": TIERS[:-1], "bias": bias, "weights": weights, "temperature": 1.0}


def fit_model(
    rows: Sequence[dict[str, Any]],
    under_weight: float = UNDER_WEIGHT,
    quiet: bool = False,
    final_tol: float = FINAL_TOL,
) -> dict[str, Any]:
    """The weights document (``tier``, ``above``, ``task``, ``default_risk``, ``meta``) fitted to
    ``rows``, every setting chosen by grouped cross-validation inside ``rows``; the final fits stop
    at ``final_tol``."""
    import numpy as np
    from sklearn.feature_extraction import DictVectorizer

    say = (lambda *_: None) if quiet else print
    feats = [featurize(r) for r in rows]
    counts: dict[str, int] = {}
    for fs in feats:
        for f in fs:
            counts[f] = counts.get(f, 0) + 1
    vocab = {f for f, n in counts.items() if n >= 2}
    vec = DictVectorizer(sort=True)
    x = vec.fit_transform(design(feats, vocab))
    names = list(vec.get_feature_names_out())
    y_tier = [TIERS.index(r["tier"]) for r in rows]
    y_task = [TASKS.index(r["task"]) for r in rows]
    fold_of = fold_ids(near_duplicate_groups(rows), y_tier)

    report: dict[str, Any] = {"rows": len(rows), "vocabulary": len(vocab), "cv": {}}
    best_c, best_nll, best_oof = C_GRID[0], math.inf, None
    for c in C_GRID:
        oof = cross_validate_tier(x, y_tier, c, fold_of)
        nll = _nll(oof, y_tier, 1.0)
        report["cv"][f"C={c}"] = {"nll": round(nll, 4), **tier_figures(oof, y_tier, 0.5)}
        say(f"C={c}: out-of-fold NLL {nll:.4f}, {report['cv'][f'C={c}']}")
        if nll < best_nll:
            best_c, best_nll, best_oof = c, nll, oof
    assert best_oof is not None
    temps = [round(0.5 + 0.05 * i, 2) for i in range(31)]
    temperature = min(temps, key=lambda t: _nll(best_oof, y_tier, t))
    calibrated = _temper(best_oof, temperature)
    by_risk = {r: tier_figures(calibrated, y_tier, r) for r in RISKS}
    risk = max(RISKS, key=lambda r: by_risk[r]["exact"] - under_weight * by_risk[r]["under_budget"])
    for r in RISKS:
        say(f"risk {r:.2f}: {by_risk[r]}")
    say(f"chosen: C={best_c}, temperature={temperature}, risk={risk}")

    task_oof = cross_validate(x, y_task, len(TASKS), best_c, fold_of)
    task_t = min(temps, key=lambda t: _nll(task_oof, y_task, t))
    task_acc = float(np.mean(np.argmax(task_oof, axis=1) == np.array(y_task)))
    report.update(
        {
            "C": best_c,
            "temperature": temperature,
            "risk": risk,
            "out_of_fold": by_risk[risk],
            "out_of_fold_task": task_acc,
        }
    )
    tier_model = _fit(x, y_tier, best_c, final_tol)
    above_models = _fit_above(x, y_tier, best_c, final_tol)
    task_model = _fit(x, y_task, best_c, final_tol)
    return {
        "tier": head_json(tier_model, names, TIERS, temperature),
        "above": above_json(above_models, names),
        "task": head_json(task_model, names, TASKS, task_t),
        "default_risk": risk,
        "meta": report,
    }


def train(under_weight: float) -> dict[str, Any]:
    import sklearn

    rows, data_sha = load_rows(TRAIN_FILES)
    doc = fit_model(rows, under_weight)
    doc["meta"] = {
        "trained_on": [str(p.relative_to(ROOT)) for p in TRAIN_FILES],
        "data_sha256": data_sha,
        "scikit_learn": sklearn.__version__,
        **doc["meta"],
    }
    return doc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--under-weight",
        type=float,
        default=UNDER_WEIGHT,
        help="how many exact misses one under-budget error costs when the default risk is chosen",
    )
    ap.add_argument("--check", action="store_true", help="fail when the shipped weights differ from a retrain")
    args = ap.parse_args()
    doc = train(args.under_weight)
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    if args.check:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == text
        print("shipped weights match a retrain" if same else "shipped weights differ from a retrain")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(text):,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

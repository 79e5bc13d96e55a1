"""Check that the classifier's answers are unchanged, bit for bit, on the labelled prompts.

Every prompt of ``datasets/v2/train.jsonl`` and ``datasets/dev.jsonl`` (never the frozen test
split) is classified; the whole ``Classification`` (tier, task, score, reasons, the features
mapping, each tier's probability and the confidence, floats by their exact hex form) and the
learned stage's feature set (``learned.features``, what ``train_classifier.py`` fits on) are
written canonically and hashed per row. The digests are compared with a stored snapshot:

    python benchmarks/classifier_identity.py            # compare with the snapshot
    python benchmarks/classifier_identity.py --write    # take a new snapshot (after a retrain)
    python benchmarks/classifier_identity.py --dump F   # also write every row's canonical form to F

The snapshot names the weight file's SHA-256: after a retrain (or a change of the rules' answers)
it is stale, and is taken again with ``--write``. ``tests/classify/test_classify_identity.py``
checks a sample of the same rows against the same snapshot.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from thinkbudget_litellm.classify import classify  # noqa: E402
from thinkbudget_litellm.classify.classifier import rule_pass  # noqa: E402
from thinkbudget_litellm.classify.learned import WEIGHTS_FILE, features  # noqa: E402

DATASETS = ROOT / "benchmarks" / "datasets"
SPLITS = (DATASETS / "v2" / "train.jsonl", DATASETS / "dev.jsonl")
SNAPSHOT = ROOT / "benchmarks" / "results" / "classifier_identity.json"


def load_rows(paths: Sequence[Path] = SPLITS) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in paths:
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


def prompt_of(row: dict[str, Any]) -> Any:
    return row["messages"] if "messages" in row else row["text"]


def _value(v: object) -> object:
    return v.hex() if isinstance(v, float) else v


def canonical(prompt: object) -> str:
    """One prompt's full answer, written so that any change in any float shows."""
    c = classify(prompt)
    doc = {
        "tier": c.tier.value,
        "task": c.task.value,
        "score": _value(c.score),
        "reasons": list(c.reasons),
        "features": [[k, _value(v), type(v).__name__] for k, v in c.features.items()],
        "probabilities": [[t.value, _value(p)] for t, p in c.probabilities.items()],
        "confidence": _value(c.confidence),
        "learned_features": sorted(features(rule_pass(prompt))),
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def row_digest(prompt: object) -> str:
    return hashlib.sha256(canonical(prompt).encode("utf-8")).hexdigest()[:16]


def model_sha256() -> str:
    path = resources.files("thinkbudget_litellm.classify").joinpath("model", WEIGHTS_FILE)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def digests(rows: Iterable[dict[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, row in enumerate(rows):
        out[f"{i}:{row.get('id', '')}"] = row_digest(prompt_of(row))
    return out


def overall(per_row: dict[str, str]) -> str:
    return hashlib.sha256("\n".join(f"{k} {v}" for k, v in per_row.items()).encode()).hexdigest()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="store a new snapshot")
    parser.add_argument("--dump", type=Path, help="write each row's canonical answer to this file (JSON lines)")
    args = parser.parse_args(argv)
    rows = load_rows()
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(canonical(prompt_of(row)) + "\n")
    per_row = digests(rows)
    if args.write:
        doc = {"model_sha256": model_sha256(), "rows": len(per_row), "digest": overall(per_row), "digests": per_row}
        SNAPSHOT.write_text(json.dumps(doc, indent=0) + "\n", encoding="utf-8")
        print(f"snapshot of {len(per_row)} rows written to {SNAPSHOT.relative_to(ROOT)}")
        return 0
    snap = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    if snap["model_sha256"] != model_sha256():
        print("the weight file changed since the snapshot: take a new one with --write", file=sys.stderr)
        return 2
    stored: dict[str, str] = snap["digests"]
    differ = [k for k in stored.keys() | per_row.keys() if stored.get(k) != per_row.get(k)]
    if differ:
        print(f"{len(differ)} of {len(stored)} rows differ, e.g. {sorted(differ)[:10]}", file=sys.stderr)
        return 1
    print(f"all {len(per_row)} rows identical (digest {overall(per_row)[:16]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

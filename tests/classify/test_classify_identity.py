"""The classifier's answers are pinned bit for bit on a sample of the labelled prompts.

Optimisations of the classifier must not change any answer: tier, task, score, reasons, features,
every probability and the confidence (floats compared by their hex form), and the learned stage's
feature set that ``benchmarks/train_classifier.py`` fits on. The digests come from
``benchmarks/classifier_identity.py``, which checks every row; after a retrain (or a deliberate change
of the rules' answers) take a new snapshot with ``python benchmarks/classifier_identity.py --write``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_EVERY = 8  # every 8th row: ~430 prompts, well under a second


def _identity() -> ModuleType:
    spec = importlib.util.spec_from_file_location("classifier_identity", ROOT / "benchmarks" / "classifier_identity.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("classifier_identity", module)
    spec.loader.exec_module(module)
    return module


def test_a_sample_of_labelled_prompts_classifies_exactly_as_in_the_snapshot() -> None:
    ident = _identity()
    snap = json.loads(ident.SNAPSHOT.read_text(encoding="utf-8"))
    assert snap["model_sha256"] == ident.model_sha256(), (
        "the weight file changed: python benchmarks/classifier_identity.py --write"
    )
    rows = ident.load_rows()
    assert len(rows) == snap["rows"]
    differ = []
    for i in range(0, len(rows), SAMPLE_EVERY):
        key = f"{i}:{rows[i].get('id', '')}"
        if ident.row_digest(ident.prompt_of(rows[i])) != snap["digests"][key]:
            differ.append(key)
    assert not differ, f"answers changed for {len(differ)} sampled rows, e.g. {differ[:5]}"

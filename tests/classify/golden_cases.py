"""Inputs and expected answers for the golden test: every result the classifier gave before it was optimised.

The golden file (``golden.json``) pins, for each input, the tier, the task, the score and a digest
of the features and reasons. The inputs are:

- every item of the labelled dataset (``benchmarks/datasets/{dev,test}.jsonl``), by id;
- the small inputs the other classify tests pass (recorded once, stored verbatim);
- generated inputs: pasted material of many sizes with asks before or after it, and
  conversations whose last turn may be a follow-up. They are rebuilt from a fixed seed, so only
  their answers are stored.

Regenerate the file only from a classifier whose results are meant to change:

    PYTHONPATH=. python -m tests.classify.golden_cases --write [--recorded PATH]

``--recorded`` takes a JSON list of ``{"input": ...}`` objects (the inputs seen by the test suite).
Without it the recorded inputs already in the golden file are kept.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path
from typing import Any

from thinkbudget_litellm.classify import Classification, classify_rules

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ROOT / "benchmarks" / "datasets"
GOLDEN = Path(__file__).resolve().parent / "golden.json"
RECORDED_MAX_CHARS = 600  # recorded inputs longer than this (as JSON) are left out: the file stays small
SEED = 20261122

sys.path.insert(0, str(DATASETS))
import materials  # noqa: E402

Expected = list[Any]  # [tier, task, score, digest of features and reasons]


def answer(result: Classification) -> Expected:
    detail = json.dumps([sorted(result.features.items()), list(result.reasons)], ensure_ascii=False)
    digest = hashlib.sha256(detail.encode("utf-8")).hexdigest()[:16]
    return [result.tier.value, result.task.value, result.score, digest]


def dataset_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for split in ("dev", "test"):
        with (DATASETS / f"{split}.jsonl").open(encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    return rows


def prompt_of(row: dict[str, Any]) -> Any:
    return row["messages"] if "messages" in row else row["text"]


_FOLLOW_UPS = (
    "and for n = 10^6?",
    "why?",
    "now in Spanish",
    "what about the second one?",
    "make it shorter",
    "thanks!",
    "ok",
    "can you explain that again?",
    "and the time complexity?",
    "same for this one",
    "fix it",
    "what if the list is empty?",
    "really?",
    "prove it",
    "how about in Go?",
    "y en francés?",
    "continue",
    "examples please",
    "is that right?",
    "do it without recursion",
)
_ASSISTANT_REPLIES = (
    "Sure. Here is the answer.",
    "```python\ndef f(x):\n    return x * 2\n```",
    "The result is 42.",
    "Step 1: read the file;\nStep 2: parse it;\nStep 3: report {\n  ok\n}\n",
    "",
)
_JOINERS = ("\n\n", ":\n\n", "\n", "\n\n```\n", " ")


def _material(rng: random.Random, size: int) -> str:
    kind = rng.randrange(7)
    if kind == 0:
        text = materials.app_log(size // 60 + 5, seed=rng.randrange(1000))
    elif kind == 1:
        text = materials.access_log(size // 150 + 5, seed=rng.randrange(1000))
    elif kind == 2:
        text = materials.long_document(size // 400 + 2, seed=rng.randrange(1000))
    elif kind == 3:
        unit = rng.choice((materials.PY_MODULE, materials.GO_SERVER, materials.SQL_SLOW, materials.JS_EFFECT))
        text = unit * (size // len(unit) + 1)
    elif kind == 4:
        text = (materials.PY_TRACEBACK + "\n") * (size // len(materials.PY_TRACEBACK) + 1)
    elif kind == 5:
        unit = rng.choice((materials.ARTICLE, materials.EMAIL_THREAD, materials.CONTRACT, materials.FINANCE_TABLE))
        text = unit * (size // len(unit) + 1)
    else:
        text = "```\n" + materials.PY_MODULE * (size // len(materials.PY_MODULE) + 1) + "\n```"
    return text[:size]


def generated_inputs() -> list[Any]:
    """Material with asks, and conversations with follow-ups, rebuilt the same way every time."""
    rng = random.Random(SEED)
    texts = [r["text"] for r in dataset_rows() if "text" in r]
    short = [t for t in texts if len(t) <= 300]
    cases: list[Any] = []
    for _ in range(250):  # pasted material and an ask
        size = rng.choice((70, 250, 500, 900, 1_300, 1_900, 3_500, 7_000, 12_000, 40_000))
        material = _material(rng, size)
        ask = rng.choice(short + list(_FOLLOW_UPS))
        where = rng.randrange(4)
        joiner = rng.choice(_JOINERS)
        if where == 0:
            cases.append(ask + joiner + material)
        elif where == 1:
            cases.append(material + joiner + ask)
        elif where == 2:
            cases.append(ask + joiner + material + "\n\n" + rng.choice(_FOLLOW_UPS))
        else:
            cases.append(material)
    for _ in range(400):  # conversations
        messages: list[dict[str, Any]] = []
        if rng.random() < 0.3:
            messages.append({"role": "system", "content": "You are a careful assistant."})
        for _ in range(rng.randrange(1, 5)):
            earlier = rng.choice(texts)
            if rng.random() < 0.3:
                earlier = rng.choice((earlier + "\n\n", "")) + _material(rng, rng.choice((300, 700, 2_000, 9_000)))
                earlier += rng.choice(("", "\n\n" + rng.choice(texts)))
            messages.append({"role": "user", "content": earlier})
            messages.append({"role": "assistant", "content": rng.choice(_ASSISTANT_REPLIES)})
        last = rng.choice(list(_FOLLOW_UPS) * 3 + short)
        if rng.random() < 0.1:
            messages.append({"role": "tool", "content": "result: 17"})
        if rng.random() < 0.1:
            messages.append({"role": "user", "content": [{"type": "text", "text": last}, {"type": "image_url"}]})
        else:
            messages.append({"role": "user", "content": last})
        cases.append(messages)
    return cases


def build(recorded: list[Any]) -> dict[str, Any]:
    return {
        "dataset": {row["id"]: answer(classify_rules(prompt_of(row))) for row in dataset_rows()},
        "recorded": [[x, answer(classify_rules(x))] for x in recorded],
        "generated": [answer(classify_rules(x)) for x in generated_inputs()],
    }


def _usable(value: Any) -> bool:
    """Small, JSON-exact, and classified without an error."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if len(text) > RECORDED_MAX_CHARS or "NaN" in text or "Infinity" in text:
        return False
    if json.loads(text) != value:
        return False
    try:
        classify_rules(value)
    except (TypeError, ValueError):
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="write the classifier's golden file")
    parser.add_argument("--write", action="store_true", help="write tests/classify/golden.json")
    parser.add_argument("--recorded", type=Path, help="JSON list of {'input': ...} seen by the test suite")
    args = parser.parse_args(argv)
    if args.recorded:
        seen: dict[str, Any] = {}
        for item in json.loads(args.recorded.read_text(encoding="utf-8")):
            value = item["input"]
            key = json.dumps(value, ensure_ascii=False, sort_keys=True)
            if key not in seen and _usable(value):
                seen[key] = value
        recorded = list(seen.values())
    else:
        recorded = [x for x, _ in json.loads(GOLDEN.read_text(encoding="utf-8"))["recorded"]]
    golden = build(recorded)
    text = json.dumps(golden, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    if args.write:
        GOLDEN.write_text(text.replace('],"', '],\n"') + "\n", encoding="utf-8")
    print(f"{len(golden['dataset'])} dataset, {len(golden['recorded'])} recorded, {len(golden['generated'])} generated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

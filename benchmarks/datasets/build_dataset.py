"""Build the labelled prompt dataset: ``dev.jsonl`` and ``test.jsonl`` next to this file.

Run ``python benchmarks/datasets/build_dataset.py``. The prompts and labels live in
``prompts.py``; this script only assigns the split and writes the files. The split is
stratified by tier and decided by a hash of each id, so it does not depend on the
classifier and does not change when prompts are added to other strata.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from prompts import ENTRIES  # noqa: E402

DEV_SHARE = 0.6
TIERS = ("trivial", "simple", "moderate", "complex", "deep")
TASKS = ("chat", "fact", "math", "code", "writing", "summarize", "analysis", "other")


def _check(entries: list[dict[str, Any]]) -> None:
    ids = Counter(e["id"] for e in entries)
    dupes = [i for i, n in ids.items() if n > 1]
    if dupes:
        raise SystemExit(f"duplicate ids: {dupes}")
    for e in entries:
        if e["tier"] not in TIERS or e["task"] not in TASKS:
            raise SystemExit(f"{e['id']}: bad tier/task {e['tier']}/{e['task']}")
        if ("text" in e) == ("messages" in e):
            raise SystemExit(f"{e['id']}: needs exactly one of text/messages")


def _hash_key(entry_id: str) -> str:
    return hashlib.sha256(entry_id.encode()).hexdigest()


def split(entries: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    by_tier: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in entries:
        by_tier[e["tier"]].append(e)
    dev_ids: set[str] = set()
    for tier_entries in by_tier.values():
        ordered = sorted(tier_entries, key=lambda e: _hash_key(e["id"]))
        dev_ids.update(e["id"] for e in ordered[: round(len(ordered) * DEV_SHARE)])
    dev = [e for e in entries if e["id"] in dev_ids]
    test = [e for e in entries if e["id"] not in dev_ids]
    return dev, test


def _write(path: Path, entries: list[dict[str, Any]]) -> None:
    keys = ("id", "text", "messages", "tier", "task", "note")
    with path.open("w", encoding="utf-8") as fh:
        for e in entries:
            fh.write(json.dumps({k: e[k] for k in keys if k in e}, ensure_ascii=False) + "\n")


def main() -> None:
    entries = list(ENTRIES)
    _check(entries)
    dev, test = split(entries)
    _write(HERE / "dev.jsonl", dev)
    _write(HERE / "test.jsonl", test)
    tiers = Counter(e["tier"] for e in entries)
    print(f"{len(entries)} prompts: dev {len(dev)}, test {len(test)}")
    print("tiers:", {t: tiers[t] for t in TIERS})
    print("tasks:", dict(Counter(e["task"] for e in entries)))


if __name__ == "__main__":
    main()

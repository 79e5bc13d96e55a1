"""Build the v2 labelled set from the writers' files: validate, de-duplicate, split.

    python benchmarks/datasets/v2/build.py

``raw/<writer>.jsonl`` are written by helpers who saw only the rubric (``TIERS.md``), never the
classifier, its cues or the other datasets. Each row is checked against the format in README.md;
rows whose prompt text repeats an earlier row's are dropped. The split depends only on the id:
a row is in the frozen test split when the first byte of SHA-256(id) is below 77 (30%), so adding
rows never moves one, and nobody chose it by looking at the classifier's output. ``test.jsonl``
is scored rarely and never tuned on; ``FROZEN`` holds the SHA-256 of every test row, so a test can
tell that no frozen row was edited or dropped since.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TIERS = ("trivial", "simple", "moderate", "complex", "deep")
TASKS = ("chat", "fact", "math", "code", "writing", "summarize", "analysis", "other")
ROLES = ("system", "user", "assistant", "tool", "developer")
TEST_BYTE_BELOW = 77  # of 256: 30%


class BadRow(ValueError):
    pass


def _check_messages(messages: Any) -> None:
    if not isinstance(messages, list) or not messages:
        raise BadRow("messages must be a non-empty list")
    for m in messages:
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            raise BadRow(f"bad message {str(m)[:80]!r}")
    if messages[-1]["role"] != "user":
        raise BadRow("the last message must be the user's")


def check(row: Any) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise BadRow("not an object")
    if not isinstance(row.get("id"), str) or not row["id"]:
        raise BadRow("id missing")
    if ("text" in row) == ("messages" in row):
        raise BadRow("exactly one of text and messages")
    if "text" in row and (not isinstance(row["text"], str) or not row["text"].strip()):
        raise BadRow("empty text")
    if "messages" in row:
        _check_messages(row["messages"])
    if row.get("tier") not in TIERS:
        raise BadRow(f"tier {row.get('tier')!r}")
    if row.get("task") not in TASKS:
        raise BadRow(f"task {row.get('task')!r}")
    if not isinstance(row.get("lang"), str) or not 2 <= len(row["lang"]) <= 3:
        raise BadRow(f"lang {row.get('lang')!r}")
    return row


def prompt_key(row: dict[str, Any]) -> str:
    body = row["text"] if "text" in row else json.dumps(row["messages"], sort_keys=True, ensure_ascii=False)
    return " ".join(body.lower().split())


def in_test(row_id: str) -> bool:
    return hashlib.sha256(row_id.encode()).digest()[0] < TEST_BYTE_BELOW


def row_digest(row: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(row, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def build(raw_dir: Path = HERE / "raw") -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    seen_ids: set[str] = set()
    seen_prompts: set[str] = set()
    train: list[dict[str, Any]] = []
    test: list[dict[str, Any]] = []
    problems: list[str] = []
    for path in sorted(raw_dir.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = check(json.loads(line))
            except (json.JSONDecodeError, BadRow) as exc:
                problems.append(f"{path.name}:{n}: {exc}")
                continue
            key = prompt_key(row)
            if row["id"] in seen_ids or key in seen_prompts:
                problems.append(f"{path.name}:{n}: duplicate {row['id']}")
                continue
            seen_ids.add(row["id"])
            seen_prompts.add(key)
            (test if in_test(row["id"]) else train).append(row)
    return train, test, problems


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def main() -> int:
    train, test, problems = build()
    _write(HERE / "train.jsonl", train)
    _write(HERE / "test.jsonl", test)
    frozen = HERE / "FROZEN"
    digests = sorted(f"{r['id']} {row_digest(r)}" for r in test)
    known = set(frozen.read_text().split("\n")) - {""} if frozen.exists() else set()
    changed = sorted({line.split()[0] for line in known} - {line.split()[0] for line in digests})
    if changed:
        print(f"refusing: frozen test rows missing or edited: {changed[:10]}", file=sys.stderr)
        return 2
    edited = sorted(known - set(digests))
    if edited:
        print(f"refusing: frozen test rows edited: {[e.split()[0] for e in edited][:10]}", file=sys.stderr)
        return 2
    frozen.write_text("\n".join(digests) + "\n", encoding="utf-8")
    for p in problems:
        print("skipped", p, file=sys.stderr)
    print(f"train {len(train)}, test {len(test)} (frozen), skipped {len(problems)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Labelled prompts (benchmarks/datasets/*.jsonl) as benchmark items.

One JSON object per line: ``id``, exactly one of ``text`` / ``messages``, ``tier`` (the ground-truth
label), ``task``, and optionally ``answer`` (a known answer, used to score quality against a real
backend). Bad lines raise :class:`DatasetError` naming the file and line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thinkbudget_litellm.tiers import Task, Tier


class DatasetError(ValueError):
    """A dataset line that is not a valid item; the message names the file and line."""


@dataclass(frozen=True)
class BenchItem:
    id: str
    messages: tuple[Mapping[str, Any], ...]
    tier: Tier  # ground-truth label
    task: Task
    answer: str | None = None

    @property
    def text_only(self) -> bool:
        """No image or other non-text content parts (the simulated model is text-only)."""
        for m in self.messages:
            content = m.get("content")
            if isinstance(content, list) and any(
                not (isinstance(p, Mapping) and p.get("type") == "text") for p in content
            ):
                return False
        return True


def parse_item(raw: Any) -> BenchItem:
    """One item from a decoded JSON line; ValueError with the reason when it is not one."""
    if not isinstance(raw, dict):
        raise ValueError("expected a JSON object")
    item_id = raw.get("id")
    if not isinstance(item_id, str) or not item_id:
        raise ValueError("'id' must be a non-empty string")
    has_text, has_messages = "text" in raw, "messages" in raw
    if has_text == has_messages:
        raise ValueError("exactly one of 'text' and 'messages' is required")
    if has_text:
        if not isinstance(raw["text"], str):
            raise ValueError("'text' must be a string")
        messages: tuple[Mapping[str, Any], ...] = ({"role": "user", "content": raw["text"]},)
    else:
        msgs = raw["messages"]
        if not isinstance(msgs, list) or not msgs or not all(isinstance(m, dict) for m in msgs):
            raise ValueError("'messages' must be a non-empty list of objects")
        messages = tuple(msgs)
    try:
        tier, task = Tier(str(raw.get("tier"))), Task(str(raw.get("task")))
    except ValueError as exc:
        raise ValueError(f"bad tier or task: {exc}") from None
    answer = raw.get("answer")
    if answer is not None and not isinstance(answer, str | int | float):
        raise ValueError("'answer' must be a string or a number")
    return BenchItem(item_id, messages, tier, task, None if answer is None else str(answer))


def parse_lines(lines: Iterable[str], source: str = "<lines>") -> list[BenchItem]:
    items: list[BenchItem] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = parse_item(json.loads(line))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            raise DatasetError(f"{source}:{number}: {exc}") from None
        if item.id in seen:
            raise DatasetError(f"{source}:{number}: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    return items


def load_items(paths: Sequence[Path]) -> list[BenchItem]:
    """Items of every file, in file order; DatasetError on a missing file or a bad line."""
    items: list[BenchItem] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DatasetError(f"cannot read dataset {path}: {exc.strerror or exc}") from None
        items += parse_lines(text.splitlines(), str(path))
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise DatasetError("duplicate ids across dataset files")
    return items

"""Dataset items for the savings benchmark: parsing, validation, text-only detection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.workloads.items import DatasetError, load_items, parse_item, parse_lines
from thinkbudget_litellm.tiers import Task, Tier


def test_text_item_becomes_one_user_message() -> None:
    item = parse_item({"id": "fact-1", "text": "capital of Peru?", "tier": "simple", "task": "fact"})
    assert item.messages == ({"role": "user", "content": "capital of Peru?"},)
    assert (item.tier, item.task, item.answer) == (Tier.SIMPLE, Task.FACT, None)
    assert item.text_only


def test_messages_item_keeps_messages_and_numeric_answer() -> None:
    msgs = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "2+2?"}]
    item = parse_item({"id": "m", "messages": msgs, "tier": "simple", "task": "math", "answer": 4})
    assert list(item.messages) == msgs
    assert item.answer == "4"


def test_image_part_is_not_text_only() -> None:
    content = [{"type": "text", "text": "what is this?"}, {"type": "image_url", "image_url": {"url": "x"}}]
    item = parse_item({"id": "mm", "messages": [{"role": "user", "content": content}], "tier": "simple",
                       "task": "other"})  # fmt: skip
    assert not item.text_only


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"text": "hi", "tier": "trivial", "task": "chat"}, "'id'"),
        ({"id": "a", "tier": "trivial", "task": "chat"}, "exactly one"),
        ({"id": "a", "text": "hi", "messages": [], "tier": "trivial", "task": "chat"}, "exactly one"),
        ({"id": "a", "messages": [], "tier": "trivial", "task": "chat"}, "non-empty list"),
        ({"id": "a", "text": "hi", "tier": "easy", "task": "chat"}, "bad tier or task"),
        ({"id": "a", "text": "hi", "tier": "trivial", "task": "chat", "answer": [1]}, "'answer'"),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_items_are_rejected_with_a_reason(raw: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_item(raw)


def test_bad_line_names_source_and_line() -> None:
    lines = [json.dumps({"id": "a", "text": "hi", "tier": "trivial", "task": "chat"}), "", "{not json"]
    with pytest.raises(DatasetError, match=r"^f\.jsonl:3: "):
        parse_lines(lines, "f.jsonl")


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    line = json.dumps({"id": "a", "text": "hi", "tier": "trivial", "task": "chat"})
    (tmp_path / "one.jsonl").write_text(line + "\n")
    (tmp_path / "two.jsonl").write_text(line + "\n")
    assert len(load_items([tmp_path / "one.jsonl"])) == 1
    with pytest.raises(DatasetError, match="duplicate"):
        load_items([tmp_path / "one.jsonl", tmp_path / "two.jsonl"])
    with pytest.raises(DatasetError, match="cannot read"):
        load_items([tmp_path / "missing.jsonl"])

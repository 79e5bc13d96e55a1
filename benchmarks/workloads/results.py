"""One measured request (a row of the raw results file) and the pure helpers that fill it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

BASELINE = "baseline"


@dataclass
class RequestResult:
    """What the client saw for one request, plus the figures joined in after the run."""

    workload: str  # labelled | mix
    run: str  # baseline | native | stream
    request_id: str
    item_id: str
    label: str  # ground-truth tier
    task: str
    natural_think: int | None = None  # what the simulator was told to think unbudgeted (None: real backend)
    natural_answer: int | None = None
    ok: bool = True
    error: str | None = None
    call_id: str | None = None
    tier: str | None = None  # the classifier's tier (X-ThinkBudget-Tier); None without the extension
    budget: int | None = None
    thinking_tokens: int = 0  # counted at the client (cl100k) in both runs
    answer_tokens: int = 0
    prompt_tokens: int | None = None  # from the stream's usage chunk
    ttft_ms: float | None = None  # first token of any kind (thinking or answer)
    ttfa_ms: float | None = None  # first answer token
    latency_ms: float | None = None  # until the stream ended
    cut: bool | None = None  # from our record; None without the extension
    energy_j: float | None = None
    cost_usd: float | None = None
    figures_from: str | None = None  # record | run-window share
    energy_source: str | None = None
    record_thinking_tokens: int | None = None
    answer_correct: bool | None = None  # only with a real backend and a known answer

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> RequestResult:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in names})


def split_thinking(reasoning: str, content: str) -> tuple[str, str]:
    """(thinking, answer) text of a response: the reasoning field when the engine separated it,
    else the part of the content before ``</think>`` (inline and pre-opened templates)."""
    if reasoning:
        return reasoning, content
    if "</think>" in content:
        head, answer = content.split("</think>", 1)
        return head.replace("<think>", "", 1), answer
    return "", content


_WORD = re.compile(r"[^\w.\-/]+")


def _normal(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().replace(",", "")
    return " ".join(_WORD.sub(" ", text).split())


def answer_matches(expected: str, answer_text: str) -> bool:
    """Whether the known answer appears in the response's final answer (case, commas in numbers,
    punctuation and spacing ignored; a number must match as a whole number)."""
    want, got = _normal(expected), _normal(answer_text)
    if not want:
        return False
    if re.fullmatch(r"-?\d+(\.\d+)?", want):
        return re.search(rf"(?<![\d.]){re.escape(want)}(?![\d]|\.\d)", got) is not None
    return re.search(rf"(?<!\w){re.escape(want)}(?!\w)", got) is not None


def share_by_weight(total: float, weights: Sequence[float]) -> list[float]:
    """``total`` split in proportion to ``weights`` (all zero weights: equal split)."""
    if any(w < 0 for w in weights):
        raise ValueError("weights must be >= 0")
    if not weights:
        return []
    s = sum(weights)
    if s == 0:
        return [total / len(weights)] * len(weights)
    return [total * (w / s) for w in weights]  # the fraction first: total * w can round a subnormal w


DCGM_ENERGY = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"


def counter_joules(metrics_text: str) -> float | None:
    """Sum over GPUs of the DCGM energy counter (mJ since boot) in a Prometheus text, in joules."""
    total, found = 0.0, False
    for line in metrics_text.splitlines():
        if line.startswith(DCGM_ENERGY) and line[len(DCGM_ENERGY)] in "{ ":
            try:
                total += float(line.rsplit(" ", 1)[1])
            except (IndexError, ValueError):
                continue
            found = True
    return total / 1000.0 if found else None


class StreamText:
    """Accumulates a streamed response and says when thinking and answer tokens first arrive.

    ``inline``: the engine sends its thinking inside ``content`` up to ``</think>`` (no reasoning
    parser); otherwise thinking arrives in the reasoning field and all content is answer.
    """

    def __init__(self, inline: bool = False) -> None:
        self.inline = inline
        self.reasoning: list[str] = []
        self.content: list[str] = []
        self._closed = not inline
        self._tail = ""

    def add(self, reasoning: str | None, content: str | None) -> tuple[bool, bool]:
        """Feed one delta; returns (it carried any text, it carried answer text)."""
        if reasoning:
            self.reasoning.append(reasoning)
        if not content:
            return bool(reasoning), False
        self.content.append(content)
        if self._closed:
            return True, bool(content.strip())
        window = self._tail + content
        if "</think>" in window:
            self._closed = True
            return True, bool(window.split("</think>", 1)[1].strip())
        self._tail = window[-8:]
        return True, False

    def texts(self) -> tuple[str, str]:
        """(thinking, answer)."""
        return split_thinking("".join(self.reasoning), "".join(self.content))

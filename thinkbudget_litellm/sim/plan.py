"""What the simulated backend (a test double for vLLM + a DeepSeek-R1 distill) generates for a request.

Pure: lengths come from a hash of the messages, text from :mod:`vocab`, so the same prompt always gives
the same completion. The plan is the list of model tokens in order; ``<think>``/``</think>`` are one
token each, as the special tokens of the R1 tokenizer (vLLM counts them that way), every other piece is
one cl100k_base token. Reasoning tokens are those strictly between the markers, as vLLM counts them.
"""

from __future__ import annotations

import enum
import hashlib
import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from thinkbudget_litellm.sim import vocab
from thinkbudget_litellm.sim.config import SimConfig, Style
from thinkbudget_litellm.sim.tokens import count_tokens

OPEN_MARK = "<think>"
CLOSE_MARK = "</think>"
PER_MESSAGE_TOKENS = 3  # role and separators of the chat template, per message
GENERATION_PROMPT_TOKENS = 3


class Kind(enum.Enum):
    OPEN = "open"
    THINK = "think"
    CLOSE = "close"
    ANSWER = "answer"


@dataclass(frozen=True)
class Piece:
    text: str
    kind: Kind


@dataclass(frozen=True)
class Prefix:
    """A final assistant message being continued (vLLM ``continue_final_message``)."""

    closed: bool  # already holds </think>: only the answer is left
    think_tokens: int  # thinking tokens already written
    stream_position: int  # where the thinking text resumes
    ends_with_newline: bool


@dataclass(frozen=True)
class Plan:
    pieces: tuple[Piece, ...]
    finish_reason: str  # "stop" or "length"

    def count(self, kind: Kind) -> int:
        return sum(1 for p in self.pieces if p.kind is kind)


def message_text(content: Any) -> str:
    """Text of an OpenAI message content: a string, or a list of parts of which text parts count."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def prompt_digest(messages: Iterable[Mapping[str, Any]]) -> bytes:
    """Hash of roles and texts: the per-prompt seed of lengths and text."""
    canonical = [[str(m.get("role")), message_text(m.get("content"))] for m in messages]
    return hashlib.sha256(json.dumps(canonical, ensure_ascii=False).encode()).digest()


def prompt_tokens(messages: Iterable[Mapping[str, Any]]) -> int:
    return GENERATION_PROMPT_TOKENS + sum(
        PER_MESSAGE_TOKENS + count_tokens(message_text(m.get("content"))) for m in messages
    )


def _unit(digest: bytes, slot: int) -> float:
    """A number in (0, 1) from 8 bytes of the digest."""
    return (int.from_bytes(digest[8 * slot : 8 * slot + 8], "big") + 0.5) / 2**64


def natural_think_tokens(digest: bytes, config: SimConfig) -> int:
    """Lognormal(median, sigma) clipped to [think_min, think_max], unless fixed by think_tokens."""
    if config.think_tokens is not None:
        return config.think_tokens
    z = NormalDist().inv_cdf(_unit(digest, 0))
    return min(config.think_max, max(config.think_min, round(config.think_median * math.exp(config.think_sigma * z))))


def natural_answer_tokens(digest: bytes, config: SimConfig) -> int:
    """Uniform in [answer_min, answer_max], unless fixed by answer_tokens."""
    if config.answer_tokens is not None:
        return config.answer_tokens
    return config.answer_min + int(_unit(digest, 1) * (config.answer_max - config.answer_min + 1))


def parse_prefix(text: str) -> Prefix:
    if CLOSE_MARK in text:
        tail = text.rsplit(CLOSE_MARK, 1)[1]
        return Prefix(True, 0, 0, ends_with_newline=tail.rstrip(" ").endswith("\n"))
    thinking = text.split(OPEN_MARK, 1)[1] if OPEN_MARK in text else text
    return Prefix(False, count_tokens(thinking), count_tokens(thinking.lstrip("\n")), thinking.endswith("\n"))


def _end_sentence(pieces: list[str]) -> list[str]:
    """Let naturally ended text finish on a sentence end."""
    if pieces and pieces[-1] not in vocab.SENTENCE_ENDS and pieces[-1].strip():
        pieces[-1] = "."
    return pieces


def plan_completion(
    *,
    style: Style,
    digest: bytes,
    think_tokens: int,
    answer_tokens: int,
    budget: int | None,
    prefix: Prefix | None,
    max_tokens: int,
) -> Plan:
    """Token plan: [<think>] thinking </think> answer, cut by a native thinking budget and max_tokens."""
    pieces: list[Piece] = []
    if prefix is None or not prefix.closed:
        if style is Style.INLINE and prefix is None:
            pieces.append(Piece(OPEN_MARK, Kind.OPEN))
        done = prefix.think_tokens if prefix else 0
        forced = budget is not None and budget < think_tokens
        remaining = max(0, (budget if budget is not None and forced else think_tokens) - done)
        stream = vocab.thinking_pieces(int.from_bytes(digest[16:24], "big"))
        if prefix is not None:
            body = list(itertools.islice(stream, prefix.stream_position, prefix.stream_position + remaining))
        else:
            lead = ["\n"] if style is Style.INLINE else []
            body = list(itertools.islice(itertools.chain(lead, stream), remaining))
        body = body if forced else _end_sentence(body)
        pieces += [Piece(t, Kind.THINK) for t in body] + [Piece(CLOSE_MARK, Kind.CLOSE)]
    answer_stream = itertools.chain(["\n\n"], vocab.answer_pieces(int.from_bytes(digest[24:32], "big")))
    answer = _end_sentence(list(itertools.islice(answer_stream, answer_tokens)))
    if prefix is not None and prefix.closed and prefix.ends_with_newline:
        answer = answer[1:]  # the prefix already holds the blank line after </think>
    pieces += [Piece(t, Kind.ANSWER) for t in answer]
    if len(pieces) > max_tokens:
        return Plan(tuple(pieces[:max_tokens]), "length")
    return Plan(tuple(pieces), "stop")


def render(pieces: Sequence[Piece], style: Style) -> tuple[str, str]:
    """(reasoning, content) text as a non-streaming response shows them."""
    if style is Style.PARSER:
        return (
            "".join(p.text for p in pieces if p.kind is Kind.THINK),
            "".join(p.text for p in pieces if p.kind is Kind.ANSWER),
        )
    return "", "".join(p.text for p in pieces)

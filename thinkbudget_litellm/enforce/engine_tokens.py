"""Counting with the engine's own token ids (pure).

* ``split_thinking``: a non-streamed response's generated ids (vLLM ``return_token_ids``) split at
  the thinking's closing tag, when the tags are single tokens of the engine's tokenizer (as in
  DeepSeek-R1 and its distills). The engine's ``reasoning_tokens`` is 0 when the template pre-opens
  ``<think>``, and our tiktoken count of the text is an approximation: the ids are exact.
* ``fit_prompt_tokens``: the prompt size to fit a context window with, from the engine's count when
  it gave one, else our approximation plus a margin (an approximation must not make a request
  that the engine then refuses).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# The approximation (about 4 characters per token, 4 per message) counted 19 where the engine counted
# 33 on the real vLLM's R1-style template (its special tokens and a tokenizer with a small
# vocabulary): a fallback that fits a window allows a quarter more, and at least 32 tokens.
FALLBACK_MARGIN_RATIO = 0.25
FALLBACK_MARGIN_MIN = 32


@dataclass(frozen=True)
class TagIds:
    """The ids of the thinking tags, each one token of the engine's tokenizer."""

    open: int
    close: int


def tag_ids(open_ids: Sequence[int], close_ids: Sequence[int]) -> TagIds | None:
    """``TagIds`` when each tag tokenizes to exactly one id (else ids cannot locate them)."""
    if len(open_ids) != 1 or len(close_ids) != 1 or open_ids[0] == close_ids[0]:
        return None
    return TagIds(open_ids[0], close_ids[0])


def split_thinking(
    ids: Sequence[int], tags: TagIds, *, has_reasoning: bool, has_content: bool
) -> tuple[int, int] | None:
    """(thinking, answer) tokens of the generated ``ids``; the tags themselves count as neither.

    With the closing tag: thinking is what precedes it (after an opening tag the model wrote
    itself), the answer what follows. Without it, the response is all thinking or all answer, as
    its text says (``None`` when the text says both or neither: leave it to the text count).
    """
    if tags.close in ids:
        at = list(ids).index(tags.close)
        start = 1 if ids and ids[0] == tags.open else 0
        return max(at - start, 0), len(ids) - at - 1
    if has_reasoning and not has_content:
        start = 1 if ids and ids[0] == tags.open else 0
        return len(ids) - start, 0
    if has_content and not has_reasoning:
        return 0, len(ids)
    return None


def fit_prompt_tokens(engine_count: int | None, approx: int) -> int:
    """The prompt size to fit a context window with (see the module docstring)."""
    if engine_count is not None:
        return engine_count
    return approx + max(FALLBACK_MARGIN_MIN, int(approx * FALLBACK_MARGIN_RATIO))

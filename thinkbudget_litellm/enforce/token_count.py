"""Counting tokens in streamed text fragments.

The stream cutter needs a token count for every fragment it forwards. The serving
engine's own tokenizer is not available in the proxy, so we approximate it with
tiktoken's ``cl100k_base`` (the encoding LiteLLM itself uses when it re-counts a
stream). Loading it needs its BPE file; tiktoken would download it, which cannot
happen here, so ``TIKTOKEN_CACHE_DIR`` is pointed at the copy that LiteLLM ships in
``<site-packages>/litellm/litellm_core_utils/tokenizers`` (located with
``importlib.util.find_spec``, without importing litellm), unless the variable is
already set. The encoding is loaded lazily, on the first count.

Counting per fragment. A fragment is counted on its own, never re-counted together
with its neighbours, so the cost per chunk stays constant. vLLM usually sends exactly
one model token per delta, and one model token is almost always one cl100k token. When
a word is split across deltas ("hel" + "lo") the two pieces may count as two tokens
where the whole word is one: the per-fragment count can overcount slightly, never
undercount by much. For a budget that errs on the side of cutting a little early,
which is the safe side.

Fallback. If tiktoken is missing or its encoding cannot be loaded, ``count_tokens``
uses a labelled heuristic, ``ceil(len(text) / 4)`` for non-empty text (a streamed
delta of one to four characters counts as one token). ``counter_name()`` says which
counter is in use so figures can carry their source.
"""

from __future__ import annotations

import importlib.util
import math
import os
from collections.abc import Callable
from functools import lru_cache
from typing import Protocol

ENCODING_NAME = "cl100k_base"
TIKTOKEN_LABEL = f"tiktoken:{ENCODING_NAME}"
HEURISTIC_LABEL = "heuristic:ceil(chars/4)"

# Fragments up to this length are memoised: streamed deltas repeat a lot (" the", "\n").
_MEMO_MAX_CHARS = 32
_MEMO_ENTRIES = 65_536


class TokenCounter(Protocol):
    """Anything that maps a text fragment to a non-negative token count."""

    def __call__(self, text: str, /) -> int: ...


def bundled_tiktoken_cache_dir() -> str | None:
    """LiteLLM's bundled tiktoken cache directory, found without importing litellm."""
    try:
        spec = importlib.util.find_spec("litellm")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        candidate = os.path.join(root, "litellm_core_utils", "tokenizers")
        if os.path.isdir(candidate):
            return candidate
    return None


def heuristic_count(text: str) -> int:
    """``ceil(len(text) / 4)``: the fallback when tiktoken is unavailable."""
    return math.ceil(len(text) / 4)


@lru_cache(maxsize=1)
def _load() -> tuple[Callable[[str], int], str]:
    """The counting function in use and its label; loaded once."""
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        cache_dir = bundled_tiktoken_cache_dir()
        if cache_dir is not None:
            os.environ["TIKTOKEN_CACHE_DIR"] = cache_dir
    try:
        import tiktoken

        encoding = tiktoken.get_encoding(ENCODING_NAME)
    except Exception as exc:  # missing package, missing BPE file, no network
        return heuristic_count, f"{HEURISTIC_LABEL} (tiktoken unavailable: {type(exc).__name__})"
    encode = encoding.encode_ordinary  # special-token strings count as plain text

    def tiktoken_count(text: str) -> int:
        return len(encode(text))

    return tiktoken_count, TIKTOKEN_LABEL


@lru_cache(maxsize=_MEMO_ENTRIES)
def _count_short(text: str) -> int:
    return _load()[0](text)


def count_tokens(text: str) -> int:
    """Approximate number of tokens in ``text`` (cl100k_base, or the labelled heuristic)."""
    if not isinstance(text, str):
        raise TypeError(f"count_tokens expects str, got {type(text).__name__}")
    if not text:
        return 0
    if len(text) <= _MEMO_MAX_CHARS:
        return _count_short(text)
    return _load()[0](text)


def counter_name() -> str:
    """Which counter ``count_tokens`` uses: ``tiktoken:cl100k_base`` or the heuristic's label."""
    return _load()[1]

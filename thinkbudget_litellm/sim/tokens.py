"""Token counting with tiktoken ``cl100k_base`` for the simulated backend, offline.

tiktoken would download the encoding; there is no internet here, so point ``TIKTOKEN_CACHE_DIR`` at
the cache LiteLLM bundles (``<site-packages>/litellm/litellm_core_utils/tokenizers``), found with
``importlib.util.find_spec`` so LiteLLM is not imported. An existing ``TIKTOKEN_CACHE_DIR`` wins.
"""

from __future__ import annotations

import functools
import importlib.util
import os

import tiktoken


def ensure_tiktoken_cache() -> None:
    """Set TIKTOKEN_CACHE_DIR to LiteLLM's bundled tokenizer cache unless it is already set."""
    if os.environ.get("TIKTOKEN_CACHE_DIR"):
        return
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return
    cache = os.path.join(next(iter(spec.submodule_search_locations)), "litellm_core_utils", "tokenizers")
    if os.path.isdir(cache):
        os.environ["TIKTOKEN_CACHE_DIR"] = cache


@functools.cache
def encoding() -> tiktoken.Encoding:
    ensure_tiktoken_cache()
    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    """Number of cl100k_base tokens in text (special-token strings count as plain text)."""
    return len(encoding().encode(text, disallowed_special=()))

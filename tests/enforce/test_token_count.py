"""Tests of the streamed-fragment token counter."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from thinkbudget_litellm.enforce.token_count import (
    HEURISTIC_LABEL,
    TIKTOKEN_LABEL,
    bundled_tiktoken_cache_dir,
    count_tokens,
    counter_name,
    heuristic_count,
)

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, env: dict[str, str]) -> str:
    full_env = {k: v for k, v in os.environ.items() if k != "TIKTOKEN_CACHE_DIR"}
    full_env.update(env, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", code], env=full_env, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def test_tiktoken_counts_from_the_bundled_cache() -> None:
    assert counter_name() == TIKTOKEN_LABEL
    assert count_tokens("") == 0
    assert count_tokens("hello world") == 2
    long_text = " word" * 50  # longer than the memoised size
    assert count_tokens(long_text) == 50
    assert count_tokens("<|endoftext|>") > 1  # special-token text counts as plain text


def test_count_tokens_rejects_non_strings() -> None:
    with pytest.raises(TypeError):
        count_tokens(None)  # type: ignore[arg-type]


def test_heuristic() -> None:
    assert [heuristic_count(t) for t in ["", "a", "abcd", "abcde"]] == [0, 1, 1, 2]


def test_bundled_cache_dir_is_found_without_importing_litellm() -> None:
    out = _run(
        "import sys\n"
        "from thinkbudget_litellm.enforce.token_count import bundled_tiktoken_cache_dir, count_tokens\n"
        "d = bundled_tiktoken_cache_dir()\n"
        "count_tokens('x y')\n"
        "import os\n"
        "print(d is not None and os.path.isdir(d), 'litellm' in sys.modules,"
        " os.environ['TIKTOKEN_CACHE_DIR'] == d)",
        {},
    )
    assert out == "True False True"


def test_an_existing_tiktoken_cache_dir_is_respected(tmp_path: Path) -> None:
    bundled = bundled_tiktoken_cache_dir()
    assert bundled is not None
    for entry in Path(bundled).iterdir():
        if entry.is_file():
            shutil.copy(entry, tmp_path / entry.name)
    out = _run(
        "import os\n"
        "from thinkbudget_litellm.enforce.token_count import counter_name\n"
        "print(counter_name(), os.environ['TIKTOKEN_CACHE_DIR'])",
        {"TIKTOKEN_CACHE_DIR": str(tmp_path)},
    )
    assert out == f"{TIKTOKEN_LABEL} {tmp_path}"


def test_falls_back_to_the_labelled_heuristic_without_tiktoken() -> None:
    out = _run(
        "import sys\n"
        "sys.modules['tiktoken'] = None\n"
        "from thinkbudget_litellm.enforce.token_count import counter_name, count_tokens\n"
        "print(count_tokens('abcdefgh'), counter_name())",
        {},
    )
    count, label = out.split(" ", 1)
    assert count == "2"
    assert label.startswith(HEURISTIC_LABEL) and "tiktoken unavailable" in label

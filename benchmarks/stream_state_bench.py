"""Micro-benchmark: microseconds per ThinkingStream.feed() on vLLM-like one-token deltas.

Prints, per style and counter, the mean CPU time of one feed() call (process time, so
other load on the machine matters less; best of several rounds), next to a reference:
what LiteLLM itself spends per streamed chunk to build a ``ModelResponseStream`` and
serialise it (skipped with ``--no-litellm``). The proxy's throughput target (>= 0.95x
without the hook) needs feed() to stay well under 5% of the proxy's own per-chunk work.

    PYTHONPATH=. python benchmarks/stream_state_bench.py [--tokens 4000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable

from thinkbudget_litellm.enforce.thinking_stream import Style, ThinkingStream
from thinkbudget_litellm.enforce.token_count import count_tokens, counter_name

VOCABULARY = (
    "the of and to in is that for it as with was on be by this are or an at from which we can "
    "let me think about whether sum equals prime number therefore because check again wait "
    "compute value x y 2 3 17 42 = + - * ( ) , . : ; answer so first second then finally"
)
WORDS = [*VOCABULARY.split(), "\n"]


Chunk = tuple[str | None, str | None]


def synthetic_text(n_words: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(n_words))


def one_token_deltas(text: str) -> list[str]:
    import tiktoken  # the benchmark needs tiktoken to cut realistic deltas

    count_tokens("x")  # make sure TIKTOKEN_CACHE_DIR points at LiteLLM's bundled copy
    enc = tiktoken.get_encoding("cl100k_base")
    return [enc.decode([t]) for t in enc.encode_ordinary(text)]


def streams(thinking: list[str], answer: list[str]) -> dict[str, tuple[Style | None, list[Chunk]]]:
    def as_reasoning(deltas: list[str]) -> list[Chunk]:
        return [(d, None) for d in deltas]

    def as_content(deltas: list[str]) -> list[Chunk]:
        return [(None, d) for d in deltas]

    parser = as_reasoning(thinking) + as_content(answer)
    inline = as_content(["<think>", *thinking, "</think>", *answer])
    preopened = as_content([*thinking, "</think>", *answer])
    return {
        "parser": (None, parser),
        "inline": (None, inline),
        "preopened(hint)": (Style.PREOPENED, preopened),
        "preopened(auto)": (None, preopened),
    }


def time_feed(chunks: list[Chunk], hint: Style | None, counter: Callable[[str], int], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        stream = ThinkingStream(budget=10**9, counter=counter, style_hint=hint)
        feed = stream.feed
        start = time.process_time_ns()
        for r, c in chunks:
            feed(r, c)
        stream.finish()
        best = min(best, (time.process_time_ns() - start) / 1000 / len(chunks))
    return best


def litellm_chunk_cost(deltas: list[str], rounds: int) -> float | None:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        from litellm.types.utils import Delta, ModelResponseStream, StreamingChoices
    except Exception as exc:  # litellm missing or broken: the reference is optional
        print(f"(litellm reference skipped: {type(exc).__name__}: {exc})")
        return None
    best = float("inf")
    sample = deltas[:1000]
    for _ in range(rounds):
        start = time.process_time_ns()
        for d in sample:
            chunk = ModelResponseStream(choices=[StreamingChoices(delta=Delta(reasoning_content=d))])
            chunk.model_dump_json(exclude_none=True)
        best = min(best, (time.process_time_ns() - start) / 1000 / len(sample))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=4000, help="approximate deltas per stream")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-litellm", action="store_true", help="skip the LiteLLM per-chunk reference")
    args = parser.parse_args()

    deltas = one_token_deltas(synthetic_text(args.tokens))
    split = len(deltas) * 3 // 4
    cases = streams(deltas[:split], deltas[split:])
    counters: dict[str, Callable[[str], int]] = {
        f"count_tokens [{counter_name()}]": count_tokens,
        "len (state machine alone)": len,
    }
    print(f"{len(deltas)} one-token deltas per stream, best of {args.rounds} rounds")
    print(f"{'style':<18} {'counter':<42} {'us/feed':>8}")
    results = {}
    for style, (hint, chunks) in cases.items():
        for name, counter in counters.items():
            us = time_feed(chunks, hint, counter, args.rounds)
            results[(style, name)] = us
            print(f"{style:<18} {name:<42} {us:8.2f}")
    if not args.no_litellm:
        ref = litellm_chunk_cost(deltas, args.rounds)
        if ref is not None:
            worst = max(results.values())
            print(f"\nLiteLLM ModelResponseStream build + JSON per chunk: {ref:.2f} us")
            print(f"worst feed() / that reference: {worst / ref:.1%}")


if __name__ == "__main__":
    main()

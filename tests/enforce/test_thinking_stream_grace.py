"""The grace window before a stream cut: the thinking may finish its sentence or line, up to
``grace`` tokens past the limit (counter: one token per character, so positions are easy to read)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkbudget_litellm.enforce.thinking_stream import State, ThinkingStream


def feed_all(ts: ThinkingStream, chunks: list[tuple[str | None, str | None]]) -> tuple[str, str, bool]:
    reasoning, content, cut = "", "", False
    for r, c in chunks:
        step = ts.feed(r, c)
        reasoning += step.reasoning_out or ""
        content += step.content_out or ""
        if step.cut:
            return reasoning, content, True
    tail = ts.finish()
    return reasoning, content + (tail.content_out or ""), cut


TEN = "abcdefghij"
# (chunks, grace, forwarded thinking (parser: reasoning; inline: content), cut, grace_tokens)
CASES = [
    pytest.param([(TEN, None), ("kl. mn", None)], 5, TEN + "kl.", True, 3, id="finishes-the-sentence"),
    pytest.param([("abcdefgh. ", None), ("more", None)], 5, "abcdefgh. ", True, 0, id="already-at-a-sentence-end"),
    pytest.param([(TEN, None), ("klmnopqrst", None)], 5, TEN + "klmno", True, 5, id="no-end-within-grace"),
    pytest.param([(TEN, None), ("k\nlmn", None)], 5, TEN + "k\n", True, 2, id="line-break-ends-it"),
    pytest.param([(TEN, None), ("kl", None), ("m. x", None)], 5, TEN + "klm.", True, 4, id="across-chunks"),
    pytest.param([(TEN, None), ("3.14 ok", None)], 5, TEN + "3.14 ", True, 5, id="a-decimal-point-is-no-end"),
    pytest.param([(TEN, None), ("kl. mn", None)], 0, TEN, True, 0, id="no-grace-cuts-at-the-limit"),
    pytest.param([(TEN + "kl", None), (None, "answer")], 5, TEN + "kl", False, 2, id="parser-closes-within-grace"),
]


@pytest.mark.parametrize(("chunks", "grace", "thinking", "cut", "grace_tokens"), CASES)
def test_grace_window(chunks, grace, thinking, cut, grace_tokens):
    ts = ThinkingStream(budget=10, counter=len, grace=grace)
    reasoning, _, was_cut = feed_all(ts, chunks)
    assert (reasoning, was_cut, ts.grace_tokens) == (thinking, cut, grace_tokens)
    assert ts.thinking_tokens == len(thinking)
    assert ts.reasoning_text == thinking


def test_inline_thinking_that_closes_within_the_grace_is_not_cut():
    ts = ThinkingStream(budget=10, counter=len, grace=5)
    _, content, cut = feed_all(ts, [(None, "<think>" + TEN), (None, "kl</think>answer")])
    assert not cut and ts.state is State.ANSWER
    assert content == "<think>" + TEN + "kl</think>answer"
    assert (ts.thinking_tokens, ts.grace_tokens, ts.answer_tokens) == (12, 2, 6)


def test_inline_thinking_past_the_grace_is_cut_at_its_sentence_end():
    ts = ThinkingStream(budget=10, counter=len, grace=5)
    _, content, cut = feed_all(ts, [(None, "<think>" + TEN), (None, "k. lmnopq</think>answer")])
    assert cut and content == "<think>" + TEN + "k."
    assert ts.grace_tokens == 2


def test_grace_must_be_a_non_negative_int():
    with pytest.raises(ValueError, match="grace"):
        ThinkingStream(budget=10, grace=-1)


text = st.text(alphabet="ab .\n!?", min_size=1, max_size=80)


@given(text, st.integers(0, 30), st.integers(0, 20), st.lists(st.integers(1, 10), min_size=1, max_size=20))
def test_grace_bounds_and_prefix_property(body, budget, grace, sizes):
    ts = ThinkingStream(budget=budget, counter=len, grace=grace)
    chunks, i = [], 0
    for size in itertools.cycle(sizes):  # the whole body, in chunks of these sizes
        if i >= len(body):
            break
        chunks.append((body[i : i + size], None))
        i += size
    reasoning, _, cut = feed_all(ts, chunks)
    assert body.startswith(reasoning)
    assert ts.thinking_tokens == len(reasoning) <= budget + grace
    assert ts.grace_tokens == max(len(reasoning) - budget, 0)
    if cut and 0 < ts.grace_tokens < grace:  # stopped inside the grace: at a sentence or line end
        assert reasoning.endswith("\n") or reasoning.rstrip(" ")[-1] in ".!?"
    if not cut:
        assert reasoning == body[: len(reasoning)] and len(body) <= budget + grace

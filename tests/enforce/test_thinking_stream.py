"""Unit tests of ThinkingStream: each style, detection, tags split everywhere, edge inputs."""

from __future__ import annotations

import itertools

import pytest

from thinkbudget_litellm.enforce.thinking_stream import (
    State,
    StepResult,
    StreamStateError,
    Style,
    ThinkingStream,
)
from thinkbudget_litellm.enforce.token_count import count_tokens


def words(text: str) -> int:
    return len(text.split())


def run(stream: ThinkingStream, chunks: list[tuple[str | None, str | None]]) -> tuple[str, str, list[StepResult]]:
    """Feed until a cut (or the end, then finish); return forwarded reasoning, content, results."""
    results = []
    for r, c in chunks:
        res = stream.feed(r, c)
        results.append(res)
        if res.cut:
            break
    else:
        results.append(stream.finish())
    reasoning = "".join(res.reasoning_out or "" for res in results)
    content = "".join(res.content_out or "" for res in results)
    return reasoning, content, results


# -- parser style ---------------------------------------------------------------------


def test_parser_style_vllm_like_one_token_deltas() -> None:
    stream = ThinkingStream(budget=100, counter=words)
    deltas = [("Let", None), (" me", None), (" think", None), (None, "The"), (None, " answer")]
    reasoning, content, results = run(stream, deltas)
    assert (reasoning, content) == ("Let me think", "The answer")
    assert stream.style is Style.PARSER and stream.state is State.ANSWER
    assert (stream.thinking_tokens, stream.answer_tokens) == (3, 2)
    assert [r.thinking_done for r in results] == [False, False, False, True, True, True]
    assert stream.reasoning_text == "Let me think"


def test_parser_style_cut_truncates_the_overflowing_delta() -> None:
    stream = ThinkingStream(budget=4, counter=words)
    res1 = stream.feed("one two three", None)
    res2 = stream.feed(" four five six", None)
    assert not res1.cut and res2.cut
    # the longest prefix that fits: a trailing space counts no word
    assert res2.reasoning_out == " four " and res2.content_out is None
    assert stream.thinking_tokens == 4 and stream.state is State.CUT
    assert stream.reasoning_text == "one two three four "
    assert res2.thinking_done and res2.new_thinking_tokens == 1


def test_cut_drops_the_rest_of_the_chunk_including_content() -> None:
    stream = ThinkingStream(budget=2, counter=words)
    res = stream.feed("a b c", "answer")
    assert res.cut and res.reasoning_out == "a b " and res.content_out is None


def test_exactly_at_the_limit_then_closing_is_not_a_cut() -> None:
    stream = ThinkingStream(budget=3, counter=len)
    assert not stream.feed("abc", None).cut
    res = stream.feed(None, "ok")
    assert not res.cut and res.content_out == "ok" and stream.thinking_tokens == 3


def test_slack_extends_the_limit() -> None:
    stream = ThinkingStream(budget=3, counter=len, slack=2)
    assert stream.limit == 5
    assert not stream.feed("abcde", None).cut
    res = stream.feed("f", None)
    assert res.cut and res.reasoning_out is None and stream.thinking_tokens == 5


def test_budget_zero_cuts_on_the_first_counted_thinking() -> None:
    stream = ThinkingStream(budget=0, counter=words)
    assert not stream.feed("  ", None).cut  # whitespace counts 0 words: still within 0
    res = stream.feed("x", None)
    assert res.cut and res.reasoning_out is None and stream.reasoning_text == "  "


def test_reasoning_after_the_answer_began_still_counts_and_cuts() -> None:
    stream = ThinkingStream(budget=2, counter=len)
    stream.feed("ab", None)
    stream.feed(None, "answer")
    res = stream.feed("c", None)
    assert res.cut and stream.thinking_tokens == 2


def test_leading_whitespace_content_before_parser_reasoning_is_forwarded_with_it() -> None:
    stream = ThinkingStream(budget=10, counter=len)
    assert stream.feed(None, "\n").content_out is None  # held: could precede <think>
    res = stream.feed("hm", None)
    assert (res.reasoning_out, res.content_out) == ("hm", "\n")
    assert stream.style is Style.PARSER and stream.answer_tokens == 1


def test_parser_hint_with_leading_think_tag_is_still_inline() -> None:
    stream = ThinkingStream(budget=10, counter=len, style_hint=Style.PARSER)
    stream.feed(None, "<think>x</think>y")
    assert stream.style is Style.INLINE and (stream.thinking_tokens, stream.answer_tokens) == (1, 1)


# -- inline style ---------------------------------------------------------------------

INLINE = "\n<think>\nab c</think>\n\nThe answer </think> stays"


@pytest.mark.parametrize("hint", [None, Style.PARSER, Style.INLINE, Style.PREOPENED])
def test_inline_split_at_every_pair_of_positions(hint: Style | None) -> None:
    for i, j in itertools.combinations(range(1, len(INLINE)), 2):
        stream = ThinkingStream(budget=100, counter=len, style_hint=hint)
        chunks: list[tuple[str | None, str | None]] = [
            (None, INLINE[:i]),
            (None, INLINE[i:j]),
            (None, INLINE[j:]),
        ]
        reasoning, content, _ = run(stream, chunks)
        assert (reasoning, content) == ("", INLINE), (i, j)
        assert stream.reasoning_text == "\nab c", (i, j)
        assert stream.thinking_tokens == 5
        assert stream.answer_tokens == len("\n") + len("\n\nThe answer </think> stays")
        assert stream.style is Style.INLINE


def test_inline_cut_at_every_split_position() -> None:
    text = "<think>abcdefgh</think>answer"
    for i in range(1, len(text)):
        stream = ThinkingStream(budget=5, counter=len)
        _, content, results = run(stream, [(None, text[:i]), (None, text[i:])])
        assert content == "<think>abcde", i
        assert results[-1].cut and stream.thinking_tokens == 5


def test_one_char_chunks() -> None:
    stream = ThinkingStream(budget=100, counter=len)
    _, content, _ = run(stream, [(None, ch) for ch in INLINE])
    assert content == INLINE and stream.thinking_tokens == 5


def test_litellm_merge_reasoning_content_in_choices_shape() -> None:
    # merge_reasoning_content_in_choices: "<think>" + first reasoning, later reasoning as content,
    # then "</think>" prepended to the first real content
    chunks: list[tuple[str | None, str | None]] = [
        (None, "<think>" + "Okay"),
        (None, " so"),
        (None, " 2+2"),
        (None, "</think>" + "4"),
        (None, "."),
    ]
    stream = ThinkingStream(budget=100, counter=len)
    _, content, _ = run(stream, chunks)
    assert content == "<think>Okay so 2+2</think>4."
    assert stream.style is Style.INLINE and stream.reasoning_text == "Okay so 2+2"


def test_inner_open_tag_is_thinking_text() -> None:
    stream = ThinkingStream(budget=100, counter=len)
    stream.feed(None, "<think>a<think>b</think>c")
    assert stream.reasoning_text == "a<think>b"


# -- preopened style and detection ------------------------------------------------------


def test_preopened_hint_counts_content_before_close_as_thinking() -> None:
    stream = ThinkingStream(budget=100, counter=len, style_hint=Style.PREOPENED)
    _, content, _ = run(stream, [(None, "Hmm, "), (None, "ok</th"), (None, "ink>\n\nDone")])
    assert content == "Hmm, ok</think>\n\nDone"
    assert stream.style is Style.PREOPENED and not stream.provisional
    assert (stream.thinking_tokens, stream.answer_tokens, stream.reasoning_text) == (7, 6, "Hmm, ok")


def test_auto_detection_forwards_provisional_text_at_once_and_confirms_on_close() -> None:
    stream = ThinkingStream(budget=100, counter=len)
    res = stream.feed(None, "Hmm")
    assert res.content_out == "Hmm" and stream.provisional and stream.style is Style.PREOPENED
    assert res.new_thinking_tokens == 3 and not res.thinking_done
    stream.feed(None, "</think>x")
    assert not stream.provisional and stream.thinking_tokens == 3


def test_auto_detection_without_close_becomes_answer_at_finish() -> None:
    stream = ThinkingStream(budget=100, counter=len)
    stream.feed(None, "Just an answer")
    final = stream.finish()
    assert stream.style is None and stream.state is State.ANSWER
    assert (stream.thinking_tokens, stream.answer_tokens) == (0, 14)
    assert final.new_thinking_tokens == -14 and final.new_answer_tokens == 14
    assert stream.reasoning_text == ""


def test_auto_detection_applies_the_budget_to_preopened_thinking() -> None:
    stream = ThinkingStream(budget=5, counter=len)
    _, content, results = run(stream, [(None, "abc"), (None, "defg"), (None, "</think>answer")])
    assert content == "abcde" and results[-1].cut and stream.style is Style.PREOPENED


@pytest.mark.parametrize("hint", [Style.PARSER, Style.INLINE])
def test_parser_or_inline_hint_means_untagged_content_is_the_answer(hint: Style) -> None:
    stream = ThinkingStream(budget=2, counter=len, style_hint=hint)
    res = stream.feed(None, "a long answer")
    assert not res.cut and res.thinking_done and res.content_out == "a long answer"
    assert stream.style is None and stream.answer_tokens == 13


def test_preopened_hint_with_a_leading_tag_is_inline() -> None:
    stream = ThinkingStream(budget=10, counter=len, style_hint=Style.PREOPENED)
    stream.feed(None, "<think>a</think>b")
    assert stream.style is Style.INLINE and stream.reasoning_text == "a"


# -- empty input, finish(), errors --------------------------------------------------------


@pytest.mark.parametrize("chunk", [(None, None), ("", ""), ("", None), (None, "")])
def test_empty_chunks_do_nothing(chunk: tuple[str | None, str | None]) -> None:
    stream = ThinkingStream(budget=10, counter=len)
    assert stream.feed(*chunk) == StepResult()
    assert stream.state is State.START


def test_finish_flushes_a_held_partial_tag() -> None:
    stream = ThinkingStream(budget=100, counter=len)
    stream.feed(None, "<think>abc</thi")
    assert stream.held_text == "</thi"
    final = stream.finish()
    assert final.content_out == "</thi" and stream.reasoning_text == "abc</thi"
    assert stream.state is State.THINKING and stream.finished  # ended while thinking


def test_finish_flushes_held_start_text_as_answer_with_a_hint() -> None:
    stream = ThinkingStream(budget=100, counter=len, style_hint=Style.PARSER)
    stream.feed(None, " <thi")
    final = stream.finish()
    assert final.content_out == " <thi" and stream.answer_tokens == 5 and final.thinking_done


def test_finish_can_cut_when_held_text_overflows() -> None:
    stream = ThinkingStream(budget=3, counter=len, style_hint=Style.PREOPENED)
    stream.feed(None, "abc<")
    final = stream.finish()
    assert final.cut and final.content_out is None and stream.thinking_tokens == 3


def test_finish_of_an_empty_stream() -> None:
    stream = ThinkingStream(budget=3, counter=len)
    assert stream.finish() == StepResult(thinking_done=True)


def test_calls_after_finish_or_cut_raise() -> None:
    stream = ThinkingStream(budget=1, counter=len)
    assert stream.feed("ab", None).cut
    with pytest.raises(StreamStateError):
        stream.feed("x", None)
    stream.finish()
    with pytest.raises(StreamStateError):
        stream.finish()
    with pytest.raises(StreamStateError):
        stream.feed(None, "x")
    with pytest.raises(StreamStateError):
        stream.feed_continuation(None, "x")


def test_feed_continuation_merges_fields_into_content_and_counts_answer() -> None:
    stream = ThinkingStream(budget=1, counter=len)
    with pytest.raises(StreamStateError):
        stream.feed_continuation(None, "too early")
    stream.feed("ab", None)
    res = stream.feed_continuation("Fou", "r")
    assert res == StepResult(None, "Four", False, True, 0, 4)
    assert stream.feed_continuation(None, None) == StepResult(thinking_done=True)
    assert stream.answer_tokens == 4 and stream.thinking_tokens == 1


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"budget": -1}, ValueError),
        ({"budget": 1.5}, TypeError),
        ({"budget": True}, TypeError),
        ({"budget": 1, "slack": -2}, ValueError),
        ({"budget": 1, "counter": 3}, TypeError),
        ({"budget": 1, "style_hint": "parser"}, TypeError),
        ({"budget": 1, "open_tag": ""}, ValueError),
        ({"budget": 1, "open_tag": "<x>", "close_tag": "<x>"}, ValueError),
    ],
)
def test_constructor_rejects_bad_arguments(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        ThinkingStream(**kwargs)  # type: ignore[arg-type]


def test_non_string_fields_are_rejected_clearly() -> None:
    stream = ThinkingStream(budget=3, counter=len)
    with pytest.raises(TypeError, match="reasoning must be str"):
        stream.feed(["x"], None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="content must be str"):
        stream.feed(None, 5)  # type: ignore[arg-type]


def test_negative_counter_is_rejected() -> None:
    stream = ThinkingStream(budget=3, counter=lambda _t: -1)
    with pytest.raises(ValueError, match="< 0"):
        stream.feed("x", None)


def test_custom_tags() -> None:
    stream = ThinkingStream(budget=100, counter=len, open_tag="<reasoning>", close_tag="</reasoning>")
    _, content, _ = run(stream, [(None, "<reas"), (None, "oning>ab</reaso"), (None, "ning>ok")])
    assert content == "<reasoning>ab</reasoning>ok" and stream.reasoning_text == "ab"


def test_default_counter_is_tiktoken_per_fragment() -> None:
    stream = ThinkingStream(budget=1000)
    deltas = ["Let", " me", " think", " about", " it"]
    for d in deltas:
        stream.feed(d, None)
    assert stream.thinking_tokens == sum(count_tokens(d) for d in deltas) == 5

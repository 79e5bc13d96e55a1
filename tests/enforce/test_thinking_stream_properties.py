"""Property tests: ThinkingStream driven with random chunkings of every style.

The counters used here are additive and monotone (``len``, number of letters), so
"count of the unsplit text" is well defined and must equal the streamed count.

Reference semantics checked (``L = budget + slack``, ``T`` the thinking text,
``c`` the counter, ``P`` the longest prefix of ``T`` with ``c(P) <= L``):

* cut iff ``c(T) > L``; then the forwarded text is the original up to the end of ``P``
  and nothing after it; otherwise the forwarded text is the original, exactly.
* ``thinking_tokens == c(forwarded thinking) <= L`` after every step; at the end,
  ``c(T)`` (no cut) or ``c(P)`` (cut); ``answer_tokens`` is the count of the answer.
* before the cut, forwarded + held == received, at every step (nothing lost or
  duplicated); the cut step is the first whose received thinking exceeds ``L``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thinkbudget_litellm.enforce.thinking_stream import (
    CLOSE_TAG,
    OPEN_TAG,
    State,
    StepResult,
    StreamStateError,
    Style,
    ThinkingStream,
)

Counter = Callable[[str], int]


def letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


COUNTERS: list[Counter] = [len, letters]
ALPHABET = "ab <>/thinké\n🙂"


def _without(text: str, tag: str) -> str:
    while tag in text:
        text = text.replace(tag, "")
    return text


def _no_open_start(text: str) -> str:
    return "x" + text if text.lstrip().startswith(OPEN_TAG) else text


def longest_fit(text: str, counter: Counter, limit: int) -> str:
    best = 0
    for k in range(len(text) + 1):
        if counter(text[:k]) <= limit:
            best = k
    return text[:best]


@dataclass(frozen=True)
class Doc:
    """A response and where its thinking is. ``kind``: parser, inline, preopened,
    preopened_unclosed, none_auto, none_hinted."""

    kind: str
    hint: Style | None
    reasoning: str  # parser only: the reasoning field's whole text
    lead: str  # parser, inline: whitespace before the thinking opens (counted as answer)
    content: str  # the content field's whole text
    off: int  # content styles: where the thinking starts in content
    thinking: str
    answer: str  # text counted as answer (lead/whitespace included)

    def thinking_in_content(self) -> bool:
        return self.kind != "parser" and self.kind != "none_hinted"


text = st.text(alphabet=ALPHABET, max_size=40)
ws = st.text(alphabet=" \n\t", max_size=3)
hints = st.sampled_from([None, Style.PARSER, Style.INLINE, Style.PREOPENED])


@st.composite
def docs(draw: st.DrawFn) -> Doc:
    kind = draw(st.sampled_from(["parser", "inline", "preopened", "preopened_unclosed", "none_auto", "none_hinted"]))
    if kind == "parser":
        lead, reasoning, answer = draw(ws), draw(text.filter(bool)), draw(text)
        return Doc(kind, draw(hints), reasoning, lead, lead + answer, 0, reasoning, lead + answer)
    if kind == "inline":
        lead, thinking, answer = draw(ws), _without(draw(text), CLOSE_TAG), draw(text)
        content = lead + OPEN_TAG + thinking + CLOSE_TAG + answer
        return Doc(kind, draw(hints), "", lead, content, len(lead) + len(OPEN_TAG), thinking, lead + answer)
    if kind == "preopened":
        thinking = _no_open_start(_without(draw(text), CLOSE_TAG))
        answer = draw(text)
        hint = draw(st.sampled_from([None, Style.PREOPENED]))
        return Doc(kind, hint, "", "", thinking + CLOSE_TAG + answer, 0, thinking, answer)
    body = _no_open_start(_without(draw(text), CLOSE_TAG))
    if kind == "preopened_unclosed":
        return Doc(kind, Style.PREOPENED, "", "", body, 0, body, "")
    if kind == "none_auto":  # provisional thinking until finish()
        return Doc(kind, None, "", "", body, 0, body, "")
    hint = draw(st.sampled_from([Style.PARSER, Style.INLINE]))
    return Doc(kind, hint, "", "", body, 0, "", body)


def _split(draw: st.DrawFn, whole: str) -> list[str]:
    if not whole:
        return []
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(whole) - 1)), max_size=12))))
    bounds = [0, *[c for c in cuts if 0 < c < len(whole)], len(whole)]
    return [whole[a:b] for a, b in itertools.pairwise(bounds)]


EMPTIES: list[tuple[str | None, str | None]] = [(None, None), ("", ""), ("", None), (None, "")]


@st.composite
def chunkings(draw: st.DrawFn, doc: Doc) -> list[tuple[str | None, str | None]]:
    chunks: list[tuple[str | None, str | None]]
    if doc.kind == "parser":
        lead: list[tuple[str | None, str | None]] = [(None, p) for p in _split(draw, doc.lead)]
        reasoning: list[tuple[str | None, str | None]] = [(p, None) for p in _split(draw, doc.reasoning)]
        answer: list[tuple[str | None, str | None]] = [(None, p) for p in _split(draw, doc.content[len(doc.lead) :])]
        merge: bool = draw(st.booleans())
        if answer and merge:  # last reasoning and first answer in one delta
            reasoning[-1] = (reasoning[-1][0], answer.pop(0)[1])
        chunks = lead + reasoning + answer
    else:
        chunks = [(None, p) for p in _split(draw, doc.content)]
    for _ in range(draw(st.integers(0, 3))):
        chunks.insert(draw(st.integers(0, len(chunks))), draw(st.sampled_from(EMPTIES)))
    return chunks


def _forwarded_thinking(doc: Doc, fwd_reasoning: str, fwd_content: str) -> str:
    if doc.kind == "parser":
        return fwd_reasoning
    if doc.kind == "none_hinted":
        return ""
    n = min(max(len(fwd_content) - doc.off, 0), len(doc.thinking))
    return doc.thinking[:n]


def _received_thinking(doc: Doc, got_reasoning: str, got_content: str) -> str:
    return _forwarded_thinking(doc, got_reasoning, got_content)


@settings(max_examples=400, deadline=None)
@given(data=st.data(), budget=st.integers(0, 45), slack=st.integers(0, 5), which=st.sampled_from([0, 1]))
def test_random_chunkings(data: st.DataObject, budget: int, slack: int, which: int) -> None:
    count = COUNTERS[which]
    doc = data.draw(docs())
    chunks = data.draw(chunkings(doc))
    limit = budget + slack
    stream = ThinkingStream(budget, count, style_hint=doc.hint, slack=slack)

    fwd_r = fwd_c = got_r = got_c = ""
    new_thinking = new_answer = 0
    cut_step: int | None = None

    def take(res: StepResult) -> None:
        nonlocal fwd_r, fwd_c, new_thinking, new_answer
        fwd_r += res.reasoning_out or ""
        fwd_c += res.content_out or ""
        new_thinking += res.new_thinking_tokens
        new_answer += res.new_answer_tokens
        assert res.reasoning_out != "" and res.content_out != ""  # "nothing" is None

    for i, (r, c) in enumerate(chunks):
        got_r += r or ""
        got_c += c or ""
        res = stream.feed(r, c)
        take(res)
        assert stream.thinking_tokens <= limit
        if res.cut:
            cut_step = i
            # not early: what was received through this chunk exceeds the limit ...
            assert count(_received_thinking(doc, got_r, got_c)) > limit
            break
        assert fwd_r == got_r
        assert fwd_c + stream.held_text == got_c
        assert stream.thinking_tokens == count(_forwarded_thinking(doc, fwd_r, fwd_c))
        assert res.thinking_done == (stream.state in (State.ANSWER, State.CUT))
        # not late: only a possible partial tag is ever held back, so every step resolves
        # (and would cut on) all received thinking except at most that tail
        held = stream.held_text
        if stream.state is State.THINKING:
            assert len(held) < len(CLOSE_TAG) and CLOSE_TAG.startswith(held)
        elif stream.state is State.START:
            assert OPEN_TAG.startswith(held.lstrip())
        else:
            assert held == ""

    if cut_step is not None:
        with pytest.raises(StreamStateError):
            stream.feed(None, "more")
    final = stream.finish()
    take(final)
    if final.cut:
        cut_step = len(chunks)

    over = count(doc.thinking) > limit
    assert (cut_step is not None) == over
    kept = longest_fit(doc.thinking, count, limit) if over else doc.thinking
    if doc.kind == "parser":
        assert fwd_r == kept
        assert fwd_c == (doc.lead if over else doc.content)
    else:
        assert fwd_r == ""
        assert fwd_c == (doc.content[: doc.off + len(kept)] if over else doc.content)

    if doc.kind == "none_auto" and not over:  # provisional, never confirmed: it was the answer
        assert (stream.thinking_tokens, stream.answer_tokens) == (0, count(doc.content))
        assert stream.reasoning_text == "" and stream.style is None
    else:
        assert stream.thinking_tokens == count(kept)
        assert stream.reasoning_text == kept
        assert stream.answer_tokens == (count(doc.lead) if over else count(doc.answer))
    assert (new_thinking, new_answer) == (stream.thinking_tokens, stream.answer_tokens)

    expected_style = {
        "parser": Style.PARSER,
        "inline": Style.INLINE,
        "preopened": Style.PREOPENED,
        "preopened_unclosed": Style.PREOPENED,
        "none_auto": Style.PREOPENED if over else None,
        "none_hinted": None,
    }[doc.kind]
    if not doc.content and doc.kind != "parser":
        expected_style = None  # an empty response shows no style
    assert stream.style is expected_style
    assert stream.held_text == ""

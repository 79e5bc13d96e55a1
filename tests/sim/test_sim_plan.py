import dataclasses
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thinkbudget_litellm.sim.config import SimConfig, Style
from thinkbudget_litellm.sim.plan import (
    CLOSE_MARK,
    OPEN_MARK,
    Kind,
    Plan,
    natural_answer_tokens,
    natural_think_tokens,
    parse_prefix,
    plan_completion,
    prompt_digest,
    prompt_tokens,
    render,
)
from thinkbudget_litellm.sim.tokens import count_tokens

DIGEST = hashlib.sha256(b"x").digest()


def plan(
    style: Style = Style.PARSER,
    think: int = 50,
    answer: int = 20,
    budget: int | None = None,
    prefix: str | None = None,
    max_tokens: int = 10**6,
) -> Plan:
    return plan_completion(
        style=style,
        digest=DIGEST,
        think_tokens=think,
        answer_tokens=answer,
        budget=budget,
        prefix=None if prefix is None else parse_prefix(prefix),
        max_tokens=max_tokens,
    )


def test_lengths_are_deterministic_per_prompt_and_follow_the_configured_bounds() -> None:
    cfg = SimConfig()
    digests = [prompt_digest([{"role": "user", "content": f"q{i}"}]) for i in range(400)]
    thinks = [natural_think_tokens(d, cfg) for d in digests]
    answers = [natural_answer_tokens(d, cfg) for d in digests]
    assert thinks == [natural_think_tokens(d, cfg) for d in digests]
    assert all(cfg.think_min <= t <= cfg.think_max for t in thinks)
    assert all(cfg.answer_min <= a <= cfg.answer_max for a in answers)
    median = sorted(thinks)[200]
    assert 450 <= median <= 800  # lognormal around the configured median of 600
    assert len(set(thinks)) > 300
    fixed = dataclasses.replace(cfg, think_tokens=42, answer_tokens=7)
    assert {natural_think_tokens(d, fixed) for d in digests} == {42}
    assert {natural_answer_tokens(d, fixed) for d in digests} == {7}


def test_digest_ignores_extra_fields_but_not_text() -> None:
    a = prompt_digest([{"role": "user", "content": "hi", "name": "bob"}])
    assert a == prompt_digest([{"role": "user", "content": [{"type": "text", "text": "hi"}]}])
    assert a != prompt_digest([{"role": "user", "content": "hi!"}])


def test_prompt_tokens_count_text_plus_overhead() -> None:
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2+2?"}]
    assert prompt_tokens(msgs) == count_tokens("Be brief.") + count_tokens("What is 2+2?") + 2 * 3 + 3


@pytest.mark.parametrize("style", list(Style))
def test_styles_shape_the_plan(style: Style) -> None:
    p = plan(style)
    kinds = [x.kind for x in p.pieces]
    assert p.count(Kind.THINK) == 50 and p.count(Kind.ANSWER) == 20 and p.finish_reason == "stop"
    assert kinds.count(Kind.CLOSE) == 1 and kinds.count(Kind.OPEN) == (1 if style is Style.INLINE else 0)
    reasoning, content = render(p.pieces, style)
    if style is Style.PARSER:
        assert OPEN_MARK not in reasoning + content and CLOSE_MARK not in reasoning + content
        assert reasoning.startswith("Okay") and content.startswith("\n\nAnswer:")
        assert count_tokens(reasoning) == 50 and count_tokens(content) == 20
    elif style is Style.INLINE:
        assert content.startswith("<think>\nOkay") and "</think>\n\nAnswer:" in content
    else:
        assert content.startswith("Okay") and OPEN_MARK not in content and "</think>\n\nAnswer:" in content
    assert reasoning.rstrip().endswith((".", "?")) or content.split(CLOSE_MARK)[0].rstrip().endswith((".", "?"))


@settings(max_examples=60, deadline=None)
@given(think=st.integers(0, 400), budget=st.none() | st.integers(0, 500), style=st.sampled_from(list(Style)))
def test_native_budget_caps_thinking_then_closes_and_answers(think: int, budget: int | None, style: Style) -> None:
    p = plan(style, think=think, budget=budget)
    assert p.count(Kind.THINK) == (think if budget is None else min(think, budget))
    assert p.count(Kind.CLOSE) == 1 and p.count(Kind.ANSWER) == 20
    close_at = [x.kind for x in p.pieces].index(Kind.CLOSE)
    assert all(x.kind is Kind.ANSWER for x in p.pieces[close_at + 1 :])


@settings(max_examples=60, deadline=None)
@given(max_tokens=st.integers(1, 100), style=st.sampled_from(list(Style)))
def test_max_tokens_cuts_the_completion(max_tokens: int, style: Style) -> None:
    full = plan(style)
    p = plan(style, max_tokens=max_tokens)
    assert p.pieces == full.pieces[:max_tokens]
    assert p.finish_reason == ("length" if max_tokens < len(full.pieces) else "stop")


@pytest.mark.parametrize("style", list(Style))
def test_continuing_an_unclosed_prefix_thinks_for_the_rest_then_answers(style: Style) -> None:
    full = plan(style, think=120)
    thinking = [x.text for x in full.pieces if x.kind is Kind.THINK]
    opened = OPEN_MARK if style is Style.INLINE else ""
    cont = plan(style, think=120, prefix=opened + "".join(thinking[:40]))
    assert cont.count(Kind.OPEN) == 0 and cont.count(Kind.CLOSE) == 1
    assert cont.count(Kind.THINK) == 80 and cont.count(Kind.ANSWER) == 20
    assert [x.text for x in cont.pieces if x.kind is Kind.THINK] == thinking[40:]  # the same text goes on
    assert [x.text for x in cont.pieces if x.kind is Kind.ANSWER] == [
        x.text for x in full.pieces if x.kind is Kind.ANSWER
    ]


def test_continuing_a_closed_prefix_only_answers() -> None:
    prefix = "<think>\nOkay, I will stop here.\n</think>\n\n"
    p = plan(Style.PREOPENED, prefix=prefix)
    assert [x.kind for x in p.pieces] == [Kind.ANSWER] * 19  # the blank line was in the prefix
    assert p.pieces == plan(Style.PREOPENED).pieces[-19:]
    assert plan(Style.PREOPENED, prefix="x</think>").pieces[0].text == "\n\n"


def test_prefix_past_the_natural_length_closes_at_once() -> None:
    p = plan(Style.PREOPENED, think=10, prefix=" word" * 30)
    assert [x.kind for x in p.pieces][:1] == [Kind.CLOSE] and p.count(Kind.THINK) == 0


def test_parse_prefix_counts_tokens_after_the_open_marker() -> None:
    assert parse_prefix("<think>\nOkay, so") == parse_prefix("<think>\nOkay, so")
    pre = parse_prefix("<think>\nOkay, so")
    assert (pre.closed, pre.think_tokens, pre.stream_position) == (False, 4, 3)
    assert parse_prefix("a</think>\n\n").closed

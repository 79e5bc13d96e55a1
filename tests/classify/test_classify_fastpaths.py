"""The shortcuts taken for speed agree with the plain definitions they replace."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thinkbudget_litellm.classify import classify_rules, learned, tokens
from thinkbudget_litellm.classify import lexicon as lx
from thinkbudget_litellm.classify.arithmetic import _OPERATOR_HINTS, _has_operator, arithmetic_level, has_digit
from thinkbudget_litellm.classify.instruction import (
    LINE_LIMIT,
    PARAGRAPH_LIMIT,
    _looks_like_data,
    _paragraph_instruction,
    _prose_line,
)
from thinkbudget_litellm.classify.scoring import CJK_CHAR, is_cjk

FAST = settings(max_examples=200, deadline=None)
mathy = st.text(alphabet="0123456789 +-*/x^×÷·^()abc٣\n", max_size=60) | st.text(max_size=60)
cue_words = st.lists(st.sampled_from([*sorted(lx.CHAT_OR_STOP | lx._KEYS), "zzz", "qqq"]), max_size=30)


@FAST
@given(mathy)
def test_digit_and_operator_probes_match_their_definitions(text: str) -> None:
    assert has_digit(text) == (re.search(r"[0-9]", text) is not None)
    assert _has_operator(text) == any(op in text for op in _OPERATOR_HINTS)


@FAST
@given(st.text(max_size=500), st.floats(0.0, 4.5))
def test_arithmetic_with_the_lowered_text_is_arithmetic_without_it(text: str, floor: float) -> None:
    kinds = lx.match_cues(lx.normalise_words(text))
    assert arithmetic_level(text, kinds, floor, text.lower()) == arithmetic_level(text, kinds, floor)


@FAST
@given(cue_words)
def test_no_chat_cue_without_a_chat_key(words: list[str]) -> None:
    if lx.CHAT in lx.match_cues(words):
        assert not lx.CHAT_KEYS.isdisjoint(words)


@FAST
@given(st.text(max_size=300))
def test_lowered_words_are_normalised_words(text: str) -> None:
    assert lx.lowered_words(text.lower()) == lx.normalise_words(text)


def _edge_lines_reference(first: str, last: str) -> str:
    """The plain definition: prose first and last lines, each kept once, in order."""
    kept = [
        line for line in (first, last) if len(line) <= LINE_LIMIT and not _looks_like_data(line) and _prose_line(line)
    ]
    return "\n".join(dict.fromkeys(kept))


line = st.sampled_from(["thanks a lot", "what is wrong here?", "2024-01-01 ERROR x", "  at x", "x" * 300, "ok", ""])


@FAST
@given(st.lists(line, min_size=2, max_size=6), st.booleans())
def test_long_paragraph_keeps_its_prose_edge_lines_once(lines: list[str], pad: bool) -> None:
    block = "\n".join(lines) + ("\n" + "y " * 250 + "\n" + lines[-1] if pad else "")
    if len(block) > PARAGRAPH_LIMIT:
        first, last = block[: block.find("\n")], block[block.rfind("\n") + 1 :]
        assert _paragraph_instruction(block) == _edge_lines_reference(first, last)


def test_features_read_like_a_frozen_dict() -> None:
    result = classify_rules(
        [{"role": "user", "content": "Write a sort in Rust"}, {"role": "user", "content": "and why?"}]
    )
    features = result.features
    as_dict = dict(features)
    assert len(features) == len(as_dict) and list(features) == list(as_dict)
    assert features == as_dict and as_dict["intent"] == features["intent"]
    assert "Features(" in repr(features)
    with pytest.raises(TypeError):
        features["intent"] = "x"  # type: ignore[index]
    with pytest.raises(KeyError):
        features["no such feature"]


constraint_words = st.lists(
    st.sampled_from(
        [*sorted(lx.CONSTRAINT_WORDS), "no", "more", "than", "at", "most", "least", "a", "day", "week", "x"]
    ),
    max_size=25,
)


@FAST
@given(constraint_words)
def test_constraint_count_matches_its_definition(words: list[str]) -> None:
    padded = " " + " ".join(words) + " "
    expected = len(lx.CONSTRAINT_WORDS.intersection(words)) + sum(p in padded for p in lx.CONSTRAINT_PHRASES)
    assert lx.constraint_cues(words) == expected


_CJK_LEADS = (b"\xe3", b"\xe4", b"\xe5", b"\xe6", b"\xe7", b"\xe8", b"\xe9")
# ASCII and other decimal digits (Arabic-Indic, Devanagari, fullwidth, mathematical), CJK, lone surrogates
odd_text = st.text(alphabet="0123456789 ab-*.\n٣٤۵५８𝟗一語ー、\u3000\u9fff\u2fff\ua000é—\ud800", max_size=80) | st.text(
    max_size=80
)


@FAST
@given(odd_text)
def test_cjk_probe_is_the_utf8_lead_byte_test(text: str) -> None:
    raw = text.encode("utf-8", "surrogatepass")
    assert is_cjk(text) == any(lead in raw for lead in _CJK_LEADS)
    assert (CJK_CHAR.search(text, 0, 20) is not None) == is_cjk(text[:20])


@FAST
@given(odd_text)
def test_digit_count_is_the_regex_count(text: str) -> None:
    assert learned._digit_count(text, text.isascii()) == len(re.findall(r"\d", text))


@FAST
@given(st.text(alphabet=" \t\n\x0c\x1c\x85\u3000\u2028-*1234.ab٣", max_size=30) | st.text(max_size=30))
def test_list_item_probe_is_the_regex_search(text: str) -> None:
    assert learned._has_list_item(text) == (learned._LIST_ITEM.search(text) is not None)


@FAST
@given(st.text(alphabet="ab é'.,-—\u3000\u2028\x1c\n\tİΣ", max_size=60) | st.text(max_size=80), st.integers(1, 20))
def test_first_and_last_words_split_off_only_what_they_keep(text: str, n: int) -> None:
    words = lx.normalise_words(text)
    assert lx.normalise_words(text, n) == words[:n]
    assert tokens.last_words(text, n) == words[-n:]


percenty = st.text(alphabet="0123456789 %$.,^*()ofdevnот!x", max_size=40) | st.text(max_size=40)


@FAST
@given(percenty)
def test_percentages_and_powers_are_looked_for_only_where_they_can_be(text: str) -> None:
    from thinkbudget_litellm.classify import arithmetic as ar

    # without the probes: every _PERCENT match has a _PERCENT_OF match in it, every _POWER match a ^ or **
    assert (ar._PERCENT.search(text) is None) or ar._PERCENT_OF.search(text) is not None
    assert (ar._POWER.search(text) is None) or ("^" in text or "**" in text)


@FAST
@given(st.text(alphabet="abcAΣσİIé ", max_size=12), st.text(alphabet="abcAΣσİIé 7", max_size=12), st.integers(0, 12))
def test_lowered_text_is_cut_where_lower_casing_is_position_for_position(a: str, b: str, cut: int) -> None:
    """The condition under which arithmetic_level reuses the lowered text: the head of the lowered text
    is then the lowered head (capital sigma and dotted I are the exceptions)."""
    text = a + b
    if text.isascii() or (len(text.lower()) == len(text) and "Σ" not in text):
        assert text.lower()[:cut] == text[:cut].lower()

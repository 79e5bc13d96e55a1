"""Client-side text handling, answer scoring and counter parsing of the savings benchmark."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from benchmarks.workloads.results import (
    RequestResult,
    StreamText,
    answer_matches,
    counter_joules,
    share_by_weight,
    split_thinking,
)


@pytest.mark.parametrize(
    ("reasoning", "content", "expected"),
    [
        ("think hard", "42", ("think hard", "42")),  # reasoning parser
        ("", "<think>\nhmm</think>\n\n42", ("\nhmm", "\n\n42")),  # inline
        ("", "hmm</think>42", ("hmm", "42")),  # pre-opened template
        ("", "just an answer", ("", "just an answer")),
    ],
)
def test_split_thinking(reasoning: str, content: str, expected: tuple[str, str]) -> None:
    assert split_thinking(reasoning, content) == expected


def test_stream_text_parser_style() -> None:
    text = StreamText()
    assert text.add("let me", None) == (True, False)
    assert text.add(None, "\n\n") == (True, False)  # whitespace is not yet an answer token
    assert text.add(None, "Lima") == (True, True)
    assert text.texts() == ("let me", "\n\nLima")


def test_stream_text_inline_style_with_a_split_closing_tag() -> None:
    text = StreamText(inline=True)
    assert text.add(None, "<think>\nhmm </th") == (True, False)
    assert text.add(None, "ink>\n\n") == (True, False)
    assert text.add(None, "Lima") == (True, True)
    assert text.texts() == ("\nhmm ", "\n\nLima")


@pytest.mark.parametrize(
    ("expected", "answer", "ok"),
    [
        ("142885", "The product is 142,885.", True),
        ("142885", "It is 1428850.", False),
        ("4", "2 + 2 = 4", True),
        ("4", "about 4.5", False),
        ("Lima", "The capital of Peru is lima!", True),
        ("Lima", "Limassol", False),
        ("", "anything", False),
    ],
)
def test_answer_matches(expected: str, answer: str, ok: bool) -> None:
    assert answer_matches(expected, answer) is ok


def test_counter_joules_sums_gpus_in_millijoules() -> None:
    text = (
        "# HELP DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION x\n# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter\n"
        'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="0"} 1500.0\n'
        'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="1"} 500.0\n'
        'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION_OTHER{gpu="0"} 9e9\n'
        'DCGM_FI_DEV_POWER_USAGE{gpu="0"} 300.0\n'
    )
    assert counter_joules(text) == pytest.approx(2.0)
    assert counter_joules("vllm:generation_tokens_total 5\n") is None


@given(st.floats(0, 1e6), st.lists(st.floats(0, 1e4), max_size=20))
@example(1.5, [5e-324])  # a subnormal weight: total * w rounded to 2 x the weight (found by Hypothesis)
def test_share_by_weight_adds_up(total: float, weights: list[float]) -> None:
    shares = share_by_weight(total, weights)
    assert len(shares) == len(weights)
    if weights:
        assert sum(shares) == pytest.approx(total, rel=1e-9, abs=1e-6)


def test_share_by_weight_rejects_negative_weights() -> None:
    with pytest.raises(ValueError):
        share_by_weight(1.0, [1.0, -1.0])


def test_result_round_trips_and_ignores_unknown_fields() -> None:
    row = RequestResult("mix", "baseline", "r1", "i1", "simple", "fact", thinking_tokens=5)
    assert RequestResult.from_dict({**row.as_dict(), "future_field": 1}) == row


def test_proc_stat_cpu_seconds_tolerates_odd_command_names() -> None:
    from benchmarks.stream_bench import cpu_seconds_from_stat

    stat = "1234 (litellm (x) y) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0 100 0 0"
    assert cpu_seconds_from_stat(stat, 100.0) == 3.0

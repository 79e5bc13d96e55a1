"""Properties that hold for any input, checked with hypothesis.

The monotone properties follow from the rubric:
- an acknowledgement after material adds no work
- pasted material with a trivial ask is still trivial work
- bigger numbers make the same arithmetic at least as hard
- a follow-up is at least as hard as the question it follows
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thinkbudget_litellm.classify import Classification, level_to_tier
from thinkbudget_litellm.tiers import Tier

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "datasets"))
import materials

from thinkbudget_litellm.classify import classify_rules

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(result: Classification) -> None:
    assert isinstance(result.tier, Tier)
    assert 0.0 <= result.score <= 4.5
    assert result.tier == level_to_tier(result.score)
    assert result.reasons


# --- never crashes ------------------------------------------------------------------------------
@FAST
@given(st.text(max_size=3000))
def test_any_text_is_classified(text: str) -> None:
    _check(classify_rules(text))


json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=200)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=10), inner, max_size=4)
        # message-shaped keys with values of any type ({"type": [...]}, {"role": 5}, ...)
        | st.dictionaries(st.sampled_from(["type", "text", "role", "content", "image_url", "messages"]), inner)
    ),
    max_leaves=20,
)
content = st.one_of(
    st.text(max_size=500),
    st.none(),
    st.lists(
        st.one_of(
            st.fixed_dictionaries({"type": st.just("text"), "text": st.text(max_size=300)}),
            st.fixed_dictionaries(
                {
                    "type": st.just("image_url"),
                    "image_url": st.fixed_dictionaries({"url": st.just("https://example.com/x.png")}),
                }
            ),
            json_value,
        ),
        max_size=4,
    ),
    json_value,
)
message = st.one_of(
    st.fixed_dictionaries(
        {
            "role": st.sampled_from(["user", "assistant", "system", "tool", "developer", "weird"]),
            "content": content,
        }
    ),
    json_value,
)


@FAST
@given(st.lists(message, max_size=8))
def test_any_message_list_is_classified(messages: list[Any]) -> None:
    _check(classify_rules(messages))


@FAST
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400), st.integers(min_value=0, max_value=3))
def test_classification_is_deterministic(text: str, turns: int) -> None:
    messages = [{"role": "user", "content": f"{text} {i}"} for i in range(turns)] + [{"role": "user", "content": text}]
    assert classify_rules(messages) == classify_rules(messages)


# --- monotone-ish properties --------------------------------------------------------------------
TRIVIAL = ["hi", "hello!", "ok", "thanks", "good morning", "cool, got it", "merci", "danke", "спасибо"]


@given(st.sampled_from(TRIVIAL), st.sampled_from([" thanks!", " thank you", " :)", " ok"]))
def test_appending_thanks_to_a_trivial_prompt_stays_trivial(prompt: str, suffix: str) -> None:
    assert classify_rules(prompt).tier == Tier.TRIVIAL
    assert classify_rules(prompt + suffix).tier == Tier.TRIVIAL


def _material(kind: str, size: int, seed: int) -> str:
    if kind == "app log":
        return materials.app_log(size // 70 + 2, seed=seed)
    if kind == "access log":
        return materials.access_log(size // 150 + 2, seed=seed)
    if kind == "document":
        return materials.long_document(size // 400 + 1, seed=seed)
    code = materials.PY_MODULE
    return "```python\n" + (code + "\n\n") * (size // len(code) + 1) + "```"


@FAST
@given(
    st.sampled_from(["app log", "access log", "document", "code"]),
    st.integers(min_value=400, max_value=60_000),
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from(["thanks!", "ok thanks", "got it, cheers", "never mind, fixed it. thanks"]),
)
def test_material_with_an_acknowledgement_is_trivial(kind: str, size: int, seed: int, ack: str) -> None:
    assert classify_rules(_material(kind, size, seed) + "\n\n" + ack).tier == Tier.TRIVIAL


@FAST
@given(
    st.sampled_from(["app log", "access log", "code"]),
    st.integers(min_value=400, max_value=60_000),
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from(["what language is this?", "What's the timestamp on the first line?", "thanks!"]),
)
def test_padding_material_under_a_trivial_ask_never_goes_above_simple(
    kind: str, size: int, seed: int, ask: str
) -> None:
    assert classify_rules(_material(kind, size, seed) + "\n\n" + ask).tier.rank <= Tier.SIMPLE.rank


def _number(digits: int, rng: random.Random) -> str:
    """A number of exactly ``digits`` digits that is not round (538 x 400 is one-digit work)."""
    if digits == 1:
        return str(rng.randint(2, 9))
    return str(rng.randint(10 ** (digits - 2), 10 ** (digits - 1) - 1)) + str(rng.randint(1, 9))


@FAST
@given(st.integers(min_value=1, max_value=12), st.integers(min_value=0, max_value=2**32))
def test_multiplication_gets_no_easier_with_more_digits(digits: int, seed: int) -> None:
    rng = random.Random(seed)
    small = classify_rules(f"What is {_number(digits, rng)} * {_number(digits, rng)}?")
    big = classify_rules(f"What is {_number(digits + 1, rng)} * {_number(digits + 1, rng)}?")
    assert small.tier.rank <= big.tier.rank


@FAST
@given(st.integers(min_value=1, max_value=30), st.integers(min_value=0, max_value=2**32))
def test_primality_gets_no_easier_with_more_digits(digits: int, seed: int) -> None:
    rng = random.Random(seed)
    small = classify_rules(f"Is {_number(digits, rng)} prime?")
    big = classify_rules(f"Is {_number(digits + 3, rng)} prime?")
    assert small.tier.rank <= big.tier.rank


QUESTIONS = [
    "capital of Norway?",
    "Explain how a hash map handles collisions.",
    "Write a function that merges k sorted lists in O(n log k).",
    "Design a rate limiter for 20k requests per second.",
    "Prove that the sum of the first n odd numbers is n^2.",
]


@given(
    st.sampled_from(QUESTIONS),
    st.sampled_from(
        [
            "and for n = 10^6?",
            "what about in Rust?",
            "and then?",
            "make it shorter",
            "what if the input is empty?",
        ]
    ),
)
def test_follow_up_is_at_least_as_hard_as_its_question(question: str, follow: str) -> None:
    messages = [
        {"role": "user", "content": question},
        {"role": "assistant", "content": "Sure: ..."},
        {"role": "user", "content": follow},
    ]
    assert classify_rules(messages).tier.rank >= classify_rules(question).tier.rank

"""Chat-shaped input: multi-turn context, multimodal parts, tool calls, malformed input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from thinkbudget_litellm.classify import classify_rules
from thinkbudget_litellm.classify.conversation import read_conversation
from thinkbudget_litellm.tiers import Task, Tier

ROOT = Path(__file__).resolve().parents[2]


def u(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def a(content: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": content}


# --- multi-turn inheritance ---------------------------------------------------------------------
def test_follow_up_inherits_algorithmic_difficulty() -> None:
    messages = [
        u("My O(n^2) solution for counting pairs with a[i] + a[j] == k passes for n = 1000."),
        a("For n = 1000 that is about 500k pair checks, which is fine."),
        u("and for n = 10^6?"),
    ]
    result = classify_rules(messages)
    assert result.tier == Tier.COMPLEX
    assert result.features["inherited_level"] == 3.0
    assert any("follow-up" in r for r in result.reasons)
    # alone, the same words are not complex
    assert classify_rules("and for n = 10^6?").tier.rank < Tier.COMPLEX.rank


def test_follow_up_inherits_proof_thread() -> None:
    messages = [
        u("Prove that every tree with n vertices has n - 1 edges."),
        a("By induction on n: a tree with n >= 2 vertices has a leaf; removing it..."),
        u("ok and what about forests with k components?"),
    ]
    assert classify_rules(messages).tier == Tier.DEEP


def test_chain_of_short_follow_ups_still_leans_on_the_question() -> None:
    messages = [
        u("Design a job scheduler for 5k jobs/s with retries and per-tenant quotas."),
        a("A partitioned queue with leases..."),
        u("what about priorities?"),
        a("Add a priority field and weighted fair queuing..."),
        u("and deadlines?"),
    ]
    assert classify_rules(messages).tier == Tier.COMPLEX


def test_thanks_after_a_hard_thread_stays_trivial() -> None:
    messages = [
        u("Derive the closed form of the Fibonacci numbers from the generating function."),
        a("F(x) = x / (1 - x - x^2) ... so F_n = (phi^n - psi^n) / sqrt(5)."),
        u("perfect, thank you!"),
    ]
    result = classify_rules(messages)
    assert result.tier == Tier.TRIVIAL
    assert result.task == Task.CHAT


def test_new_simple_question_after_a_hard_thread_is_not_inherited() -> None:
    messages = [
        u("Prove that there are infinitely many primes."),
        a("Suppose finitely many..."),
        u("Who was Euclid?"),
    ]
    assert classify_rules(messages).tier == Tier.SIMPLE


def test_follow_up_on_a_simple_thread_stays_simple() -> None:
    messages = [u("capital of Kenya?"), a("Nairobi."), u("and of Ghana?")]
    assert classify_rules(messages).tier == Tier.SIMPLE


def test_system_prompt_does_not_raise_a_greeting() -> None:
    system = {
        "role": "system",
        "content": "You are an expert in distributed systems design and formal proofs.",
    }
    assert classify_rules([system, u("hello!")]).tier == Tier.TRIVIAL


def test_request_in_system_prompt_only_is_classified() -> None:
    assert classify_rules([{"role": "system", "content": "Prove that sqrt(5) is irrational."}]).tier == Tier.DEEP


# --- multimodal parts ---------------------------------------------------------------------------
def image(url: str = "https://example.com/a.png") -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}}


def test_multimodal_text_parts_are_read() -> None:
    messages = [u([{"type": "text", "text": "Prove the identity in this picture for all n."}, image()])]
    result = classify_rules(messages)
    assert result.tier == Tier.DEEP
    assert result.features["images"] == 1


def test_image_alone_is_at_least_simple() -> None:
    result = classify_rules([u([image()])])
    assert result.tier == Tier.SIMPLE
    assert "image" in " ".join(result.reasons)


def test_image_with_chit_chat_stays_trivial() -> None:
    assert classify_rules([u([image(), {"type": "text", "text": "lol nice"}])]).tier == Tier.TRIVIAL


def test_several_text_parts_are_joined() -> None:
    parts = [
        {"type": "text", "text": "Here is my function:"},
        {"type": "text", "text": "```python\ndef f(xs):\n    return xs[len(xs)]\n```"},
        {"type": "text", "text": "Why does it raise IndexError?"},
    ]
    assert classify_rules([u(parts)]).tier == Tier.COMPLEX


# --- tools --------------------------------------------------------------------------------------
def test_agent_turn_after_tool_results_keeps_the_user_request() -> None:
    messages = [
        {"role": "system", "content": "You are a coding agent."},
        u("The nightly build fails. Find out why and fix it."),
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "shell", "arguments": '{"cmd": "make"}'},
                }
            ],
        },
        {
            "role": "tool",
            "tool_call_id": "c1",
            "content": "gcc: error: undefined reference to `parse_config'",
        },
    ]
    result = classify_rules(messages)
    assert result.tier == Tier.COMPLEX
    assert result.features["tool_results"] == 1


def test_tool_lookup_for_a_simple_question_stays_simple() -> None:
    messages = [
        u("What time is it in Lisbon?"),
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "t",
                    "type": "function",
                    "function": {"name": "clock", "arguments": '{"tz": "Europe/Lisbon"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "t", "content": '{"time": "14:05"}'},
    ]
    assert classify_rules(messages).tier == Tier.SIMPLE


# --- input handling -----------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [None, 42, 3.5, b"bytes", {1, 2}, object()])
def test_wrong_top_level_types_raise_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="prompt string or a list of chat messages"):
        classify_rules(bad)


def test_mapping_without_messages_raises_value_error() -> None:
    with pytest.raises(ValueError):
        classify_rules({"model": "x"})
    with pytest.raises(ValueError):
        classify_rules({"messages": "not a list"})


def test_request_body_and_single_message_are_accepted() -> None:
    assert classify_rules({"model": "m", "messages": [u("hi")]}).tier == Tier.TRIVIAL
    assert classify_rules(u("Prove Fermat's little theorem.")).tier == Tier.DEEP


@pytest.mark.parametrize(
    "messages",
    [
        [],
        [None, 3, "plain string turn"],
        [{"role": "user"}],
        [{"role": "user", "content": None}],
        [{"role": "user", "content": 17}],
        [
            {
                "role": "user",
                "content": [None, 5, {"type": "text"}, {"type": "text", "text": 9}, {"text": "hi"}],
            }
        ],
        [{"role": 5, "content": "hello"}],
        [{"content": "no role at all"}],
        [{"role": "assistant", "content": "only an assistant turn"}],
        [{"role": "tool", "content": {"weird": "dict"}}],
        [{"role": "user", "content": [{"type": ["unhashable"], "text": "x"}, {"type": {"a": 1}}]}],
        [{"role": ["unhashable"], "content": "hello"}],
        ({"role": "user", "content": "a tuple of messages"},),
    ],
)
def test_malformed_messages_do_not_crash(messages: Any) -> None:
    result = classify_rules(messages)
    assert isinstance(result.tier, Tier)


def test_empty_prompt_is_trivial() -> None:
    assert classify_rules("").tier == Tier.TRIVIAL
    assert classify_rules("   \n ").tier == Tier.TRIVIAL
    assert classify_rules([]).reasons == ("empty prompt",)


def test_conversation_reader_bounds_context() -> None:
    many = [u(f"question {i}") for i in range(50)] + [u("last")]
    conv = read_conversation(many)
    assert conv.ask == "last"
    assert conv.context == ("question 49", "question 48", "question 47")


# --- determinism --------------------------------------------------------------------------------
def test_same_input_same_output() -> None:
    prompt = [u("Design a cache for 20k rps."), a("..."), u("and make it multi-region")]
    assert classify_rules(prompt) == classify_rules(prompt)


def test_output_does_not_depend_on_the_hash_seed() -> None:
    script = (
        "from thinkbudget_litellm.classify import classify\n"
        "for p in ['Find the bug and explain the fix: x = [1,2,3]; print(x[3])', "
        "'Plan a 3-day trip to Rome under 600 EUR, no museums on Monday, vegetarian', "
        "'Danke! Das war hilfreich.', 'Is 1000003 prime?']:\n"
        "    c = classify(p)\n"
        "    print(c.tier, c.task, c.score, c.reasons, sorted(c.features.items()), c.probabilities)\n"
    )
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        outputs.add(proc.stdout)
    assert len(outputs) == 1

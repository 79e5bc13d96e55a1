"""Native enforcement (``thinking_token_budget``) on a real vLLM behind the real proxy, with a
template that strips reasoning from assistant messages (DeepSeek-R1 style) and one that keeps it,
streaming and not (issue 13, deliverable 3 and the parts of 4 that need no handler change).

What the engine does, as observed on vLLM 0.32.0 (CPU build) with the generation prompt
``<｜Assistant｜><think>\\n``: the budget counts from the last ``<think>`` in the prompt, the ``\\n``
included, so budget 32 yields 31 reasoning tokens, then the forced ``</think>``; the answer then
runs to ``max_tokens`` (budget + the client's own ``max_tokens``) because EOS is forbidden here.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.real_engine.client import (
    ANSWER_ROOM,
    DEEP,
    chat,
    engine_reasoning_tokens,
    record,
    wait_generation_delta,
)
from tests.real_engine.conftest import MAX_MODEL_LEN, TEMPLATES, RealStack

pytestmark = [pytest.mark.real_engine, pytest.mark.proxy]

BUDGET = 32  # the trivial tier in the proxy's budgets
ENGINE_REASONING = BUDGET - 1  # the generation prompt's "\n" after <think> counts against the budget
# Our own count of the thinking (the engine reports reasoning_tokens 0 when the template pre-opens
# <think>) is tiktoken's cl100k over the text unless the engine returned its ids: on this tiny random
# model it was 36 for the engine's 31. With the ids it is exact (test_record_counts_engine_tokens).
OWN_COUNT_TOLERANCE = 8


@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
@pytest.mark.parametrize("template", TEMPLATES)
def test_budget_caps_reasoning_then_answers_and_is_recorded(real: RealStack, template: str, stream: bool) -> None:
    model = f"tiny-{template}"
    reference = chat(real, model, stream=False)  # the same seeded request: the engine's own ids
    assert reference.status == 200, reference.text
    before = real.generation_tokens(template)
    reply = chat(real, model, stream=stream)
    assert reply.status == 200, reply.text
    assert not reply.errors, reply.errors
    assert reply.headers["x-thinkbudget-tier"] == "trivial"
    assert reply.headers["x-thinkbudget-budget"] == str(BUDGET)
    assert reply.headers["x-thinkbudget-enforcement"] == "native"

    # the engine: at most the budget of reasoning tokens (exactly budget - 1 here), one forced </think>
    assert engine_reasoning_tokens(real, reference) == ENGINE_REASONING
    assert reference.token_ids is not None and reference.token_ids.count(real.model.think_close_id) == 1
    assert reply.reasoning == reference.reasoning  # what this client saw is that capped reasoning
    if stream:  # LiteLLM drops the ids of chunks whose text is empty (partial UTF-8): a lower bound
        assert 0 < reply.reasoning_chunk_ids <= ENGINE_REASONING
    # then the answer, in content, until max_tokens = budget + the client's own max_tokens
    assert reply.content, "no answer in content"
    assert reply.finish_reason == "length"
    completion = BUDGET + ANSWER_ROOM
    assert reply.usage["completion_tokens"] == completion
    # vLLM counts reasoning only between <think> and </think> in the output: 0 with this template
    assert reply.usage["completion_tokens_details"]["reasoning_tokens"] == 0
    # the engine generated what the client received, and nothing more
    assert wait_generation_delta(real, template, before, completion) == completion

    row = record(real, reply.call_id)
    assert (row["tier"], row["budget"], row["enforcement"], row["status"]) == ("trivial", BUDGET, "native", "success")
    assert row["extra"].get("engine_capped") is True
    assert row["thinking_tokens"] > 0  # our own count, not the engine's 0
    assert abs(row["thinking_tokens"] - ENGINE_REASONING) <= OWN_COUNT_TOLERANCE, row["thinking_tokens"]
    if not stream:
        assert reply.headers["x-thinkbudget-thinking-tokens"] == str(row["thinking_tokens"])


def test_record_counts_engine_tokens(real: RealStack) -> None:
    """With the engine's ids (``return_token_ids``) the record counts its tokens exactly: the ids
    before its ``</think>``, not our tiktoken approximation of the text."""
    reply = chat(real, "tiny-strips")
    assert record(real, reply.call_id)["thinking_tokens"] == engine_reasoning_tokens(real, reply)


@pytest.mark.parametrize(
    ("template", "stream"), [("strips", False), ("keeps", True)], ids=["strips-nonstream", "keeps-stream"]
)
def test_deep_budget_is_fitted_to_the_window_not_refused(real: RealStack, template: str, stream: bool) -> None:
    """Budget 8192 on a 4096-token window: the proxy fits max_tokens to model_info.max_model_len."""
    answer_room = 20
    before = real.generation_tokens(template)
    reply = chat(real, f"tiny-{template}", prompt=DEEP, stream=stream, max_tokens=answer_room)
    assert reply.status == 200, reply.text
    assert not reply.errors, reply.errors
    assert (reply.headers["x-thinkbudget-tier"], reply.headers["x-thinkbudget-budget"]) == ("deep", "8192")
    fit = record(real, reply.call_id)["extra"]["context_fit"]
    assert fit["max_tokens"] <= MAX_MODEL_LEN
    assert fit["budget"] == fit["max_tokens"] - answer_room  # the answer room kept first, the budget shrunk
    usage = reply.usage
    assert usage["prompt_tokens"] + usage["completion_tokens"] <= MAX_MODEL_LEN
    assert reply.reasoning and reply.content
    assert wait_generation_delta(real, template, before, usage["completion_tokens"]) == usage["completion_tokens"]


@pytest.mark.parametrize(
    "client_fields",
    [{"thinking_token_budget": 100000}, {"extra_body": {"thinking_token_budget": 100000}}],
    ids=["top-level", "extra_body"],
)
def test_client_budget_fields_are_clamped_to_policy(real: RealStack, client_fields: dict[str, Any]) -> None:
    reply = chat(real, "tiny-strips", **client_fields)
    assert reply.status == 200, reply.text
    assert reply.headers["x-thinkbudget-budget"] == str(BUDGET)
    assert engine_reasoning_tokens(real, reply) == ENGINE_REASONING  # the engine got 32, not 100000
    changed = record(real, reply.call_id)["extra"]["client_budget_fields"]
    assert any("100000 -> 32" in c for c in changed), changed

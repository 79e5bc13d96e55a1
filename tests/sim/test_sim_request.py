from typing import Any

import pytest

from thinkbudget_litellm.sim.config import SimConfig
from thinkbudget_litellm.sim.request import Failure, RequestError, parse_chat_request

MSGS = [{"role": "user", "content": "hi"}]


def parse(body: Any, headers: dict[str, str] | None = None, **cfg: Any):  # type: ignore[no-untyped-def]
    return parse_chat_request(body, headers or {}, SimConfig(**cfg))


def test_header_wins_over_body_controls() -> None:
    body = {"messages": MSGS, "sim": {"think_tokens": 5, "answer_tokens": 6, "fail": "always"}}
    r = parse(body)
    assert (r.think_tokens, r.answer_tokens, r.fail) == (5, 6, Failure("always"))
    r = parse(body, {"x-sim-think-tokens": "9", "x-sim-answer-tokens": "8", "x-sim-fail": "midstream:3"})
    assert (r.think_tokens, r.answer_tokens, r.fail) == (9, 8, Failure("midstream", 3))


def test_thinking_token_budget_is_ignored_without_native_budget() -> None:
    body = {"messages": MSGS, "thinking_token_budget": 100}
    assert parse(body).budget is None
    assert parse(body, native_budget=True).budget == 100
    assert parse({"messages": MSGS, "thinking_token_budget": "junk"}).budget is None  # ignored, not validated


def test_continuation_needs_vllm_flags_and_excludes_the_prefix_from_the_seed() -> None:
    msgs = [*MSGS, {"role": "assistant", "content": "<think>\nOkay"}]
    r = parse({"messages": msgs, "continue_final_message": True, "add_generation_prompt": False})
    assert r.prefix is not None and not r.prefix.closed and r.key_messages == tuple(MSGS)
    assert parse({"messages": msgs}).prefix is None  # a new turn, not a continuation
    with pytest.raises(RequestError, match="add_generation_prompt"):
        parse({"messages": msgs, "continue_final_message": True})
    with pytest.raises(RequestError, match="assistant"):
        parse({"messages": MSGS, "continue_final_message": True, "add_generation_prompt": False})


@pytest.mark.parametrize(
    ("body", "status", "match"),
    [
        ([], 400, "JSON object"),
        ({}, 400, "messages"),
        ({"messages": [{"content": "x"}]}, 400, "role"),
        ({"messages": [{"role": "user", "content": 3}]}, 400, "content"),
        ({"messages": MSGS, "max_tokens": 0}, 400, "max_tokens"),
        ({"messages": MSGS, "max_tokens": True}, 400, "max_tokens"),
        ({"messages": MSGS, "stream": "yes"}, 400, "stream"),
        ({"messages": MSGS, "sim": {"fail": "sometimes"}}, 400, "midstream:N"),
        ({"messages": MSGS, "sim": {"think_tokens": -1}}, 400, "think_tokens"),
        ({"messages": MSGS, "sim": []}, 400, "sim"),
        ({"messages": MSGS, "model": "gpt-4"}, 404, "does not exist"),
        ({"messages": MSGS, "n": 2}, 400, "n must be 1"),
    ],
)
def test_bad_requests_get_clear_errors(body: Any, status: int, match: str) -> None:
    with pytest.raises(RequestError, match=match) as info:
        parse(body)
    assert info.value.status == status


def test_negative_budget_is_rejected_when_honoured() -> None:
    with pytest.raises(RequestError, match="thinking_token_budget"):
        parse({"messages": MSGS, "thinking_token_budget": -1}, native_budget=True)


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="gpus"):
        SimConfig(gpus=0)
    with pytest.raises(ValueError, match="think_min"):
        SimConfig(think_min=10, think_max=5)
    with pytest.raises(ValueError):
        SimConfig(style="bogus")  # type: ignore[arg-type]

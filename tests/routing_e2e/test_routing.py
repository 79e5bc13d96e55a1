"""Routing by our tiers through LiteLLM's complexity router, strategies, the budget guard, and what
the records and LiteLLM's spend logs say about it (a few smoke tests through the real proxy)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.proxy

PROOF = (
    "Prove that for every positive integer n, the number 2^(2^n)+1 has a prime factor p with "
    "p = 1 (mod 2^(n+1)). Give a complete rigorous olympiad-style proof."
)
CODE = "Write a Python function that merges two sorted lists."
EXPLAIN = "Explain why the sky is blue."


def test_auto_routes_by_tier_and_records_route_reason_and_saving(routing):
    before = routing.sim_requests()
    routes = {}
    for prompt in ("hi", "Repeat exactly this text: hello world", PROOF):
        r = routing.post("sk-balanced", prompt)
        assert r.status_code == 200, r.text
        routes[prompt] = r.headers["x-thinkbudget-route"]
        assert r.headers["x-thinkbudget-route-reason"].startswith("balanced")
        assert float(r.headers["x-thinkbudget-estimated-cost"]) > 0
        assert r.headers["x-thinkbudget-budget-remaining"] == "unlimited"
    assert routes == {"hi": "qwen-small", "Repeat exactly this text: hello world": "qwen-small", PROOF: "qwen-large"}
    after = routing.sim_requests()
    assert after["small"] - before["small"] == 2 and after["large"] - before["large"] == 1

    streamed = routing.post("sk-balanced", PROOF, stream=True)
    assert streamed.status_code == 200 and "data: [DONE]" in streamed.text
    assert streamed.headers["x-thinkbudget-route"] == "qwen-large"
    assert float(streamed.headers["x-thinkbudget-estimated-cost"]) > 0

    r = routing.post("sk-balanced", "hi")
    call_id = r.headers["x-litellm-call-id"]
    row = routing.record(call_id)
    assert row["route"] == "qwen-small" and row["route_reason"].startswith("balanced")
    assert row["cost_usd"] > 0 and row["baseline_cost_usd"] > row["cost_usd"]  # the saving vs qwen-large
    event = routing.events(call_id)[-1]
    spend_log = json.loads(event["spend_log_payload"]["metadata"])  # LiteLLM's SpendLogs row
    decision = spend_log["routing_decision"]
    assert decision["cause"] == "classifier_plugin" and decision["tier"] == "NON_REASONING"
    assert decision["routed_model"] == "qwen-small"
    ours = spend_log["spend_logs_metadata"]
    assert ours["thinkbudget_route"] == "qwen-small" and ours["thinkbudget_route_strategy"] == "balanced"
    assert ours["thinkbudget_estimated_cost_usd"] > 0


@pytest.mark.parametrize(
    ("key", "prompt", "expected"),
    [
        ("sk-balanced", EXPLAIN, "qwen-medium"),  # the tier map's model for moderate
        ("sk-cheapest", EXPLAIN, "qwen-small"),  # quality 2 is enough for moderate
        ("sk-best", EXPLAIN, "qwen-large"),
        ("sk-best", CODE, "qwen-medium"),  # the code bonus ties it with large, and it is cheaper
        ("sk-budget", EXPLAIN, "qwen-medium"),  # large's estimate does not fit the $0.003 left
    ],
)
def test_strategies(routing, key, prompt, expected):
    r = routing.post(key, prompt)
    assert r.status_code == 200, r.text
    assert r.headers["x-thinkbudget-route"] == expected, r.headers["x-thinkbudget-route-reason"]


def test_team_narrows_the_strategies_a_key_may_choose(routing):
    r = routing.post("sk-narrowed", EXPLAIN)
    assert r.status_code == 400
    assert "best_quality is not allowed here" in r.text


def test_budget_guard_lowers_thinking_then_takes_a_cheaper_model_then_refuses(routing):
    lowered = routing.post("sk-lower", PROOF)
    assert lowered.status_code == 200, lowered.text
    assert lowered.headers["x-thinkbudget-route"] == "qwen-large"
    assert 32 <= int(lowered.headers["x-thinkbudget-budget"]) < 8192
    assert "thinking lowered" in lowered.headers["x-thinkbudget-route-reason"]

    cheaper = routing.post("sk-cheaper", PROOF)
    assert cheaper.status_code == 200, cheaper.text
    assert cheaper.headers["x-thinkbudget-route"] in ("qwen-medium", "qwen-small")
    assert "cheaper model" in cheaper.headers["x-thinkbudget-route-reason"]

    refused = routing.post("sk-broke", PROOF)
    assert refused.status_code == 429, refused.text
    msg = refused.json()["error"]["message"]
    assert "key budget $1e-05 left" in msg and "cheapest estimate" in msg
    assert "qwen-large with 8192 thinking tokens" in msg and "qwen-small with 32 thinking tokens" in msg

    # without routing: one model, only the budget step and the refusal
    plain = routing.post("sk-lower", PROOF, model="qwen-large")
    assert plain.status_code == 200 and int(plain.headers["x-thinkbudget-budget"]) < 8192
    assert routing.post("sk-broke", PROOF, model="qwen-small").status_code == 429


def test_an_empty_answer_escalates_once_to_the_next_tiers_model(routing):
    before = routing.sim_requests()
    # every model answers emptily here (the sim control travels with the retry): escalated once, not twice
    r = routing.post("sk-balanced", "hi", sim={"think_tokens": 10, "answer_tokens": 0})
    assert r.status_code == 200, r.text
    assert r.headers["x-thinkbudget-escalated"] == "qwen-small -> qwen-medium"
    assert r.headers["x-thinkbudget-route"] == "qwen-medium"
    assert r.headers["x-thinkbudget-route-reason"].startswith("escalated from qwen-small to qwen-medium: empty answer")
    after = routing.sim_requests()
    assert (after["small"] - before["small"], after["medium"] - before["medium"]) == (1, 1)
    assert after["large"] == before["large"]

    call_id = r.headers["x-litellm-call-id"]
    row = routing.record(call_id)  # one record for the request, the retry folded into it
    extra = row["extra"] if isinstance(row["extra"], dict) else json.loads(row["extra"])
    assert (extra["escalated_from"], extra["escalated_to"]) == ("qwen-small", "qwen-medium")
    assert row["route"] == "qwen-medium" and row["route_reason"].startswith("escalated")
    # billed: both calls, each in LiteLLM's spend logs under its own id, the retry's marked as ours
    retry = routing.events(extra["escalation_call_id"])
    assert retry, "the retry has no spend-log row of its own"
    retry_meta = json.loads(retry[-1]["spend_log_payload"]["metadata"])["spend_logs_metadata"]
    assert retry_meta["thinkbudget_escalation_of"] == call_id
    first = json.loads(routing.events(call_id)[-1]["spend_log_payload"]["metadata"])
    first_cost = routing.events(call_id)[-1]["spend_log_payload"]["spend"]
    retry_cost = retry[-1]["spend_log_payload"]["spend"]
    assert first_cost > 0 and retry_cost > 0
    assert row["cost_usd"] == pytest.approx(first_cost + retry_cost, rel=1e-6)
    assert first["spend_logs_metadata"]["thinkbudget_route"] == "qwen-small"


def test_an_answer_escalates_only_when_it_is_empty_or_cut_for_length(routing):
    r = routing.post("sk-balanced", "hi", sim={"think_tokens": 10, "answer_tokens": 5})
    assert r.status_code == 200 and "x-thinkbudget-escalated" not in r.headers
    assert r.headers["x-thinkbudget-route"] == "qwen-small"


def test_no_escalation_the_budget_guard_would_refuse(routing):
    before = routing.sim_requests()
    r = routing.post("sk-tight", "hi", sim={"think_tokens": 10, "answer_tokens": 0})
    assert r.status_code == 200, r.text
    assert "x-thinkbudget-escalated" not in r.headers and r.headers["x-thinkbudget-route"] == "qwen-small"
    assert routing.sim_requests()["medium"] == before["medium"]
    row = routing.record(r.headers["x-litellm-call-id"])
    extra = row["extra"] if isinstance(row["extra"], dict) else json.loads(row["extra"])
    assert "refused by the budget guard" in extra["escalation_not_served"]

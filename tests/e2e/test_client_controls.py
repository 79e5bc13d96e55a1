"""Issue 14, item 4, end to end: each client reasoning control lowers the budget, never raises it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.test_cost_and_records import _records
from tests.e2e.test_proxy_basics import DEEP, TRIVIAL, chat

pytestmark = pytest.mark.proxy

TEAM_DEEP = 4096  # sk-team-a's team sets budgets.deep

LOWERING: list[tuple[str, dict[str, Any], int]] = [
    ("reasoning_effort", {"reasoning_effort": "low"}, 1024),
    ("reasoning_effort", {"extra_body": {"reasoning_effort": "minimal"}}, 128),
    ("thinking.budget_tokens", {"thinking": {"type": "enabled", "budget_tokens": 300}}, 300),
    ("reasoning", {"reasoning": {"max_tokens": 700}}, 700),
    ("reasoning", {"reasoning": {"effort": "medium"}}, 2048),
    ("max_completion_tokens", {"max_completion_tokens": 1500}, 750),
]
NOT_RAISING: list[tuple[str, dict[str, Any], int, str]] = [
    (DEEP, {"reasoning_effort": "max"}, TEAM_DEEP, "team"),
    (DEEP, {"thinking": {"type": "enabled", "budget_tokens": 50_000}}, TEAM_DEEP, "team"),
    (DEEP, {"reasoning": {"max_tokens": 10**6}}, TEAM_DEEP, "team"),
    (TRIVIAL, {"reasoning_effort": "high"}, 32, "tier"),
]


@pytest.mark.parametrize(("control", "fields", "budget"), LOWERING, ids=[json.dumps(f) for _, f, _ in LOWERING])
def test_a_client_control_lowers_the_budget_and_is_recorded(e2e, control, fields, budget):
    r, _ = chat(e2e, key="sk-team-a", prompt=DEEP, **fields)
    assert r.status_code == 200, r.text
    assert r.headers["x-thinkbudget-budget"] == str(budget)
    assert r.headers["x-thinkbudget-budget-scope"] == "client_control"
    assert r.headers["x-thinkbudget-client-control"] == control
    sent = e2e.sim_bodies("native")[-1]
    assert sent["thinking_token_budget"] == budget
    if "max_completion_tokens" in fields:  # the client's total is never exceeded
        assert sent["max_completion_tokens"] == fields["max_completion_tokens"]
    call_id = r.headers["x-litellm-call-id"]
    row = _records(e2e, [call_id])[call_id]
    extra = row["extra"] if isinstance(row["extra"], dict) else json.loads(row["extra"])
    assert (row["budget"], row["budget_scope"], extra["client_control"]) == (budget, "client_control", control)


@pytest.mark.parametrize(("prompt", "fields", "budget", "scope"), NOT_RAISING)
def test_a_client_control_never_raises_the_budget(e2e, prompt, fields, budget, scope):
    r, _ = chat(e2e, key="sk-team-a", prompt=prompt, **fields)
    assert r.status_code == 200, r.text
    assert (r.headers["x-thinkbudget-budget"], r.headers["x-thinkbudget-budget-scope"]) == (str(budget), scope)
    assert "x-thinkbudget-client-control" not in r.headers
    sent = e2e.sim_bodies("native")[-1]
    assert sent["thinking_token_budget"] == budget

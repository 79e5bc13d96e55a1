"""Other ways around a key's limits: other endpoints, someone else's session id, probing the
proxy's environment through the request cap, values that are not numbers."""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.adversarial import stack_config as cfg
from tests.adversarial.harness import CHAT, DEEP, SIMPLE, AdvStack, chat_body

pytestmark = pytest.mark.proxy


# ---------------------------------------------------------------------- other endpoints
@pytest.mark.parametrize(
    ("path", "field"),
    [("/v1/completions", "prompt"), ("/v1/responses", "input")],
    ids=["completions", "responses"],
)
def test_other_endpoints_keep_the_key_cap(adv: AdvStack, path: str, field: str) -> None:
    """Either the engine is told a budget within the key's cap and the request is recorded with its
    GPU cost, or the client gets a clear 4xx naming the reason: never unlimited thinking.

    The deployment is vLLM (the engine double: it serves both endpoints and thinks 900 tokens unless
    told a ``thinking_token_budget``)."""
    nonce = uuid.uuid4().hex
    body = {"model": "adv-text", field: f"{DEEP} (ref {nonce})"}
    with adv.client(cfg.CAPPED) as c:
        r = c.post(path, json=body)
    if 400 <= r.status_code < 500:
        assert "thinkbudget" in r.text.lower(), f"a 4xx that does not say why: {r.status_code} {r.text[:300]}"
        return
    assert r.status_code == 200, f"{r.status_code}: {r.text[:300]}"
    seen = [b for b in adv.engine.bodies if nonce in json.dumps(b)]
    assert len(seen) == 1, f"the engine saw {len(seen)} requests carrying the prompt"
    told = seen[0].get("thinking_token_budget")
    assert isinstance(told, int) and told <= cfg.KEY_CAP, f"the engine was told thinking_token_budget={told!r}"
    call_id = r.headers.get("x-litellm-call-id", "")
    rows = adv.records([call_id]).get(call_id, [])
    assert len(rows) == 1, f"{len(rows)} records for {call_id!r}"
    assert rows[0]["budget"] <= cfg.KEY_CAP and (rows[0]["cost_usd"] or 0) > 0, rows[0]


# ---------------------------------------------------------------------- sessions
def test_another_team_naming_my_session_neither_uses_nor_is_limited_by_it(adv: AdvStack) -> None:
    """Both teams cap a session at 400 thinking tokens; each request here may think 128 (simple tier).
    Team A opens session s1 (128 used); team B then names s1 three times; A's next request must
    still get 128, and none of B's may be cut short by A's use."""
    sid = f"s1-{uuid.uuid4().hex[:8]}"

    def ask(key: str) -> int:
        body = chat_body("adv-native", SIMPLE, sim={"think_tokens": 2000}, litellm_session_id=sid)
        with adv.client(key) as c:
            r = c.post(CHAT, json=body)
        assert r.status_code == 200, r.text[:300]
        time.sleep(0.3)  # the session ledger is updated in the background after the response
        return int(r.headers["x-thinkbudget-budget"])

    tier_budget = cfg.TIER_BUDGETS["simple"]
    a_first = ask(cfg.SESSION_A)
    b_budgets = [ask(cfg.SESSION_B) for _ in range(3)]
    a_second = ask(cfg.SESSION_A)
    assert a_first == tier_budget
    assert b_budgets == [tier_budget] * 3, f"team B limited by team A's use of {sid}: {b_budgets}"
    assert a_second == tier_budget, f"team A's allowance used up by team B: {a_second}"


# ---------------------------------------------------------------------- the request cap's values
def _cap_request(adv: AdvStack, *, body_value: Any = None, header_value: str | None = None) -> httpx.Response:
    body = chat_body("adv-native", DEEP, sim={"think_tokens": 100})
    headers = {}
    if body_value is not None:
        body["thinkbudget"] = {"max_thinking_tokens": body_value}
    if header_value is not None:
        headers["x-thinkbudget-max-thinking-tokens"] = header_value
    with adv.client(cfg.CAPPED) as c:
        return c.post(CHAT, json=body, headers=headers)


ENV_REFS = (
    "os.environ/HOME",  # set in the proxy's environment
    "os.environ/PYTHONUNBUFFERED",  # set, and its value ("1") is an integer
    "os.environ/NOPE_NOT_SET",
)


@pytest.mark.parametrize("where", ["body", "header"])
def test_environment_references_are_not_resolved_from_requests(adv: AdvStack, where: str) -> None:
    """``os.environ/NAME`` is for operator configuration only: from a client it is a bad integer,
    the same for a variable that exists and one that does not, so nobody can probe the environment."""
    answers = {}
    for ref in ENV_REFS:
        r = _cap_request(adv, body_value=ref) if where == "body" else _cap_request(adv, header_value=ref)
        answers[ref] = (r.status_code, r.text.replace(ref, "<ref>"))
    statuses = {ref: status for ref, (status, _) in answers.items()}
    assert set(statuses.values()) == {400}, statuses
    assert len({text for _, text in answers.values()}) == 1, json.dumps(answers, indent=1)
    for _, text in answers.values():
        assert "max_thinking_tokens" in text or "x-thinkbudget-max-thinking-tokens" in text, text
    home = os.environ.get("HOME", "")
    assert not home or all(home not in text for _, text in answers.values()), "HOME's value leaked"


def test_boolean_cap_is_rejected_naming_the_field(adv: AdvStack) -> None:
    r = _cap_request(adv, body_value=True)
    assert r.status_code == 400, f"{r.status_code}, budget {r.headers.get('x-thinkbudget-budget')}: {r.text[:200]}"
    assert "max_thinking_tokens" in r.text, r.text

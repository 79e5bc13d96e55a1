"""Issue: walking skeleton + budget policy end to end through a real proxy subprocess."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.proxy

DEEP = "Prove that there are infinitely many primes of the form 4k+3."
TRIVIAL = "hi there!"


def chat(e2e, key="sk-plain", model="r1-native", prompt=TRIVIAL, stream=False, headers=None, **extra):
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], "stream": stream, **extra}
    with e2e.client(key) as c:
        r = c.post("/v1/chat/completions", json=body, headers=headers or {})
        return r, (r.text if stream else None)


def sse_events(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            out.append(json.loads(line[6:]))
    return out


@pytest.mark.parametrize("stream", [False, True])
def test_tier_headers_stream_and_not(e2e, stream):
    r, _ = chat(e2e, prompt=DEEP, stream=stream)
    assert r.status_code == 200, r.text
    assert r.headers["x-thinkbudget-tier"] == "deep"
    assert r.headers["x-thinkbudget-budget"] == "8192"
    assert r.headers["x-thinkbudget-task"] in {"math", "analysis"}
    r2, _ = chat(e2e, prompt=TRIVIAL, stream=stream)
    assert r2.headers["x-thinkbudget-tier"] == "trivial"
    assert r2.headers["x-thinkbudget-budget"] == "32"


def test_team_metadata_reaches_the_hook(e2e):
    r, _ = chat(e2e, key="sk-team-a", prompt=DEEP)
    assert r.headers["x-thinkbudget-budget"] == "4096"
    assert r.headers["x-thinkbudget-budget-scope"] == "team"


def test_key_beats_team_user_beats_key_end_user_beats_user(e2e):
    r, _ = chat(e2e, key="sk-team-a-strict", prompt=DEEP)
    assert (r.headers["x-thinkbudget-budget"], r.headers["x-thinkbudget-budget-scope"]) == ("1000", "key")
    r, _ = chat(e2e, key="sk-carol", prompt=DEEP)
    assert (r.headers["x-thinkbudget-budget"], r.headers["x-thinkbudget-budget-scope"]) == ("3000", "user")
    r, _ = chat(e2e, key="sk-carol", prompt=DEEP, user="customer-7")
    assert (r.headers["x-thinkbudget-budget"], r.headers["x-thinkbudget-budget-scope"]) == (
        "2500",
        "end_user",
    )


def test_client_can_lower_but_not_raise(e2e):
    r, _ = chat(e2e, key="sk-team-a", prompt=DEEP, thinkbudget={"max_thinking_tokens": 100})
    assert (r.headers["x-thinkbudget-budget"], r.headers["x-thinkbudget-budget-scope"]) == ("100", "request")
    r, _ = chat(e2e, key="sk-team-a", prompt=DEEP, headers={"x-thinkbudget-max-thinking-tokens": "99999"})
    assert (r.headers["x-thinkbudget-budget"], r.headers["x-thinkbudget-budget-scope"]) == ("4096", "team")
    r, _ = chat(e2e, key="sk-team-a", prompt=DEEP, thinkbudget={"max_thinking_tokens": 10**6})
    assert r.headers["x-thinkbudget-budget"] == "4096"
    # the request field never reaches the engine
    bodies = e2e.sim_bodies("native")
    assert bodies and all("thinkbudget" not in b for b in bodies)


def test_bad_request_values_are_400_naming_the_field(e2e):
    r, _ = chat(e2e, key="sk-team-a", prompt=DEEP, thinkbudget={"max_thinking_tokens": "many"})
    assert r.status_code == 400 and "max_thinking_tokens" in r.text
    r, _ = chat(e2e, prompt=DEEP, headers={"x-thinkbudget-max-thinking-tokens": "lots"})
    assert r.status_code == 400 and "x-thinkbudget-max-thinking-tokens" in r.text
    r, _ = chat(e2e, key="sk-bad-meta", prompt=DEEP)
    assert r.status_code == 400 and "budgets.deep" in r.text


def test_native_budget_reaches_vllm_and_caps_thinking(e2e):
    r, _ = chat(e2e, prompt="Convert 5 miles to km.", extra_body=None, sim={"think_tokens": 900})
    assert r.status_code == 200, r.text
    body = e2e.sim_bodies("native")[-1]
    assert body["thinking_token_budget"] == int(r.headers["x-thinkbudget-budget"])
    assert body["max_tokens"] >= body["thinking_token_budget"]
    usage = r.json()["usage"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] <= body["thinking_token_budget"]
    assert r.json()["choices"][0]["message"]["content"]


@pytest.mark.parametrize(
    ("model", "check"),
    [
        ("eng-sglang", lambda b, n: b["custom_params"]["thinking_budget"] == n),
        ("eng-llamacpp", lambda b, n: b["thinking_budget_tokens"] == n),
        ("eng-qwen3", lambda b, n: b["chat_template_kwargs"]["enable_thinking"] is False),
    ],
)
def test_engine_native_fields_reach_backend(e2e, model, check):
    r, _ = chat(e2e, model=model, prompt=TRIVIAL)
    assert r.status_code == 200, r.text
    body = e2e.sim_bodies("native")[-1]
    assert check(body, int(r.headers["x-thinkbudget-budget"])), body


def test_invalid_deployment_settings_fail_open(e2e):
    r, _ = chat(e2e, model="bad-deployment", prompt=TRIVIAL)
    assert r.status_code == 200
    assert r.headers["x-thinkbudget-enforcement"] == "off"


def test_session_cap_is_shared(e2e):
    sid = "sess-e2e-1"
    budgets = []
    for _ in range(4):
        r, _ = chat(
            e2e,
            key="sk-session",
            model="r1-native",
            prompt="Compare REST and GraphQL.",
            litellm_session_id=sid,
            sim={"think_tokens": 2000},
        )
        assert r.status_code == 200, r.text
        budgets.append(int(r.headers["x-thinkbudget-budget"]))
    assert budgets[0] > 0 and budgets[-1] == 0 and sum(budgets) <= 300 + budgets[0]

"""Smoke tests of the trust boundary through the real proxy: every endpoint that reaches a reasoning
deployment is budgeted or refused, and no client field can pose as one of our continuations."""

from __future__ import annotations

import pytest

from tests.e2e.test_proxy_basics import TRIVIAL, chat

pytestmark = pytest.mark.proxy


def _last_body(e2e, sim: str = "native") -> dict:
    return e2e.sim_bodies(sim)[-1]


@pytest.mark.parametrize("bucket", ["metadata", "litellm_metadata"])
def test_a_continuation_marker_from_the_client_is_ignored(e2e, bucket):
    """It used to skip classification, the budget and the record: 3,000 thinking tokens on "hi"."""
    r, _ = chat(e2e, prompt=TRIVIAL, **{bucket: {"thinkbudget_continuation_of": "x"}})
    assert r.status_code == 200, r.text
    assert r.headers["x-thinkbudget-tier"] == "trivial"
    assert _last_body(e2e)["thinking_token_budget"] == 32


@pytest.mark.parametrize("stream", [False, True])
def test_text_completions_get_the_native_budget(e2e, stream):
    with e2e.client("sk-team-a-strict") as c:
        r = c.post("/v1/completions", json={"model": "r1-native", "prompt": TRIVIAL, "stream": stream})
    assert r.status_code == 200, r.text
    assert r.headers["x-thinkbudget-budget"] == "32"
    body = _last_body(e2e)
    assert body["prompt"] == TRIVIAL and body["thinking_token_budget"] == 32
    if not stream:  # counted from the inline thinking of the text
        assert 0 < int(r.headers["x-thinkbudget-thinking-tokens"]) <= 32 + 1


def test_text_completions_on_a_stream_enforced_group_are_refused_by_name(e2e):
    with e2e.client() as c:
        r = c.post("/v1/completions", json={"model": "r1-parser-stream", "prompt": TRIVIAL})
    assert r.status_code == 400 and "/v1/completions" in r.text and "enforcement: stream" in r.text


@pytest.mark.parametrize("model", ["r1-native", "r1-parser-stream"])
def test_the_responses_api_on_a_budgeted_group_is_refused_by_name(e2e, model):
    with e2e.client() as c:
        r = c.post("/v1/responses", json={"model": model, "input": TRIVIAL})
    assert r.status_code == 400 and "Responses API" in r.text

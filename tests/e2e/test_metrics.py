"""Issue: our Prometheus metrics appear on LiteLLM's own /metrics."""

from __future__ import annotations

import time

import pytest

from tests.e2e.test_stream_enforcement import _post

pytestmark = pytest.mark.proxy


def test_metrics_on_litellm_metrics_endpoint(e2e):
    assert _post(e2e, "r1-native", False, key="sk-team-a", natural=300).status_code == 200
    assert _post(e2e, "r1-inline-stream", True, key="sk-team-a", natural=900).status_code == 200
    text = ""
    for _ in range(50):
        with e2e.client("sk-plain") as c:
            text = c.get("/metrics", follow_redirects=True).text
        if "thinkbudget_cuts_total{" in text and "thinkbudget_energy_joules_total{" in text:
            break
        time.sleep(0.2)
    for name in (
        "thinkbudget_requests_total{",
        "thinkbudget_thinking_tokens_total{",
        "thinkbudget_budget_tokens_bucket{",
        "thinkbudget_cuts_total{",
        "thinkbudget_energy_joules_total{",
        "thinkbudget_cost_usd_total{",
        "thinkbudget_classify_seconds_bucket",
        "thinkbudget_requests_in_flight ",
    ):
        assert name in text, name
    assert 'team="team-a"' in text

"""The simulated backend over HTTP (aiohttp test client, unpaced)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sim_helpers import deltas, sse_chunks, user

from thinkbudget_litellm.sim.tokens import encoding

CHAT = "/v1/chat/completions"
FIXED = {"x-sim-think-tokens": "80", "x-sim-answer-tokens": "30"}


async def stream(client: Any, body: dict[str, Any], headers: dict[str, str] | None = None) -> list[Any]:
    resp = await client.post(
        CHAT, json={"messages": user(), "stream": True, **body}, headers=FIXED if headers is None else headers
    )
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
    return sse_chunks(await resp.text())


async def complete(client: Any, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    resp = await client.post(CHAT, json={"messages": user(), **body}, headers=FIXED if headers is None else headers)
    assert resp.status == 200, await resp.text()
    result: dict[str, Any] = await resp.json()
    return result


def token_chunks(chunks: list[Any]) -> list[str]:
    return [
        v for c in chunks[1:] if isinstance(c, dict) and c["choices"] for v in c["choices"][0]["delta"].values() if v
    ]


@pytest.mark.parametrize("style", ["parser", "inline", "preopened"])
async def test_stream_and_non_stream_agree_per_style(sim_client: Any, style: str) -> None:
    client = await sim_client(style=style)
    chunks = await stream(client, {})
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-1] == "[DONE]" and all("usage" not in c for c in chunks[:-1])
    assert [c["choices"][0]["finish_reason"] for c in chunks[:-1]] == [None] * (len(chunks) - 2) + ["stop"]
    pieces = token_chunks(chunks)
    markers = {"<think>", "</think>"}
    assert all(len(encoding().encode(p)) == 1 for p in pieces if p not in markers)
    body = await complete(client, {})
    message, usage = body["choices"][0]["message"], body["usage"]
    assert body["choices"][0]["finish_reason"] == "stop"
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    if style == "parser":
        assert "".join(deltas(chunks, "reasoning")) == message["reasoning"] and len(deltas(chunks, "reasoning")) == 80
        assert "".join(deltas(chunks, "content")).startswith("\n\nAnswer:")
        assert message["content"] == "".join(deltas(chunks, "content"))
        assert usage["completion_tokens"] == 80 + 1 + 30  # </think> is generated but not shown
        assert usage["completion_tokens_details"] == {"reasoning_tokens": 80}
    else:
        text = "".join(deltas(chunks, "content"))
        assert text == message["content"] and "reasoning" not in message
        assert text.startswith("<think>\nOkay" if style == "inline" else "Okay")
        assert "</think>\n\nAnswer:" in text
        assert usage["completion_tokens"] == len(pieces) == 80 + 30 + (2 if style == "inline" else 1)
        assert "completion_tokens_details" not in usage  # vLLM counts reasoning only with a parser


async def test_include_usage_adds_a_final_usage_chunk(sim_client: Any) -> None:
    client = await sim_client()
    chunks = await stream(client, {"stream_options": {"include_usage": True}})
    usage_chunk = chunks[-2]
    assert chunks[-1] == "[DONE]" and usage_chunk["choices"] == []
    assert usage_chunk["usage"]["completion_tokens"] == 111
    assert usage_chunk["usage"]["completion_tokens_details"]["reasoning_tokens"] == 80
    assert chunks[-3]["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize("native", [True, False])
async def test_native_budget_on_and_off(sim_client: Any, native: bool) -> None:
    client = await sim_client(native_budget=native)
    body = await complete(client, {"thinking_token_budget": 25})
    reasoning = body["choices"][0]["message"]["reasoning"]
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == (25 if native else 80)
    assert len(encoding().encode(reasoning)) == (25 if native else 80)
    assert body["choices"][0]["message"]["content"].startswith("\n\nAnswer:")
    chunks = await stream(client, {"thinking_token_budget": 25})
    assert len(deltas(chunks, "reasoning")) == (25 if native else 80)


async def test_inline_budget_closes_thinking_in_content(sim_client: Any) -> None:
    client = await sim_client(native_budget=True, style="inline")
    text = (await complete(client, {"thinking_token_budget": 10}))["choices"][0]["message"]["content"]
    thinking, answer = text.split("</think>")
    assert len(encoding().encode(thinking.removeprefix("<think>"))) == 10 and answer.startswith("\n\nAnswer:")


async def test_max_tokens_stops_with_length(sim_client: Any) -> None:
    client = await sim_client()
    body = await complete(client, {"max_tokens": 7})
    assert body["choices"][0]["finish_reason"] == "length" and body["usage"]["completion_tokens"] == 7
    assert body["choices"][0]["message"]["content"] is None  # still thinking when cut
    chunks = await stream(client, {"max_completion_tokens": 90})
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert len(deltas(chunks, "reasoning")) == 80 and len(deltas(chunks, "content")) == 9


async def test_continuation_of_unclosed_and_closed_prefixes(sim_client: Any) -> None:
    client = await sim_client(style="preopened")
    first = await stream(client, {}, headers={"x-sim-answer-tokens": "30"})
    thinking = "".join(deltas(first, "content")[:40])
    flags = {"continue_final_message": True, "add_generation_prompt": False}
    msgs = [*user(), {"role": "assistant", "content": thinking}]
    cont = await complete(client, {"messages": msgs, **flags}, headers={"x-sim-answer-tokens": "30"})
    full_text = "".join(deltas(first, "content"))
    assert thinking + cont["choices"][0]["message"]["content"] == full_text  # picks up where the prefix stopped
    closed = [*user(), {"role": "assistant", "content": thinking + "\n</think>\n\n"}]
    answer = await complete(client, {"messages": closed, **flags}, headers={"x-sim-answer-tokens": "30"})
    assert answer["choices"][0]["message"]["content"] == full_text.split("</think>\n\n")[1]
    stats = await (await client.get("/sim/stats")).json()
    natural = stats["recent"][0]["think_tokens"]
    assert [(e["continuation"], e["think_tokens"]) for e in stats["recent"]] == [
        (False, natural),
        (True, natural - 40),
        (True, 0),
    ]


async def test_failure_injection(sim_client: Any) -> None:
    client = await sim_client()
    resp = await client.post(CHAT, json={"messages": user(), "sim": {"fail": "always"}})
    assert resp.status == 500 and (await resp.json())["error"]["code"] == 500
    cont = {
        "messages": [*user(), {"role": "assistant", "content": "Okay"}],
        "continue_final_message": True,
        "add_generation_prompt": False,
    }
    assert (await client.post(CHAT, json={"messages": user()}, headers={"x-sim-fail": "continuation"})).status == 200
    assert (await client.post(CHAT, json=cont, headers={"x-sim-fail": "continuation"})).status == 500
    resp = await client.post(
        CHAT, json={"messages": user(), "stream": True}, headers={**FIXED, "x-sim-fail": "midstream:5"}
    )
    with pytest.raises(aiohttp.ClientPayloadError):
        await resp.read()
    stats = await (await client.get("/sim/stats")).json()
    assert [e["status"] for e in stats["recent"]] == ["failed", "completed", "failed", "midstream"]
    assert stats["recent"][-1]["completion_tokens"] == 5 and stats["failures"] == 2


async def test_metrics_follow_the_tokens(sim_client: Any) -> None:
    client = await sim_client(idle_watts=0, joules_per_token=0.5, prefill_weight=0.2, gpus=2)

    async def scrape() -> dict[str, list[float]]:
        text = await (await client.get("/metrics")).text()
        return {f.name: [s.value for s in f.samples] for f in text_string_to_metric_families(text)}

    before = await scrape()
    assert before["vllm:generation_tokens"] == [0] and before["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"] == [
        0,
        0,
    ]
    await complete(client, {})
    await stream(client, {"max_tokens": 10}, headers={"x-sim-think-tokens": "300"})
    await complete(client, {"messages": user("a longer question about prime numbers")})
    stats = await (await client.get("/sim/stats")).json()
    after = await scrape()
    generated = sum(e["completion_tokens"] for e in stats["recent"])
    prompt = sum(e["prompt_tokens"] for e in stats["recent"])
    assert after["vllm:generation_tokens"] == [generated] == [stats["tokens"]["total"]] == [111 + 10 + 111]
    assert after["vllm:prompt_tokens"] == [prompt]
    expected_mj = 1000 * 0.5 * (generated + 0.2 * prompt) / 2
    assert after["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"] == pytest.approx([expected_mj] * 2, abs=0.01)
    assert after["vllm:num_requests_running"] == [0]


async def test_stats_reset_models_and_errors(sim_client: Any) -> None:
    client = await sim_client(model_name="r1", max_model_len=100)
    models = await (await client.get("/v1/models")).json()
    assert [m["id"] for m in models["data"]] == ["r1"] and models["data"][0]["max_model_len"] == 100
    assert (await client.post(CHAT, data=b"{not json")).status == 400
    assert (await client.post(CHAT, json={"model": "other", "messages": user()})).status == 404
    resp = await client.post(CHAT, json={"model": "r1", "messages": user(), "max_tokens": 99})
    assert resp.status == 400 and "maximum context length" in (await resp.json())["error"]["message"]
    body = await complete(client, {"model": "r1", "max_tokens": 50})
    assert body["model"] == "r1"
    stats = await (await client.get("/sim/stats")).json()
    assert stats["requests"] == 4 and stats["last_bodies"][-1]["max_tokens"] == 50
    assert [e["http_status"] for e in stats["recent"]] == [400, 404, 400, 200]
    assert stats["tokens"]["think"] == stats["recent"][-1]["think_tokens"] > 0
    assert (await client.post("/sim/reset")).status == 200
    stats = await (await client.get("/sim/stats")).json()
    assert (stats["requests"], stats["recent"], stats["tokens"]["total"]) == (0, [], 0)
    assert (await client.get("/health")).status == 200


async def test_default_lengths_overthink_even_on_hi(sim_client: Any) -> None:
    client = await sim_client()
    body = await complete(client, {}, headers={})
    assert 150 <= body["usage"]["completion_tokens_details"]["reasoning_tokens"] <= 16000
    assert body == {
        **body,
        "usage": (await complete(client, {}, headers={}))["usage"],
    }  # same prompt, same length

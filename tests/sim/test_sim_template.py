"""The simulator matches the real vLLM on what continuations need (issue 13; research/real-vllm-cpu.md):
a stripping template refuses ``continue_final_message`` with vLLM's HTTP 400, ``/tokenize`` renders
the template, ``return_token_ids`` carries the generated ids, ``/v1/completions`` continues from an
id-list prompt, and a non-streamed continuation of a closed thinking is labelled as reasoning."""

from __future__ import annotations

from typing import Any

import pytest
from sim_helpers import deltas, sse_chunks, user

from thinkbudget_litellm.sim import chat_template

FIXED = {"x-sim-think-tokens": "80", "x-sim-answer-tokens": "30"}
CLOSED_PREFILL = "<think>\nsome thinking\n</think>\n\n"
OPEN_PREFILL = "<think>\nsome thinking"


def _continuation(prefill: str, **extra: Any) -> dict[str, Any]:
    return {
        "messages": [*user(), {"role": "assistant", "content": prefill}],
        "continue_final_message": True,
        "add_generation_prompt": False,
        **extra,
    }


@pytest.mark.parametrize(
    ("template", "prefill", "status"),
    [
        ("strips", CLOSED_PREFILL, 400),  # R1's template drops the thinking: vLLM refuses
        ("strips", OPEN_PREFILL, 200),  # partial thinking without </think> is kept and continued
        ("keeps", CLOSED_PREFILL, 200),
    ],
)
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/tokenize"])
async def test_continue_final_message_per_template(
    sim_client: Any, template: str, prefill: str, status: int, path: str
) -> None:
    client = await sim_client(template=template)
    resp = await client.post(path, json=_continuation(prefill), headers=FIXED)
    assert resp.status == status, await resp.text()
    if status == 400:
        assert "final message does not appear in the chat" in (await resp.json())["error"]["message"]


async def test_tokenize_renders_the_template_and_raw_text(sim_client: Any) -> None:
    client = await sim_client(style="parser")
    chat = await (await client.post("/tokenize", json={"messages": user("hello")})).json()
    text = chat_template.decode(chat["tokens"])
    assert text.startswith(chat_template.BOS) and text.endswith(chat_template.ASSISTANT + "<think>\n")
    assert chat["count"] == len(chat["tokens"]) and chat["max_model_len"] > 0
    raw = await (await client.post("/tokenize", json={"prompt": "a\n</think>\n\n", "add_special_tokens": False})).json()
    assert chat_template.TAG_IDS["</think>"] in raw["tokens"]  # one id, as R1-Distill's added token
    assert chat_template.SPECIAL_IDS[chat_template.BOS] not in raw["tokens"]


@pytest.mark.parametrize("stream", [False, True])
async def test_return_token_ids(sim_client: Any, stream: bool) -> None:
    client = await sim_client(style="parser")
    body = {"messages": user(), "stream": stream, "return_token_ids": True}
    resp = await client.post("/v1/chat/completions", json=body, headers=FIXED)
    if stream:
        chunks = [c for c in sse_chunks(await resp.text()) if isinstance(c, dict) and c["choices"]][1:]
        ids = [i for c in chunks for i in c["choices"][0].get("token_ids", [])]
    else:
        ids = (await resp.json())["choices"][0]["token_ids"]
    close = chat_template.TAG_IDS["</think>"]
    assert ids.count(close) == 1 and ids.index(close) == 80  # 80 thinking ids, </think>, the answer


@pytest.mark.parametrize("stream", [False, True])
async def test_completion_continues_from_an_id_prompt(sim_client: Any, stream: bool) -> None:
    client = await sim_client(style="parser", template="strips")
    prompt = (await (await client.post("/tokenize", json={"messages": user()})).json())["tokens"]
    tail = await (await client.post("/tokenize", json={"prompt": "some thinking\n</think>\n\n"})).json()
    body = {"prompt": prompt + tail["tokens"][1:], "stream": stream, "max_tokens": 50}
    resp = await client.post("/v1/completions", json=body, headers=FIXED)
    assert resp.status == 200, await resp.text()
    if stream:
        text = "".join(c["choices"][0]["text"] for c in sse_chunks(await resp.text()) if isinstance(c, dict))
    else:
        text = (await resp.json())["choices"][0]["text"]
    assert text.startswith("Answer:") and "</think>" not in text  # the answer only: the thinking was closed
    recent = (await (await client.get("/sim/stats")).json())["recent"][-1]
    assert recent["continuation"] and recent["think_tokens"] == 0


@pytest.mark.parametrize(("stream", "field"), [(False, "reasoning"), (True, "content")])
async def test_a_closed_continuation_is_mislabelled_only_when_not_streamed(
    sim_client: Any, stream: bool, field: str
) -> None:
    """vLLM 0.32.0: with </think> already in the prompt, a non-streamed continuation comes back as
    ``message.reasoning`` with ``content`` null; streamed, it is content."""
    client = await sim_client(style="parser", template="keeps")
    resp = await client.post("/v1/chat/completions", json=_continuation(CLOSED_PREFILL, stream=stream), headers=FIXED)
    assert resp.status == 200
    if stream:
        answer = "".join(deltas(sse_chunks(await resp.text()), field))
    else:
        message = (await resp.json())["choices"][0]["message"]
        answer, other = message[field], message["content"]
        assert other is None
    assert answer.startswith("Answer:")

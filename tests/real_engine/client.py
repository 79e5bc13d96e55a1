"""Requests through the real proxy to the real vLLM, and what the tests read back: the reply as the
client saw it, the engine's own token ids and counters, and our record."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from tests.real_engine.conftest import RealStack

HI = "hi"  # the trivial tier: budget 32
DEEP = "Prove that there are infinitely many primes of the form 4k+3."  # the deep tier: budget 8192
ANSWER_ROOM = 40  # the client's max_tokens: its answer room, added to the budget by native enforcement
SEED = 7


@dataclass
class Reply:
    status: int
    headers: httpx.Headers
    reasoning: str = ""
    content: str = ""
    finish_reason: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    token_ids: list[int] | None = None  # non-stream: every id the engine generated
    reasoning_chunk_ids: int = 0  # stream: ids carried by reasoning chunks (LiteLLM drops empty deltas' ids)
    errors: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""
    answer_after_s: float | None = None  # stream: seconds from the request to the first answer text

    @property
    def call_id(self) -> str:
        return self.headers["x-litellm-call-id"]


def body(real: RealStack, model: str, prompt: str, stream: bool, **extra: Any) -> dict[str, Any]:
    """Sampling at temperature 1 with a seed (greedy decoding of random weights only repeats "\\n"),
    with ``<think>``, ``</think>`` and EOS forbidden: the model never ends its reasoning or its answer
    by itself, so the engine's cap is the only thing that closes the reasoning and the answer runs to
    ``max_tokens``. (The cap's forced ``</think>`` wins over the -100 bias.)"""
    m = real.model
    out: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "stream": stream,
        "temperature": 1.0,
        "seed": SEED,
        "max_tokens": ANSWER_ROOM,
        "logit_bias": {str(m.think_open_id): -100, str(m.think_close_id): -100, str(m.eos_id): -100},
        "return_token_ids": True,
    }
    if stream:
        out["stream_options"] = {"include_usage": True}
    out.update(extra)
    return out


def chat(real: RealStack, model: str, prompt: str = HI, stream: bool = False, **extra: Any) -> Reply:
    started = time.monotonic()
    first_answer: float | None = None
    with (
        real.client() as c,
        c.stream("POST", "/v1/chat/completions", json=body(real, model, prompt, stream, **extra)) as r,
    ):
        lines = []
        for line in r.iter_lines():
            lines.append(line)
            if first_answer is None and _has_answer(line):
                first_answer = time.monotonic() - started
    reply = Reply(status=r.status_code, headers=r.headers, text="\n".join(lines), answer_after_s=first_answer)
    if r.status_code != 200:
        return reply
    if not stream:
        data = json.loads(reply.text)
        choice = data["choices"][0]
        msg = choice["message"]
        reply.reasoning = msg.get("reasoning_content") or ""
        reply.content = msg.get("content") or ""
        reply.finish_reason = choice.get("finish_reason")
        reply.usage = data.get("usage") or {}
        reply.token_ids = (choice.get("provider_specific_fields") or {}).get("token_ids")
        return reply
    for line in reply.text.splitlines():
        if not line.startswith("data: {"):
            continue
        event = json.loads(line[6:])
        if "error" in event:
            reply.errors.append(event["error"])
        if event.get("usage"):
            reply.usage = event["usage"]
        for choice in event.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("reasoning_content"):
                reply.reasoning += delta["reasoning_content"]
                reply.reasoning_chunk_ids += len(choice.get("token_ids") or [])
            if delta.get("content"):
                reply.content += delta["content"]
            if choice.get("finish_reason"):
                reply.finish_reason = choice["finish_reason"]
    return reply


def _has_answer(line: str) -> bool:
    if not line.startswith("data: {"):
        return False
    choices = json.loads(line[6:]).get("choices") or [{}]
    return bool((choices[0].get("delta") or {}).get("content"))


def engine_reasoning_tokens(real: RealStack, reply: Reply) -> int:
    """Reasoning tokens as the engine generated them: the ids before its (forced) ``</think>``."""
    assert reply.token_ids is not None, "return_token_ids did not come back through the proxy"
    return reply.token_ids.index(real.model.think_close_id)


def wait_generation_delta(real: RealStack, template: str, before: float, expected: float, wait_s: float = 5.0) -> float:
    """The engine's ``vllm:generation_tokens_total`` growth since ``before`` (its counters update
    a little after the response; waits up to ``wait_s`` for ``expected``)."""
    deadline = time.monotonic() + wait_s
    while True:
        delta = real.generation_tokens(template) - before
        if delta >= expected or time.monotonic() > deadline:
            return delta
        time.sleep(0.1)


def record(real: RealStack, call_id: str, wait_s: float = 10.0) -> dict[str, Any]:
    """Our record of one request (the proxy writes it off the request path)."""
    engine = sa.create_engine(real.database_url.replace("+aiosqlite", ""))
    deadline = time.monotonic() + wait_s
    try:
        while True:
            try:
                with engine.connect() as conn:
                    rows = (
                        conn.execute(
                            sa.text("SELECT * FROM request_records WHERE litellm_call_id = :id"), {"id": call_id}
                        )
                        .mappings()
                        .all()
                    )
            except OperationalError:  # the table is created with the first write
                rows = []
            if rows or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    finally:
        engine.dispose()
    assert len(rows) == 1, f"expected one record for {call_id}, found {len(rows)}"
    row = dict(rows[0])
    if isinstance(row.get("extra"), str):
        row["extra"] = json.loads(row["extra"])
    return row

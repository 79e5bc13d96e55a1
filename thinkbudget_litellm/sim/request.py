"""Validation of a chat-completion request to the simulated backend (a test double of vLLM).

Pure: takes the JSON body and the headers, returns a :class:`ChatRequest` or raises
:class:`RequestError` with the HTTP status and the message vLLM-like clients expect.
Simulator controls come from headers (``x-sim-think-tokens``, ``x-sim-answer-tokens``, ``x-sim-fail``)
or from a top-level body object ``"sim": {"think_tokens", "answer_tokens", "fail"}`` (LiteLLM forwards
unknown body fields to hosted_vllm but not always headers); a header wins over the body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from thinkbudget_litellm.sim.config import SimConfig
from thinkbudget_litellm.sim.plan import Prefix, message_text, parse_prefix


class RequestError(Exception):
    def __init__(self, status: int, message: str, kind: str = "BadRequestError") -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


@dataclass(frozen=True)
class Failure:
    mode: str  # "always", "continuation" or "midstream"
    after_tokens: int = 0


@dataclass(frozen=True)
class ChatRequest:
    messages: tuple[Mapping[str, Any], ...]
    key_messages: tuple[Mapping[str, Any], ...]  # messages whose hash seeds the lengths (prefix excluded)
    stream: bool
    include_usage: bool
    max_tokens: int | None
    budget: int | None  # honoured thinking_token_budget, None when absent or ignored
    prefix: Prefix | None
    think_tokens: int | None
    answer_tokens: int | None
    fail: Failure | None


def _int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RequestError(400, f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _optional_int(value: Any, name: str, minimum: int) -> int | None:
    return None if value is None else _int(value, name, minimum)


def _bool(body: Mapping[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise RequestError(400, f"{name} must be a boolean, got {value!r}")
    return value


def _failure(value: Any) -> Failure | None:
    if value is None or value == "":
        return None
    match = re.fullmatch(r"(always|continuation)|midstream:(\d+)", str(value).strip())
    if match is None:
        raise RequestError(400, f"sim fail must be 'always', 'continuation' or 'midstream:N', got {value!r}")
    return Failure("midstream", int(match[2])) if match[2] else Failure(str(match[1]))


def _messages(body: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError(400, "messages must be a non-empty list")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise RequestError(400, f"messages[{i}] must be an object with a string 'role'")
        if not isinstance(m.get("content"), str | list | None):
            raise RequestError(400, f"messages[{i}].content must be a string, a list of parts or null")
    return tuple(messages)


def parse_chat_request(body: Any, headers: Mapping[str, str], config: SimConfig) -> ChatRequest:
    if not isinstance(body, dict):
        raise RequestError(400, "the request body must be a JSON object")
    model = body.get("model")
    if model is not None and model != config.model_name:
        raise RequestError(404, f"The model `{model}` does not exist.", "NotFoundError")
    messages = _messages(body)
    if body.get("n", 1) not in (1, None):
        raise RequestError(400, "the simulated backend returns one choice: n must be 1")
    continue_final = _bool(body, "continue_final_message", False)
    if continue_final and _bool(body, "add_generation_prompt", True):
        raise RequestError(400, "Cannot set both `continue_final_message` and `add_generation_prompt` to True.")
    if continue_final and messages[-1]["role"] != "assistant":
        raise RequestError(400, "continue_final_message needs a final message with role 'assistant'")
    prefix = parse_prefix(message_text(messages[-1].get("content"))) if continue_final else None
    sim = {} if body.get("sim") is None else body["sim"]
    if not isinstance(sim, dict):
        raise RequestError(400, "sim must be an object")
    stream_options = {} if body.get("stream_options") is None else body["stream_options"]
    if not isinstance(stream_options, dict):
        raise RequestError(400, "stream_options must be an object")
    max_tokens = body.get("max_tokens", body.get("max_completion_tokens"))
    budget = body.get("thinking_token_budget") if config.native_budget else None
    return ChatRequest(
        messages=messages,
        key_messages=messages[:-1] if continue_final else messages,
        stream=_bool(body, "stream", False),
        include_usage=bool(stream_options.get("include_usage", False)),
        max_tokens=_optional_int(max_tokens, "max_tokens", 1),
        budget=_optional_int(budget, "thinking_token_budget", 0),
        prefix=prefix,
        think_tokens=_optional_int(headers.get("x-sim-think-tokens", sim.get("think_tokens")), "think_tokens", 0),
        answer_tokens=_optional_int(headers.get("x-sim-answer-tokens", sim.get("answer_tokens")), "answer_tokens", 0),
        fail=_failure(headers.get("x-sim-fail", sim.get("fail"))),
    )

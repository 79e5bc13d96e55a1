"""The one place that talks raw HTTP to an inference engine (everything else goes through LiteLLM).

``EngineClient`` is the small interface the proxy needs from an engine's tokenizer endpoint
(vLLM's ``POST /tokenize``, beside ``/v1``): the prompt ids of chat messages rendered with the
server's own chat template, and the ids of raw text. ``HttpEngineClient`` implements it with httpx;
tests and the simulator answer the same protocol.

Observed on vLLM 0.32.0 (research/real-vllm-cpu.md): ``{"model", "messages"}`` returns
``{"count", "max_model_len", "tokens"}`` rendered with the generation prompt;
``continue_final_message: true, add_generation_prompt: false`` renders a prefilled final assistant
message (HTTP 400 when the template drops it); ``{"model", "prompt", "add_special_tokens": false}``
tokenizes raw text without a BOS.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx


@dataclass(frozen=True)
class EngineEndpoint:
    """Where one deployment's engine listens, as LiteLLM calls it."""

    api_base: str  # the OpenAI-compatible base, e.g. ``http://host:8000/v1``
    api_key: str | None
    served_model: str  # the model name the engine serves (the LiteLLM model without its provider)
    model_info: Mapping[str, Any] = field(default_factory=dict)  # the deployment's model_info

    @property
    def root(self) -> str:
        """The server root (vLLM's ``/tokenize`` sits beside ``/v1``, not under it)."""
        base = self.api_base.rstrip("/")
        return base[: -len("/v1")] if base.endswith("/v1") else base


class EngineError(Exception):
    """The engine answered with an error (``status``) or could not be reached (``status`` None)."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(f"{status or 'unreachable'}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Tokenized:
    ids: list[int]
    max_model_len: int | None = None


class EngineClient(Protocol):
    async def tokenize_chat(
        self,
        endpoint: EngineEndpoint,
        path: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        continue_final_message: bool = False,
    ) -> Tokenized: ...

    async def tokenize_text(self, endpoint: EngineEndpoint, path: str, text: str) -> Tokenized: ...


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(body, Mapping):
        err = body.get("error")
        if isinstance(err, Mapping) and isinstance(err.get("message"), str):
            return str(err["message"])
        if isinstance(body.get("message"), str):
            return str(body["message"])
    return response.text[:500]


def _tokenized(response: httpx.Response) -> Tokenized:
    body = response.json()
    tokens = body.get("tokens") if isinstance(body, Mapping) else None
    if not isinstance(tokens, list) or not all(isinstance(t, int) and not isinstance(t, bool) for t in tokens):
        raise EngineError(response.status_code, "the tokenizer answered without a list of token ids")
    limit = body.get("max_model_len")
    return Tokenized(list(tokens), limit if isinstance(limit, int) and limit > 0 else None)


class HttpEngineClient:
    """``EngineClient`` over httpx, one connection pool per process, every call within ``timeout_s``."""

    def __init__(self, timeout_s: float = 2.0) -> None:
        self.timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = httpx.AsyncClient(timeout=self.timeout_s, trust_env=False)
            self._loop = loop
        return self._client

    async def _post(self, endpoint: EngineEndpoint, path: str, body: dict[str, Any]) -> Tokenized:
        headers = {"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}
        try:
            response = await self._http().post(endpoint.root + path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise EngineError(None, f"{type(exc).__name__}: {exc}") from None
        if response.status_code != 200:
            raise EngineError(response.status_code, _message(response))
        try:
            return _tokenized(response)
        except ValueError as exc:
            raise EngineError(response.status_code, f"unreadable tokenizer answer: {exc}") from None

    async def tokenize_chat(
        self,
        endpoint: EngineEndpoint,
        path: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        continue_final_message: bool = False,
    ) -> Tokenized:
        body: dict[str, Any] = {"model": endpoint.served_model, "messages": list(messages)}
        if continue_final_message:
            body.update(continue_final_message=True, add_generation_prompt=False)
        return await self._post(endpoint, path, body)

    async def tokenize_text(self, endpoint: EngineEndpoint, path: str, text: str) -> Tokenized:
        body = {"model": endpoint.served_model, "prompt": text, "add_special_tokens": False}
        return await self._post(endpoint, path, body)

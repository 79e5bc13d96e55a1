"""``direct_completion``: a token-id continuation (``text-completion-openai/...``) reuses one OpenAI
client per engine and event loop instead of LiteLLM building one (an httpx client and its TLS
context) per call; other calls go to LiteLLM untouched."""

from __future__ import annotations

from typing import Any

import litellm
import pytest

from thinkbudget_litellm.handler import litellm_io
from thinkbudget_litellm.handler.litellm_io import TEXT_COMPLETION_PROVIDER, direct_completion


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    async def fake_acompletion(**kwargs: Any) -> str:
        seen.append(kwargs)
        return "ok"

    monkeypatch.setattr(litellm, "acompletion", fake_acompletion)
    monkeypatch.setattr(litellm_io, "_TEXT_CLIENTS", {})
    return seen


def _kwargs(api_base: str) -> dict[str, Any]:
    return {"model": f"{TEXT_COMPLETION_PROVIDER}/tiny", "api_base": api_base, "api_key": "none", "messages": []}


async def test_a_token_id_continuation_reuses_one_client_per_engine(calls: list[dict[str, Any]]) -> None:
    for base in ("http://a/v1", "http://a/v1", "http://b/v1"):
        assert await direct_completion(_kwargs(base)) == "ok"
    clients = [c["client"] for c in calls]
    assert clients[0] is clients[1] and clients[2] is not clients[0]
    assert str(clients[0].base_url).startswith("http://a/v1") and clients[0].max_retries == 0


async def test_other_calls_and_a_callers_client_are_left_alone(calls: list[dict[str, Any]]) -> None:
    mine = object()
    await direct_completion({"model": "hosted_vllm/tiny", "messages": []})
    await direct_completion({**_kwargs("http://a/v1"), "client": mine})
    assert "client" not in calls[0] and calls[1]["client"] is mine

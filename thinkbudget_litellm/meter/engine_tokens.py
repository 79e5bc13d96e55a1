"""The serving engine's own token counters, the attribution denominator when several proxy
instances share one GPU server (``TokenCounterSettings.source == "vllm"``).

vLLM's ``/metrics`` exposes ``vllm:generation_tokens_total`` and ``vllm:prompt_tokens_total``
(summed here over every label set: models, data-parallel ranks). Per tick, the engine weight is
``generated + prefill_weight x prompt``, the same weighting as our own requests.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from thinkbudget_litellm.meter.prom_text import MetricsTextError, counter_series
from thinkbudget_litellm.meter.sources.base import SourceError

GENERATION_METRIC = "vllm:generation_tokens_total"
PROMPT_METRIC = "vllm:prompt_tokens_total"


@dataclass(frozen=True, slots=True)
class EngineTokens:
    generated: float
    prompt: float


def parse_vllm_tokens(text: str) -> EngineTokens:
    """Cumulative generated and prompt tokens from vLLM metrics text; ``SourceError`` when absent."""
    try:
        gen = counter_series(text, GENERATION_METRIC)
        prompt = counter_series(text, PROMPT_METRIC)
    except MetricsTextError as exc:
        raise SourceError("vllm bad metrics", str(exc)) from None
    if not gen:
        raise SourceError("vllm bad metrics", f"{GENERATION_METRIC} not found")
    return EngineTokens(sum(v for _, v in gen), sum(v for _, v in prompt))


class EngineTokenTracker:
    """Cumulative engine counters -> the engine's token weight in each tick (pure)."""

    __slots__ = ("_last", "_prefill_weight")

    def __init__(self, prefill_weight: float) -> None:
        self._prefill_weight = prefill_weight
        self._last: EngineTokens | None = None

    def update(self, tokens: EngineTokens | None) -> float | None:
        """The tick's engine weight, or None (first reading, failed read, counter reset)."""
        last, self._last = self._last, tokens
        if tokens is None or last is None:
            return None
        d_gen = tokens.generated - last.generated
        d_prompt = tokens.prompt - last.prompt
        if d_gen < 0 or d_prompt < 0:
            return None  # engine restarted
        return d_gen + self._prefill_weight * d_prompt


class VllmTokenReader:
    """Scrapes a vLLM ``/metrics`` endpoint."""

    def __init__(self, url: str, timeout_s: float, client: httpx.AsyncClient | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"vllm metrics url must start with http:// or https://, got {url!r}")
        self._url = url
        self._timeout = timeout_s
        self._client = client
        self._owns_client = client is None

    async def read(self) -> EngineTokens:
        if self._client is None:
            self._client = httpx.AsyncClient()
        try:
            resp = await self._client.get(self._url, timeout=self._timeout)
        except httpx.TimeoutException:
            raise SourceError("vllm timeout", self._url) from None
        except httpx.HTTPError as exc:
            raise SourceError("vllm unreachable", f"{self._url}: {type(exc).__name__}") from None
        if resp.status_code != 200:
            raise SourceError(f"vllm http {resp.status_code}", self._url)
        return parse_vllm_tokens(resp.text)

    async def aclose(self) -> None:
        if self._client is not None and self._owns_client:
            await self._client.aclose()
        self._client = None

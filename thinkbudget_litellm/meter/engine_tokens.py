"""The serving engine's own token counters, the attribution denominator when several proxy
instances share one GPU server (``TokenCounterSettings.source == "vllm"``).

vLLM's ``/metrics`` exposes ``vllm:generation_tokens_total`` and ``vllm:prompt_tokens_total``
(summed here over every label set: models, data-parallel ranks). Per tick, the engine weight is
``generated + prefill_weight x prompt``, the same weighting as our own requests. Counter readings
are validated before they become a denominator (``EngineTokenTracker``).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from thinkbudget_litellm.meter.prom_text import MetricsTextError, counter_series
from thinkbudget_litellm.meter.sources.base import SourceError
from thinkbudget_litellm.meter.validate import CounterWindow, Rejection, check_step, check_value, metrics_url_problem

MAX_TOKENS_PER_GPU_S = 10_000_000.0
"""Bound on the engine's generated + prompt tokens per second per GPU, far above any real engine
(prefix-cached prompts count in full): it only keeps absurd counter values out of the shares."""

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


@dataclass(frozen=True, slots=True)
class TokenStep:
    """The engine's token weight in a tick (None: no usable delta) and why a reading was rejected."""

    weight: float | None
    rejection: Rejection | None = None


class EngineTokenTracker:
    """Cumulative engine counters -> the engine's token weight in each tick (pure).

    Readings are judged like energy readings (``validate``): non-finite or negative counters and
    implausible jumps (more than ``max_rate`` tokens per second over the span) are rejected and the
    baseline is dropped, as after a failed read; counters that went back (engine restart) become
    the new baseline. Either way that tick has no engine count. A failed read keeps the baseline:
    the next good read's delta covers the ticks in between (their tokens are not lost)."""

    __slots__ = ("_last", "_prefill_weight", "_window")

    def __init__(self, prefill_weight: float, max_staleness_s: float = 0.0) -> None:
        self._prefill_weight = prefill_weight
        self._last: EngineTokens | None = None
        self._window = CounterWindow(max_staleness_s)

    def update(
        self, tokens: EngineTokens | None, sent: float, received: float, max_rate: float | None = None
    ) -> TokenStep:
        """The tick's engine weight from a read sent at ``sent`` that returned ``tokens`` (None: it
        failed) at ``received``."""
        last, self._last = self._last, None
        if tokens is None:
            self._last = last  # covered by the next good read
            return TokenStep(None)
        for value in (tokens.generated, tokens.prompt):
            rejection = check_value(value)
            if rejection is not None:
                return TokenStep(None, rejection)
        if last is None:
            self._last = tokens
            self._window.baseline(sent)
            return TokenStep(None)
        if tokens.generated < last.generated or tokens.prompt < last.prompt:
            self._last = tokens
            self._window.baseline(sent)
            return TokenStep(None, Rejection.BACKWARDS)
        before, now = last.generated + last.prompt, tokens.generated + tokens.prompt
        rejection = check_step(before, now, self._window.span(received), max_rate)
        if rejection is not None:
            return TokenStep(None, rejection)
        self._last = tokens
        if now == before:
            self._window.same(sent)
        else:
            self._window.moved(sent)
        return TokenStep((tokens.generated - last.generated) + self._prefill_weight * (tokens.prompt - last.prompt))


class VllmTokenReader:
    """Scrapes a vLLM ``/metrics`` endpoint."""

    def __init__(self, url: str, timeout_s: float, client: httpx.AsyncClient | None = None) -> None:
        problem = metrics_url_problem(url)
        if problem is not None:
            raise ValueError(f"vllm metrics url {problem}")
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

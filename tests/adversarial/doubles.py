"""Test doubles the adversarial stack serves from the test process, each on its own thread and
event loop (so the proxy subprocess can reach them while the test sends requests):

* :class:`HostileDcgm`: a DCGM-style exporter that lies, serving ``NaN``, ``+Inf``, ``-Inf``,
  ``-1e308`` and ``1e308`` between plausible readings of its energy counter;
* :class:`EngineDouble`: vLLM's ``/v1/completions`` and ``/v1/responses`` (which the simulated
  backend does not serve), recording every body it receives and honouring ``thinking_token_budget``
  the way vLLM does, plus a plausible DCGM ``/metrics``.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

HOSTILE_VALUES = ("NaN", "+Inf", "-1e308", "-Inf", "1e308")
PLAUSIBLE_WATTS = 300.0
MODEL = "deepseek-r1-distill-qwen-7b"


@contextmanager
def serve_in_thread(app: web.Application) -> Iterator[str]:
    """Serve ``app`` on a free loopback port from a daemon thread; yields ``http://127.0.0.1:PORT``."""
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    state: dict[str, Any] = {}

    async def start() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        state["runner"], state["base"] = runner, f"http://127.0.0.1:{runner.addresses[0][1]}"
        ready.set()

    def main() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()
        loop.run_until_complete(state["runner"].cleanup())
        loop.close()

    thread = threading.Thread(target=main, name="adv-double", daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("a test double did not start")
    try:
        yield str(state["base"])
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)


def dcgm_exposition(value: str) -> str:
    """DCGM exporter text whose energy counter (mJ) and power gauge read ``value``, as written."""
    labels = 'gpu="0",UUID="GPU-adv-0",device="nvidia0",modelName="adversarial double",Hostname="adv"'
    return (
        "# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).\n"
        "# TYPE DCGM_FI_DEV_POWER_USAGE gauge\n"
        f"DCGM_FI_DEV_POWER_USAGE{{{labels}}} {value}\n"
        "# HELP DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION Total energy consumption since boot (in mJ).\n"
        "# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter\n"
        f"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{{{labels}}} {value}\n"
    )


@dataclass
class _PlausibleCounter:
    started: float = field(default_factory=time.monotonic)

    def millijoules(self) -> str:
        return f"{1.0e9 + (time.monotonic() - self.started) * PLAUSIBLE_WATTS * 1000.0:.0f}"


@dataclass
class HostileDcgm:
    """Every other scrape is hostile; the others read a counter rising at ``PLAUSIBLE_WATTS``."""

    url: str = ""
    scrapes: int = 0
    served: list[str] = field(default_factory=list)
    counter: _PlausibleCounter = field(default_factory=_PlausibleCounter)

    def next_value(self) -> str:
        n = self.scrapes
        self.scrapes += 1
        if n % 2:
            return HOSTILE_VALUES[(n // 2) % len(HOSTILE_VALUES)]
        return self.counter.millijoules()

    async def _metrics(self, request: web.Request) -> web.Response:
        value = self.next_value()
        self.served.append(value)
        del self.served[:-50]
        return web.Response(text=dcgm_exposition(value), content_type="text/plain")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        return app


@contextmanager
def running_hostile_dcgm() -> Iterator[HostileDcgm]:
    exporter = HostileDcgm()
    with serve_in_thread(exporter.app()) as base:
        exporter.url = base + "/metrics"
        yield exporter


@dataclass
class EngineDouble:
    """vLLM's text-completion and Responses endpoints, thinking ``natural_think_tokens`` words unless
    ``thinking_token_budget`` caps it (vLLM with a reasoning parser)."""

    base: str = ""
    natural_think_tokens: int = 900
    bodies: list[dict[str, Any]] = field(default_factory=list)
    counter: _PlausibleCounter = field(default_factory=_PlausibleCounter)

    def _thinking(self, body: dict[str, Any]) -> int:
        budget = body.get("thinking_token_budget")
        if isinstance(budget, int) and not isinstance(budget, bool) and budget >= 0:
            return min(budget, self.natural_think_tokens)
        return self.natural_think_tokens

    async def _completions(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.bodies.append(body)
        think = self._thinking(body)
        text = "<think>" + "hmm " * think + "</think>\n\nThe answer."
        return web.json_response(
            {
                "id": f"cmpl-{uuid.uuid4().hex}",
                "object": "text_completion",
                "created": int(time.time()),
                "model": MODEL,
                "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 20, "completion_tokens": think + 4, "total_tokens": think + 24},
            }
        )

    async def _responses(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.bodies.append(body)
        think = self._thinking(body)
        message = {
            "type": "message",
            "id": f"msg_{uuid.uuid4().hex}",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "The answer.", "annotations": []}],
        }
        reasoning = {
            "type": "reasoning",
            "id": f"rs_{uuid.uuid4().hex}",
            "summary": [],
            "content": [{"type": "reasoning_text", "text": "hmm " * think}],
        }
        usage = {
            "input_tokens": 20,
            "output_tokens": think + 3,
            "total_tokens": think + 23,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": think},
        }
        return web.json_response(
            {
                "id": f"resp_{uuid.uuid4().hex}",
                "object": "response",
                "created_at": int(time.time()),
                "status": "completed",
                "model": MODEL,
                "output": [reasoning, message],
                "usage": usage,
            }
        )

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(text=dcgm_exposition(self.counter.millijoules()), content_type="text/plain")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/completions", self._completions)
        app.router.add_post("/v1/responses", self._responses)
        app.router.add_get("/metrics", self._metrics)
        return app


@contextmanager
def running_engine_double() -> Iterator[EngineDouble]:
    engine = EngineDouble()
    with serve_in_thread(engine.app()) as base:
        engine.base = base
        yield engine

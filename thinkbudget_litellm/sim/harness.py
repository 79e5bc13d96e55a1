"""Run the simulated backend (a test double of vLLM) in a background thread on a free loopback port.

    with SimServer(SimConfig(tokens_per_second=0)) as sim:
        openai.OpenAI(base_url=sim.base_url, api_key="x").chat.completions.create(...)

Works from sync code and, with ``async with``, from a running event loop (the server has its own loop
in its own thread, so it never blocks the caller's).
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType

from thinkbudget_litellm.sim.config import SimConfig
from thinkbudget_litellm.sim.server import serve


class SimServer:
    def __init__(self, config: SimConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config, self.host, self.port = config or SimConfig(), host, port
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    @property
    def url(self) -> str:
        """Server root, e.g. http://127.0.0.1:PORT (metrics at url + "/metrics")."""
        return self.base_url.removesuffix("/v1")

    def _on_ready(self, base_url: str) -> None:
        self.base_url = base_url
        self.port = int(base_url.rsplit(":", 1)[1].split("/")[0])
        self._ready.set()

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        await serve(self.config, self.host, self.port, self._on_ready, self._stop)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    def start(self, timeout: float = 10.0) -> SimServer:
        self._thread = threading.Thread(target=self._run, name="sim-backend", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or self._error is not None:
            raise RuntimeError(f"simulated backend did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> SimServer:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)

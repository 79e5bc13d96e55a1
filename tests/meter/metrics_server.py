"""A local aiohttp server serving Prometheus text (DCGM exporter or vLLM style) for the tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web


class MetricsServer:
    def __init__(self) -> None:
        self.text = ""
        self.status = 200
        self.delay_s = 0.0
        self.hits = 0
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return web.Response(text=self.text, status=self.status, content_type="text/plain")

    @asynccontextmanager
    async def running(self) -> AsyncIterator[MetricsServer]:
        app = web.Application()
        app.router.add_get("/metrics", self._handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/metrics"
        try:
            yield self
        finally:
            await runner.cleanup()


def dcgm_text(mj_by_gpu: dict[str, float]) -> str:
    lines = [
        "# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).",
        "# TYPE DCGM_FI_DEV_POWER_USAGE gauge",
    ]
    for gpu in mj_by_gpu:
        lines.append(f'DCGM_FI_DEV_POWER_USAGE{{gpu="{gpu}",UUID="GPU-{gpu}",device="nvidia{gpu}"}} 301.5')
    lines += [
        "# HELP DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION Total energy consumption since boot (in mJ).",
        "# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter",
    ]
    for gpu, mj in mj_by_gpu.items():
        lines.append(
            f'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{{gpu="{gpu}",UUID="GPU-{gpu}",device="nvidia{gpu}",'
            f'modelName="NVIDIA H100 80GB HBM3",Hostname="node1"}} {mj:.0f}'
        )
    return "\n".join(lines) + "\n"


def vllm_text(generated: float, prompt: float) -> str:
    return (
        "# HELP vllm:num_requests_running Number of requests in model execution batches.\n"
        "# TYPE vllm:num_requests_running gauge\n"
        'vllm:num_requests_running{engine="0",model_name="qwen"} 3.0\n'
        "# HELP vllm:prompt_tokens_total Number of prefill tokens processed.\n"
        "# TYPE vllm:prompt_tokens_total counter\n"
        f'vllm:prompt_tokens_total{{engine="0",model_name="qwen"}} {prompt}\n'
        "# HELP vllm:generation_tokens_total Number of generation tokens processed.\n"
        "# TYPE vllm:generation_tokens_total counter\n"
        f'vllm:generation_tokens_total{{engine="0",model_name="qwen"}} {generated}\n'
        "# HELP vllm:request_generation_tokens Number of generation tokens processed.\n"
        "# TYPE vllm:request_generation_tokens histogram\n"
        'vllm:request_generation_tokens_bucket{engine="0",le="1.0",model_name="qwen"} 0.0\n'
        'vllm:request_generation_tokens_bucket{engine="0",le="+Inf",model_name="qwen"} 9.0\n'
        'vllm:request_generation_tokens_count{engine="0",model_name="qwen"} 9.0\n'
        'vllm:request_generation_tokens_sum{engine="0",model_name="qwen"} 999.0\n'
    )

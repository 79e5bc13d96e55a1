"""The simulated backend on a real loopback port: disconnects, the harness, the OpenAI SDK and the CLI."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import openai
import pytest
import typer
from typer.testing import CliRunner

from thinkbudget_litellm.cli import sim_cmd
from thinkbudget_litellm.sim import SimConfig, SimServer, Style

REPO = Path(__file__).resolve().parents[2]


async def wait_for_status(session: aiohttp.ClientSession, url: str, status: str) -> dict[str, Any]:
    for _ in range(200):
        stats = await (await session.get(url + "/sim/stats")).json()
        if stats["recent"] and stats["recent"][-1]["status"] == status:
            return stats
        await asyncio.sleep(0.025)
    raise AssertionError(f"request never reached {status}: {stats}")


async def test_client_disconnect_stops_generation_and_is_counted() -> None:
    config = SimConfig(tokens_per_second=200, think_tokens=5000)  # 25 s of stream if nobody hung up
    async with SimServer(config) as sim, aiohttp.ClientSession() as session:
        body = {"messages": [{"role": "user", "content": "hi"}], "stream": True}
        async with session.post(sim.base_url + "/chat/completions", json=body) as resp:
            got = 0
            async for line in resp.content:
                got += line.startswith(b"data: ")
                if got == 6:  # role chunk + 5 tokens
                    break
        stats = await wait_for_status(session, sim.url, "disconnected")
        entry = stats["recent"][-1]
        assert stats["disconnects"] == 1 and entry["disconnected"] and entry["answer_tokens"] == 0
        assert 5 <= entry["think_tokens"] < 5000
        await asyncio.sleep(0.2)
        later = await (await session.get(sim.url + "/sim/stats")).json()
        assert later["recent"][-1]["think_tokens"] == entry["think_tokens"]  # nothing generated after
        assert later["tokens"]["total"] == entry["completion_tokens"]


async def test_non_streaming_disconnect_is_counted_too() -> None:
    async with (
        SimServer(SimConfig(tokens_per_second=200, think_tokens=5000)) as sim,
        aiohttp.ClientSession() as s,
    ):
        with pytest.raises(asyncio.TimeoutError):
            await s.post(
                sim.base_url + "/chat/completions",
                json={"messages": [{"role": "user", "content": "x"}]},
                timeout=aiohttp.ClientTimeout(total=0.3),
            )
        stats = await wait_for_status(s, sim.url, "disconnected")
        # generation stopped at the disconnect (how far it got in 0.3 s depends on the machine's load)
        assert stats["disconnects"] == 1 and stats["recent"][-1]["think_tokens"] < 5000


def test_openai_sdk_reads_the_stream_and_the_sim_body_controls() -> None:
    with SimServer(SimConfig(tokens_per_second=0, native_budget=True)) as sim:
        client = openai.OpenAI(base_url=sim.base_url, api_key="unused")
        stream = client.chat.completions.create(
            model="sim-r1-distill",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
            extra_body={"thinking_token_budget": 12, "sim": {"think_tokens": 40, "answer_tokens": 9}},
        )
        chunks = list(stream)
        reasoning = [getattr(c.choices[0].delta, "reasoning", None) for c in chunks if c.choices]
        assert sum(r is not None for r in reasoning) == 12
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 12 + 1 + 9
        assert httpx.get(sim.url + "/metrics").text.count("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{") == 1


def test_cli_builds_the_config_and_cli_args_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[SimConfig, str, int]] = []
    monkeypatch.setattr("thinkbudget_litellm.sim.server.run_server", lambda c, h, p: seen.append((c, h, p)))
    app = typer.Typer()
    sim_cmd.register(app)
    app.command("noop")(lambda: None)  # a second command keeps "sim-backend" a subcommand
    config = SimConfig(
        style=Style.INLINE,
        native_budget=True,
        think_tokens=77,
        tokens_per_second=0,
        gpus=2,
        idle_watts=12.5,
        model_name="r1",
    )
    result = CliRunner().invoke(app, ["sim-backend", "--port", "9", *sim_cmd.cli_args(config)])
    assert result.exit_code == 0, result.output
    assert seen == [(config, "127.0.0.1", 9)]
    bad = CliRunner().invoke(app, ["sim-backend", "--think-min", "500", "--think-max", "100"])
    assert bad.exit_code != 0 and "think_min" in bad.output


def test_subprocess_prints_a_ready_line_and_serves(tmp_path: Path) -> None:
    main = tmp_path / "throwaway_main.py"
    main.write_text(
        textwrap.dedent("""
        import typer
        from thinkbudget_litellm.cli.sim_cmd import register
        app = typer.Typer()
        register(app)
        app.command("noop")(lambda: None)
        app()
    """)
    )
    proc = subprocess.Popen(
        [sys.executable, str(main), "sim-backend", "--port", "0", "--tokens-per-second", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line and "SIMULATED" in line
        base_url = line.split("listening on ")[1].strip()
        body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 3}
        assert httpx.post(base_url + "/chat/completions", json=body).json()["usage"]["completion_tokens"] == 3
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0

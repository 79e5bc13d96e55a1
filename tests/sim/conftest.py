"""Fixtures for the simulated-backend tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from thinkbudget_litellm.sim import SimConfig, build_app


@pytest.fixture
async def sim_client() -> AsyncIterator[Callable[..., Awaitable[TestClient[Any, Any]]]]:
    """Factory: ``await sim_client(**SimConfig fields)`` -> aiohttp TestClient (unpaced by default)."""
    clients: list[TestClient[Any, Any]] = []

    async def make(**fields: Any) -> TestClient[Any, Any]:
        fields.setdefault("tokens_per_second", 0)
        client: TestClient[Any, Any] = TestClient(TestServer(build_app(SimConfig(**fields))))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()

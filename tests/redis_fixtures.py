"""Throwaway Redis servers for tests: ``redis-server`` from the installed binary, on a free loopback
port, persisting nothing, in a temp directory. Without the binary, the fixture skips saying why.

Use from a test module or conftest::

    from tests.redis_fixtures import redis_port  # noqa: F401   (in a conftest.py)
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


class RedisUnavailable(RuntimeError):
    """No ``redis-server`` here, or it did not come up."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def throwaway_redis(directory: Path, ready_s: float = 10.0) -> Iterator[int]:
    """A ``redis-server`` on a free loopback port (yielded) for the duration of the block."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisUnavailable("redis-server is not installed here (Debian: apt-get install redis-server)")
    port = _free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen([*args, "--dir", str(directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + ready_s
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RedisUnavailable(f"redis-server did not start on port {port}") from None
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    try:
        with throwaway_redis(tmp_path_factory.mktemp("redis")) as port:
            yield port
    except RedisUnavailable as exc:
        pytest.skip(str(exc))

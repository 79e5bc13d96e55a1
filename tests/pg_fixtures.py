"""Throwaway PostgreSQL servers for tests and benchmarks, with LiteLLM's real tables.

* :class:`ThrowawayPostgres` runs ``initdb`` / ``pg_ctl`` from the installed server binaries in a temp
  directory, on a free loopback port, with its unix socket in that directory. As root it runs them as
  the ``postgres`` OS user (``initdb`` refuses root).
* :meth:`ThrowawayPostgres.create_litellm_template` applies LiteLLM's own plain-SQL migrations
  (``litellm_proxy_extras/migrations/*/migration.sql``, lexical order, one ``psql`` run, no wrapping
  transaction because some use ``CREATE INDEX CONCURRENTLY``) to a template database once; each test
  then gets a fresh copy with ``CREATE DATABASE ... TEMPLATE`` (a fraction of a second).
* pytest fixtures: ``pg_server`` (session), ``litellm_db`` and ``empty_db`` (function: URL of a
  fresh database with / without LiteLLM's tables). Without server binaries they skip, saying why.

Use from a conftest::

    from tests.pg_fixtures import empty_db, litellm_db, pg_server  # noqa: F401
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

TEMPLATE_DB = "litellm_template"
_counter = itertools.count(1)


class PostgresUnavailable(RuntimeError):
    """No usable PostgreSQL server binaries (or no way to run them) on this machine."""


def find_pg_bin_dir() -> Path | None:
    """The directory holding initdb, pg_ctl and psql (newest Debian-style install first)."""
    explicit = os.environ.get("THINKBUDGET_PG_BIN")
    candidates: list[Path] = [Path(explicit)] if explicit else []
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += [Path(p) for p in versions]
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True)
            candidates.append(Path(out.stdout.strip()))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    candidates.append(Path("/usr/local/bin"))
    for directory in candidates:
        if all((directory / tool).exists() for tool in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


def find_psql(bin_dir: Path) -> str:
    own = bin_dir / "psql"
    if own.exists():
        return str(own)
    found = shutil.which("psql")
    if not found:
        raise PostgresUnavailable("psql not found")
    return found


def litellm_migration_files() -> list[Path]:
    """LiteLLM's migration.sql files, in the order Prisma applies them (folder name order)."""
    import litellm_proxy_extras

    root = Path(litellm_proxy_extras.__file__).parent / "migrations"
    files = sorted(root.glob("*/migration.sql"), key=lambda p: p.parent.name)
    if not files:
        raise PostgresUnavailable(f"no LiteLLM migrations under {root}")
    return files


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayPostgres:
    """One temporary PostgreSQL cluster: ``start()``, ``stop()``, ``destroy()``; trust auth, loopback only."""

    def __init__(self, *, fsync: bool = False, bin_dir: Path | None = None) -> None:
        found = bin_dir or find_pg_bin_dir()
        if found is None:
            raise PostgresUnavailable("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found")
        self.bin_dir = found
        self.psql = find_psql(found)
        self.fsync = fsync
        self.as_user: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable("running as root and there is no 'postgres' OS user") from None
            if shutil.which("runuser") is None:
                raise PostgresUnavailable("running as root and runuser is missing")
            self.as_user = "postgres"
        self.root = Path(tempfile.mkdtemp(prefix="thinkbudget-pg-"))
        self.data_dir = self.root / "data"
        self.socket_dir = self.root
        self.log_file = self.root / "server.log"
        self.port = free_port()
        if self.as_user is not None:
            record = pwd.getpwnam(self.as_user)
            os.chown(self.root, record.pw_uid, record.pw_gid)
        self.root.chmod(0o755)
        self._initdb()

    # ------------------------------------------------------------------ process control
    def _server_command(self, *argv: str) -> list[str]:
        if self.as_user is None:
            return list(argv)
        return ["runuser", "-u", self.as_user, "--", *argv]

    def _run(self, argv: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def _initdb(self) -> None:
        self._run(
            self._server_command(
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            )
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            f"-c max_connections=100 -c shared_buffers=64MB"
        )
        if not self.fsync:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            self._server_command(
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            )
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(
            self._server_command(
                str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "-t", "60", "stop"
            )
        )

    def is_running(self) -> bool:
        result = subprocess.run(
            self._server_command(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "status"),
            capture_output=True,
            text=True,
            check=False,
        )
        return result.returncode == 0

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            if self.is_running():
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    # ------------------------------------------------------------------ SQL helpers
    def url(self, database: str = "postgres", driver: str = "asyncpg") -> str:
        return f"postgresql+{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def prisma_url(self, database: str = "postgres") -> str:
        """What LiteLLM's DATABASE_URL would look like for this server."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}?connection_limit=5&pool_timeout=10"

    def _psql_argv(self, database: str) -> list[str]:
        """psql over this server's unix socket, quiet, stopping at the first error."""
        return [
            self.psql,
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(self.socket_dir),
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            database,
        ]

    def run_sql(self, sql: str, database: str = "postgres") -> str:
        result = self._run([*self._psql_argv(database), "-A", "-t", "-c", sql])
        return result.stdout.strip()

    def run_files(self, files: list[Path], database: str) -> None:
        argv = self._psql_argv(database)
        for path in files:
            argv += ["-f", str(path)]
        self._run(argv, timeout=600)

    def create_litellm_template(self) -> None:
        """A template database holding LiteLLM's real schema (+ the call-id index LiteLLM builds later)."""
        self.run_sql(f"CREATE DATABASE {TEMPLATE_DB}")
        self.run_files(litellm_migration_files(), TEMPLATE_DB)
        self.run_sql(
            'CREATE INDEX IF NOT EXISTS "LiteLLM_SpendLogs_litellm_call_id_idx" '
            'ON "LiteLLM_SpendLogs" ("litellm_call_id")',
            TEMPLATE_DB,
        )

    def create_database(self, *, with_litellm: bool) -> str:
        name = f"t_{os.getpid()}_{next(_counter)}"
        template = f" TEMPLATE {TEMPLATE_DB}" if with_litellm else ""
        self.run_sql(f"CREATE DATABASE {name}{template}")
        return name

    def drop_database(self, name: str) -> None:
        with contextlib.suppress(Exception):
            self.run_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                self.run_sql("SELECT 1")
                return
            except RuntimeError:
                time.sleep(0.1)
        raise RuntimeError("postgres did not become ready")


def start_litellm_postgres(*, fsync: bool = False) -> ThrowawayPostgres:
    """A started throwaway server with the LiteLLM template database (for benchmarks and scripts)."""
    server = ThrowawayPostgres(fsync=fsync)
    try:
        server.start()
        server.create_litellm_template()
    except BaseException:
        server.destroy()
        raise
    return server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[ThrowawayPostgres]:
    try:
        server = start_litellm_postgres()
    except PostgresUnavailable as exc:
        pytest.skip(f"no throwaway PostgreSQL: {exc}")
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def litellm_db(pg_server: ThrowawayPostgres) -> Iterator[str]:
    """Name of a fresh database holding LiteLLM's tables (``pg_server.url(name)`` for its URL)."""
    if not pg_server.is_running():  # a previous test stopped it and failed before restarting
        pg_server.start()
    name = pg_server.create_database(with_litellm=True)
    yield name
    pg_server.drop_database(name)


@pytest.fixture
def empty_db(pg_server: ThrowawayPostgres) -> Iterator[str]:
    """Name of a fresh, empty database (no LiteLLM tables)."""
    if not pg_server.is_running():
        pg_server.start()
    name = pg_server.create_database(with_litellm=False)
    yield name
    pg_server.drop_database(name)

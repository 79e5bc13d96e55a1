"""A full spool disk: no partial lines, shipping never wedged, recovery by itself, drops counted.

Two ways to fill a disk:

* :class:`SmallDisk` replaces the spool's one file-writing seam (``spool.write_fd``) with a disk of a
  given capacity, measured from the files really under the spool root (deleting a file frees space).
  It writes what fits, then fails with ENOSPC, like a real filesystem.
* ``tmpfs_256k``: a real 256 KiB tmpfs (needs root and mount permission; skipped otherwise).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.pg_fixtures import ThrowawayPostgres
from tests.record.record_builders import make_record
from thinkbudget_litellm.metrics import RECORDS_DROPPED
from thinkbudget_litellm.record import spool as spool_module
from thinkbudget_litellm.record.database_url import clean_database_url
from thinkbudget_litellm.record.migrate import upgrade_database
from thinkbudget_litellm.record.spool import (
    CHECKPOINT_NAME,
    REJECTED_NAME,
    Position,
    Spool,
    append_rejected,
)
from thinkbudget_litellm.record.spool_codec import decode_line, encode_record
from thinkbudget_litellm.record.writer import RecordWriter


def _path_of(fd: int) -> str:
    return os.readlink(f"/proc/self/fd/{fd}")


def _used_bytes(root: Path) -> int:
    total = 0
    for directory, _dirs, files in os.walk(root):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += os.stat(os.path.join(directory, name)).st_size
    return total


class SmallDisk:
    """``write_fd`` for a disk of ``capacity`` bytes under ``root`` (None: unlimited).

    ``only``: fail only writes to paths it accepts (others go through).
    """

    def __init__(self, root: Path, capacity: int | None, only: Callable[[str], bool] | None = None) -> None:
        self.root = root
        self.capacity = capacity
        self.only = only
        self.refused = 0

    def __call__(self, fd: int, data: memoryview | bytes) -> int:
        if self.capacity is None or (self.only is not None and not self.only(_path_of(fd))):
            return os.write(fd, data)
        free = self.capacity - _used_bytes(self.root)
        if free <= 0:
            self.refused += 1
            raise OSError(errno.ENOSPC, "No space left on device")
        return os.write(fd, bytes(data[:free]))


@pytest.fixture
def small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SmallDisk:
    disk = SmallDisk(tmp_path / "spool", None)
    monkeypatch.setattr(spool_module, "write_fd", disk)
    return disk


def _lines(start: int, n: int) -> list[bytes]:
    return [encode_record(make_record(i)) for i in range(start, start + n)]


def _drain(spool: Spool) -> list[str]:
    ids: list[str] = []
    while True:
        batch = spool.read_batch(spool.checkpoint, 7)
        assert batch.torn_lines == 0
        if not batch.lines and batch.end == spool.checkpoint:
            return ids
        ids += [decode_line(line)["litellm_call_id"] for line in batch.lines]
        spool.acknowledge(batch.end)


def _segment_bytes(spool: Spool) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(spool.directory.glob("seg-*.jsonl")))


# ---------------------------------------------------------------------------------------------- spool


def test_an_append_that_does_not_fit_writes_nothing(tmp_path: Path, small_disk: SmallDisk) -> None:
    spool = Spool.create(tmp_path / "spool", "inst", segment_bytes=1 << 20, max_bytes=1 << 30)
    first = _lines(0, 3)
    spool.append(b"".join(first))
    small_disk.capacity = _used_bytes(small_disk.root) + len(first[0]) // 2  # room for half a line
    with pytest.raises(OSError) as raised:
        spool.append(b"".join(_lines(3, 2)))
    assert raised.value.errno == errno.ENOSPC
    assert _segment_bytes(spool) == b"".join(first)  # no partial line was left behind
    small_disk.capacity = None
    spool.append(b"".join(_lines(5, 2)))
    assert _drain(spool) == [f"call-{i:08d}" for i in (0, 1, 2, 5, 6)]


def test_a_checkpoint_that_cannot_be_written_is_kept_in_memory(tmp_path: Path, small_disk: SmallDisk) -> None:
    spool = Spool.create(tmp_path / "spool", "inst", segment_bytes=1 << 20, max_bytes=1 << 30)
    spool.append(b"".join(_lines(0, 10)))
    small_disk.capacity = 0
    small_disk.only = lambda path: CHECKPOINT_NAME in path
    first = spool.read_batch(spool.checkpoint, 4)
    assert spool.acknowledge(first.end) is False
    assert spool.checkpoint == first.end and spool.checkpoint_dirty
    on_disk = json.loads((spool.directory / CHECKPOINT_NAME).read_text())
    assert Position(on_disk["segment"], on_disk["offset"]) == Position(1, 0)
    assert not list(spool.directory.glob("*.tmp"))  # no half-written temporary file either
    assert _drain(spool) == [f"call-{i:08d}" for i in range(4, 10)]  # shipping goes on
    small_disk.capacity = None
    assert spool.persist_checkpoint() and not spool.checkpoint_dirty
    on_disk = json.loads((spool.directory / CHECKPOINT_NAME).read_text())
    assert Position(on_disk["segment"], on_disk["offset"]) == spool.checkpoint


def test_acknowledged_bytes_are_freed_when_the_disk_is_full(tmp_path: Path, small_disk: SmallDisk) -> None:
    spool = Spool.create(tmp_path / "spool", "inst", segment_bytes=1 << 20, max_bytes=1 << 30)
    line_size = len(_lines(0, 1)[0])
    small_disk.capacity = _used_bytes(small_disk.root) + 10 * line_size + line_size // 2
    spooled = 0
    with pytest.raises(OSError):
        for i in range(100):
            spool.append(_lines(i, 1)[0])
            spooled += 1
    assert spooled == 10
    # The database takes everything spooled; the checkpoint cannot even be written (disk full).
    assert _drain(spool) == [f"call-{i:08d}" for i in range(10)]
    # The next append frees the acknowledged segment first, then fits.
    spool.append(b"".join(_lines(50, 5)))
    assert _drain(spool) == [f"call-{i:08d}" for i in range(50, 55)]
    assert spool.persist_checkpoint()


def test_a_full_disk_rolls_to_a_new_segment_so_the_old_one_can_be_freed(tmp_path: Path, small_disk: SmallDisk) -> None:
    spool = Spool.create(tmp_path / "spool", "inst", segment_bytes=1 << 20, max_bytes=1 << 30)
    spool.append(b"".join(_lines(0, 10)))
    small_disk.capacity = _used_bytes(small_disk.root)
    half = spool.read_batch(spool.checkpoint, 5)
    spool.acknowledge(half.end)  # half acknowledged: the segment cannot be deleted yet
    with pytest.raises(OSError):
        spool.append(_lines(10, 1)[0])
    assert _drain(spool) == [f"call-{i:08d}" for i in range(5, 10)]
    assert not (spool.directory / "seg-000000000001.jsonl").exists()  # shipped, so freed
    spool.append(b"".join(_lines(20, 3)))
    assert _drain(spool) == [f"call-{i:08d}" for i in range(20, 23)]


def test_rejected_lines_are_kept_whole_or_not_at_all(tmp_path: Path, small_disk: SmallDisk) -> None:
    root = tmp_path / "spool"
    append_rejected(root, b'{"litellm_call_id":"a"}', "first")
    small_disk.capacity = _used_bytes(root) + 10
    with pytest.raises(OSError):
        append_rejected(root, b'{"litellm_call_id":"b"}', "second")
    entries = (root / REJECTED_NAME).read_text().splitlines()
    assert [json.loads(e)["reason"] for e in entries] == ["first"]


# ---------------------------------------------------------------------------------------------- writer


def _dropped_no_space() -> float:
    return RECORDS_DROPPED.labels(reason="no_space")._value.get()


async def _until(condition: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def _sqlite_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM request_records").fetchone()[0])


async def test_writer_recovers_from_a_full_spool_disk_by_itself(tmp_path: Path, small_disk: SmallDisk) -> None:
    """Database unavailable, spool disk full, queue full: drops are counted as no_space; once the
    database is back the spool frees itself and everything not dropped lands, nothing set aside."""
    db = tmp_path / "late.sqlite"
    target = clean_database_url(f"sqlite:///{db}")
    small_disk.capacity = 30 * 600
    writer = RecordWriter(
        target,
        spool_dir=small_disk.root,
        flush_interval_s=0.01,
        max_queue=40,
        retry_initial_s=0.02,
        retry_max_s=0.05,
    )
    before = _dropped_no_space()
    await writer.start()
    try:
        for n in range(150):
            writer.submit(make_record(n))
            if n % 10 == 9:
                await asyncio.sleep(0.02)
        assert await _until(lambda: writer.stats().spool_no_space)
        for n in range(150, 200):
            writer.submit(make_record(n))
        stats = writer.stats()
        assert stats.dropped_no_space > 0 and stats.dropped_queue_full == 0
        assert _dropped_no_space() - before == stats.dropped_no_space
        await upgrade_database(target)  # the database comes back
        assert await writer.wait_idle(60), writer.stats()
        for n in range(200, 260, 10):  # the spool keeps working: twice what the disk holds at once
            for m in range(n, n + 10):
                writer.submit(make_record(m))
            assert await writer.wait_idle(60), writer.stats()
    finally:
        await writer.stop()
    stats = writer.stats()
    assert not stats.spool_no_space
    assert _sqlite_count(db) == stats.submitted == 260 - stats.dropped_no_space
    assert stats.rejected == stats.torn == 0
    assert not (writer.spool_root / REJECTED_NAME).exists()


async def test_checkpoints_that_cannot_be_written_do_not_wedge_shipping(tmp_path: Path, small_disk: SmallDisk) -> None:
    db = tmp_path / "ok.sqlite"
    small_disk.capacity = 0
    small_disk.only = lambda path: CHECKPOINT_NAME in path
    writer = RecordWriter(f"sqlite:///{db}", spool_dir=small_disk.root, auto_upgrade=True, batch_size=25)
    await writer.start()
    try:
        for n in range(200):
            writer.submit(make_record(n))
        assert await writer.wait_idle(60), writer.stats()
        assert small_disk.refused > 0
        spool = writer._spool
        assert spool is not None and spool.checkpoint_dirty
        small_disk.capacity = None  # space again: the idle writer writes the checkpoint
        assert await _until(lambda: not spool.checkpoint_dirty)
    finally:
        await writer.stop()
    assert _sqlite_count(db) == 200 and writer.stats().rejected == 0


async def test_start_adopts_a_dead_writers_spool_at_once_and_submit_never_raises(tmp_path: Path) -> None:
    db = tmp_path / "adopt.sqlite"
    dead = RecordWriter(f"sqlite:///{db}", spool_dir=tmp_path / "spool")
    dead_spool = Spool.create(dead.spool_root, "dead", segment_bytes=1 << 20, max_bytes=1 << 30)
    dead_spool.append(b"".join(_lines(0, 20)))
    dead_spool.close(remove=False)  # as if its process had been killed
    writer = RecordWriter(f"sqlite:///{db}", spool_dir=tmp_path / "spool", auto_upgrade=True)
    await writer.start()
    try:
        assert writer.stats().orphans_pending == 1  # adopted before start() returned
        writer.submit(object())  # type: ignore[arg-type]  # not a record: counted, never raised
        writer.submit(None)  # type: ignore[arg-type]
        assert await writer.wait_idle(60), writer.stats()
    finally:
        await writer.stop()
    assert _sqlite_count(db) == 20


# ---------------------------------------------------------------------------------------------- tmpfs


@pytest.fixture
def tmpfs_256k(tmp_path: Path) -> Iterator[Path]:
    """A real 256 KiB filesystem (skipped where this process may not mount one)."""
    mount_point = tmp_path / "tmpfs"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a 256 KiB tmpfs needs root")
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _free_bytes(path: Path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def _padded(n: int, prefix: str) -> object:
    return make_record(n, prefix=prefix, extra={"n": n, "pad": "x" * 1400})


@pytest.mark.postgres
async def test_tmpfs_full_while_postgres_is_down_recovers_when_it_returns(
    pg_server: ThrowawayPostgres, litellm_db: str, tmpfs_256k: Path
) -> None:
    """The red-team scenario: 256 KiB spool disk, Postgres down, 500 requests; then Postgres returns."""
    url = pg_server.url(litellm_db)
    await upgrade_database(clean_database_url(url))
    prefix = f"full-{uuid.uuid4().hex[:6]}"
    writer = RecordWriter(
        url, spool_dir=tmpfs_256k, flush_interval_s=0.01, max_queue=100, retry_initial_s=0.05, retry_max_s=0.2
    )
    before = _dropped_no_space()
    pg_server.stop("fast")
    try:
        await writer.start()
        for n in range(500):
            writer.submit(_padded(n, prefix))  # type: ignore[arg-type]
            if n % 20 == 19:
                await asyncio.sleep(0.02)
        assert await _until(lambda: _free_bytes(tmpfs_256k) < 4096)  # the disk is full
    finally:
        await asyncio.to_thread(pg_server.start)
    try:
        assert await writer.wait_idle(90), writer.stats()  # recovered by itself
        stats = writer.stats()
        assert stats.dropped_no_space > 0  # 500 x ~2 KB do not fit in 256 KiB plus 100 queued
        assert _dropped_no_space() - before == stats.dropped_no_space
        for n in range(500, 800):  # the spool recycles its space: more than fits at once
            writer.submit(_padded(n, prefix))  # type: ignore[arg-type]
            if n % 20 == 19:
                await asyncio.sleep(0.02)
        assert await writer.wait_idle(90), writer.stats()
    finally:
        await writer.stop()
    stats = writer.stats()
    stored = int(
        pg_server.run_sql(
            f"SELECT count(*) FROM thinkbudget.request_records WHERE litellm_call_id LIKE '{prefix}-%'", litellm_db
        )
    )
    assert stored == stats.submitted == 800 - stats.dropped_no_space
    assert stats.rejected == stats.torn == 0 and not stats.spool_no_space
    assert not any(tmpfs_256k.rglob(REJECTED_NAME))  # no torn partial line was set aside


@pytest.mark.postgres
async def test_tmpfs_filled_by_something_else_recovers_when_space_returns(
    pg_server: ThrowawayPostgres, litellm_db: str, tmpfs_256k: Path
) -> None:
    url = pg_server.url(litellm_db)
    await upgrade_database(clean_database_url(url))
    writer = RecordWriter(url, spool_dir=tmpfs_256k, flush_interval_s=0.01)
    await writer.start()
    filler = tmpfs_256k / "filler"
    try:
        writer.submit(_padded(0, "fill"))  # type: ignore[arg-type]
        assert await writer.wait_idle(30)
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * 4096)
        finally:
            os.close(fd)
        for n in range(1, 200):
            writer.submit(_padded(n, "fill"))  # type: ignore[arg-type]
        assert await _until(lambda: writer.stats().db_errors > 0)  # "spool write failed"
        filler.unlink()
        assert await writer.wait_idle(60), writer.stats()
    finally:
        await writer.stop()
    assert pg_server.run_sql("SELECT count(*) FROM thinkbudget.request_records", litellm_db) == "200"
    assert writer.stats().dropped_no_space == 0 and writer.stats().rejected == 0

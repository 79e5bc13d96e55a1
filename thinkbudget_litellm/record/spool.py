"""Durable local spool: append-only JSON-lines segments plus a checkpoint of what the database acknowledged.

Layout, one directory per writer process (``instance``) under a root shared by all processes of the
machine that write to the same database::

    <root>/<db-fingerprint>/<instance>/LOCK              flock held by the owning process while it lives
    <root>/<db-fingerprint>/<instance>/checkpoint.json   {"segment": n, "offset": bytes} acknowledged so far
    <root>/<db-fingerprint>/<instance>/seg-<n>.jsonl     appended with os.write (O_APPEND), rotated by size

A directory whose LOCK can be taken belongs to a dead process: :func:`adopt_orphans` hands it to a
live writer, which replays it from its checkpoint and deletes it. Directories are created under a
``.tmp-`` name and renamed only once locked, so a half-created directory is never adopted.

Size bound: appending never lets the segments of one instance exceed ``max_bytes`` plus one append
batch; when it would, whole oldest segments are deleted first (their un-acknowledged lines are
counted in ``dropped_lines`` and logged by the caller).

A full disk (``ENOSPC``/``EDQUOT``) never leaves a partial line: an append is written whole or cut
back to where it started and the error raised (the caller keeps the lines and retries). The
segment is then closed, so the next append starts a new one and the old one is deleted as soon as
the database has acknowledged it; a fully acknowledged segment is deleted at once. A checkpoint
that cannot be written keeps its position in memory (``checkpoint_dirty``) and is written again at
the next acknowledgement or :meth:`Spool.persist_checkpoint`; acknowledged segments are deleted
before the checkpoint is written, which frees the space it needs. (Deleting first is safe: a
restarted reader whose checkpoint names a deleted segment moves on to the next one.)

All writes go through :func:`write_fd`, the seam tests replace to simulate a full disk.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_SEGMENT_RE = re.compile(r"^seg-(\d{12})\.jsonl$")
LOCK_NAME = "LOCK"
CHECKPOINT_NAME = "checkpoint.json"
TMP_PREFIX = ".tmp-"
REJECTED_NAME = "rejected.jsonl"


@dataclass(frozen=True, order=True, slots=True)
class Position:
    """A place in a spool: byte ``offset`` within segment number ``segment``."""

    segment: int
    offset: int


@dataclass(frozen=True, slots=True)
class Batch:
    """Complete lines read from a spool, and the position just after them."""

    lines: tuple[bytes, ...]
    end: Position
    torn_lines: int = 0  # trailing bytes without a newline in a dead writer's last segment


NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_no_space(error: BaseException) -> bool:
    """The filesystem is full (or over quota)."""
    return isinstance(error, OSError) and error.errno in NO_SPACE_ERRNOS


def write_fd(fd: int, data: memoryview | bytes) -> int:
    """``os.write``: every spool, checkpoint and rejected-line write goes through here (test seam)."""
    return os.write(fd, data)


def write_whole(fd: int, data: bytes, *, fsync: bool = False) -> None:
    """Append ``data`` to the file ``fd`` whole, or not at all: on any error it is cut back and re-raised."""
    start = os.fstat(fd).st_size
    view = memoryview(data)
    try:
        while view:
            written = write_fd(fd, view)
            if written <= 0:
                raise OSError(errno.ENOSPC, "write accepted no bytes")
            view = view[written:]
        if fsync:
            os.fsync(fd)
    except BaseException:
        try:
            os.ftruncate(fd, start)
        except OSError as cut_error:
            raise OSError(errno.EIO, f"could not cut a partial write back to {start} bytes: {cut_error}") from None
        raise


def write_file_atomically(path: Path, data: bytes, *, fsync: bool = False) -> None:
    """Replace ``path`` with ``data`` (write a temporary file, then rename); no partial file is left."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        write_whole(fd, data, fsync=fsync)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    os.close(fd)
    os.replace(tmp, path)


def _segment_name(number: int) -> str:
    return f"seg-{number:012d}.jsonl"


def _try_lock(path: Path) -> int | None:
    """Open and flock ``path`` (created if missing); the fd, or None when another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


class Spool:
    """One instance directory. Appends come from one thread; reads/acks may come from another."""

    def __init__(
        self,
        directory: Path,
        lock_fd: int,
        *,
        owned: bool,
        segment_bytes: int,
        max_bytes: int,
        fsync: bool,
    ) -> None:
        self.directory = directory
        self.owned = owned  # True: we append to it; False: adopted orphan, read-only replay
        self._lock_fd: int | None = lock_fd
        self._segment_bytes = segment_bytes
        self._max_bytes = max_bytes
        self._fsync = fsync
        self._mutex = threading.Lock()
        self._checkpoint = self._read_checkpoint()
        self.checkpoint_dirty = False  # the position in memory is newer than checkpoint.json
        self.checkpoint_error: OSError | None = None
        sizes = {n: (directory / _segment_name(n)).stat().st_size for n in self._list_segments()}
        self._sizes: dict[int, int] = sizes
        self._current = max(sizes, default=self._checkpoint.segment)
        self._append_fd: int | None = None
        self.dropped_lines = 0

    # ------------------------------------------------------------------ creation and adoption
    @classmethod
    def create(cls, parent: Path, instance: str, *, segment_bytes: int, max_bytes: int, fsync: bool = False) -> Spool:
        """Make ``parent/instance`` atomically (locked before it becomes visible) and own it."""
        parent.mkdir(parents=True, exist_ok=True)
        tmp = parent / f"{TMP_PREFIX}{instance}"
        tmp.mkdir()
        fd = _try_lock(tmp / LOCK_NAME)
        if fd is None:  # pragma: no cover - nobody else knows this fresh name
            raise OSError(f"could not lock fresh spool directory {tmp}")
        final = parent / instance
        try:
            os.rename(tmp, final)
        except BaseException:
            os.close(fd)
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        spool = cls(final, fd, owned=True, segment_bytes=segment_bytes, max_bytes=max_bytes, fsync=fsync)
        spool._write_checkpoint(Position(1, 0))
        return spool

    @classmethod
    def adopt(cls, directory: Path, *, fsync: bool = False) -> Spool | None:
        """Take over a dead writer's directory; None if its owner still holds the lock (or it vanished)."""
        try:
            fd = _try_lock(directory / LOCK_NAME)
        except FileNotFoundError:
            return None
        if fd is None:
            return None
        if not directory.is_dir():  # removed by another adopter between our open and flock
            os.close(fd)
            return None
        return cls(directory, fd, owned=False, segment_bytes=1, max_bytes=1, fsync=fsync)

    # ------------------------------------------------------------------ state
    def _list_segments(self) -> list[int]:
        numbers = []
        for entry in os.listdir(self.directory):
            match = _SEGMENT_RE.match(entry)
            if match:
                numbers.append(int(match.group(1)))
        return sorted(numbers)

    def _read_checkpoint(self) -> Position:
        try:
            raw = json.loads((self.directory / CHECKPOINT_NAME).read_text())
            return Position(int(raw["segment"]), int(raw["offset"]))
        except (OSError, ValueError, KeyError, TypeError):
            segments = self._list_segments()
            return Position(segments[0] if segments else 1, 0)

    def _write_checkpoint(self, position: Position) -> bool:
        """Move the checkpoint to ``position`` (in memory at once); whether checkpoint.json says so too."""
        self._checkpoint = position
        self.checkpoint_dirty = True
        return self.persist_checkpoint()

    def persist_checkpoint(self) -> bool:
        """Write the in-memory checkpoint if checkpoint.json is behind; False while that fails."""
        if not self.checkpoint_dirty:
            return True
        position = self._checkpoint
        data = json.dumps({"segment": position.segment, "offset": position.offset}).encode()
        try:
            write_file_atomically(self.directory / CHECKPOINT_NAME, data, fsync=self._fsync)
        except OSError as exc:
            self.checkpoint_error = exc
            return False
        if self._checkpoint == position:
            self.checkpoint_dirty = False
        self.checkpoint_error = None
        return True

    @property
    def checkpoint(self) -> Position:
        return self._checkpoint

    def pending_bytes(self) -> int:
        """Bytes on disk not yet acknowledged (approximate while another thread appends)."""
        with self._mutex:
            total = sum(size for n, size in self._sizes.items() if n >= self._checkpoint.segment)
            return max(0, total - (self._checkpoint.offset if self._checkpoint.segment in self._sizes else 0))

    def disk_bytes(self) -> int:
        with self._mutex:
            return sum(self._sizes.values())

    # ------------------------------------------------------------------ appending (owner only)
    def append(self, data: bytes) -> int:
        """Write whole lines to the current segment (to the OS, and to disk if ``fsync``).

        Returns the number of un-acknowledged lines dropped to respect ``max_bytes`` (0 normally).
        Raises ``OSError`` with nothing written (no partial line) when the data does not fit on disk,
        after freeing what the database has acknowledged and trying once more.
        """
        if not self.owned:
            raise RuntimeError("cannot append to an adopted spool")
        if not data:
            return 0
        dropped = 0
        with self._mutex:
            current_size = self._sizes.get(self._current, 0)
            if self._append_fd is None or (current_size > 0 and current_size + len(data) > self._segment_bytes):
                self._rotate()
            while sum(self._sizes.values()) + len(data) > self._max_bytes:
                oldest = min(self._sizes)
                if oldest == self._current:
                    break
                dropped += self._drop_segment(oldest)
            try:
                self._write_current(data)
            except OSError as exc:
                if not is_no_space(exc) or not self._make_room():
                    raise
                self._write_current(data)
        self.dropped_lines += dropped
        return dropped

    def _write_current(self, data: bytes) -> None:
        """Append to the current segment, whole or not at all (caller holds the mutex)."""
        if self._append_fd is None:
            self._rotate()
        assert self._append_fd is not None
        try:
            write_whole(self._append_fd, data, fsync=self._fsync)
        except OSError:
            # Whatever happened, start the next append in a fresh segment: the reader never sees a
            # partial line followed by more data, and this segment is deleted once acknowledged.
            self._sizes[self._current] = os.fstat(self._append_fd).st_size
            os.close(self._append_fd)
            self._append_fd = None
            raise
        self._sizes[self._current] = self._sizes.get(self._current, 0) + len(data)

    def _make_room(self) -> bool:
        """After a failed append (caller holds the mutex): free what the database has acknowledged."""
        freed = self._free_acknowledged()
        if freed:
            self.persist_checkpoint()
        return freed

    def _free_acknowledged(self) -> bool:
        """Delete segments acknowledged to their end that are not open for appending, the current one
        included once its append failed (caller holds the mutex). Whether anything was deleted."""
        freed = False
        for number in sorted(self._sizes):
            size = self._sizes[number]
            if size == 0 or self._checkpoint < Position(number, size):
                break  # this one and every later one still hold lines to ship
            if number == self._current and self._append_fd is not None:
                break  # still being appended to
            with contextlib.suppress(FileNotFoundError):
                (self.directory / _segment_name(number)).unlink()
            del self._sizes[number]
            freed = True
            if number == self._current:
                self._current = number + 1
            if self._checkpoint.segment == number:
                self._checkpoint = Position(number + 1, 0)  # the same place: everything before is done
                self.checkpoint_dirty = True
        return freed

    def _rotate(self) -> None:
        if self._append_fd is not None:
            os.close(self._append_fd)
            self._append_fd = None
        if self._sizes.get(self._current, 0) > 0 or self._current < self._checkpoint.segment:
            self._current = max(self._current + 1, self._checkpoint.segment)
        path = self.directory / _segment_name(self._current)
        self._append_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._sizes.setdefault(self._current, os.fstat(self._append_fd).st_size)
        if self._fsync:
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def _drop_segment(self, number: int) -> int:
        """Delete a whole segment (caller holds the mutex); count its lines the DB had not acknowledged."""
        path = self.directory / _segment_name(number)
        lost = 0
        if number >= self._checkpoint.segment:
            start = self._checkpoint.offset if number == self._checkpoint.segment else 0
            try:
                with open(path, "rb") as handle:
                    handle.seek(start)
                    lost = handle.read().count(b"\n")
            except FileNotFoundError:
                lost = 0
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        self._sizes.pop(number, None)
        return lost

    # ------------------------------------------------------------------ reading and acknowledging
    def read_batch(self, start: Position, max_lines: int, chunk_bytes: int = 1 << 20) -> Batch:
        """Up to ``max_lines`` complete lines from ``start`` on, crossing into later segments.

        An empty batch whose ``end`` differs from ``start`` means "nothing to replay here, move on"
        (a dropped segment, or a dead writer's torn last line).
        """
        position = start
        torn = 0
        while True:
            with self._mutex:
                segments = sorted(self._sizes) if self.owned else self._list_segments()
                later = [n for n in segments if n > position.segment]
                current = self._current if self.owned else None
            path = self.directory / _segment_name(position.segment)
            try:
                lines, consumed, leftover = _read_lines(path, position.offset, max_lines, chunk_bytes)
            except FileNotFoundError:
                lines, consumed, leftover = [], 0, 0
                if not later:
                    return Batch((), position, torn)
                position = Position(later[0], 0)
                continue
            if lines:
                return Batch(tuple(lines), Position(position.segment, position.offset + consumed), torn)
            # Nothing complete left in this segment.
            finished = bool(later) and (self.owned is False or position.segment != current)
            if not finished and not self.owned and leftover:
                finished = True  # the dead writer's last segment ends in a torn line
            if not finished:
                return Batch((), position, torn)
            if leftover:
                torn += 1
            if not later:
                return Batch((), Position(position.segment, position.offset + leftover), torn)
            position = Position(later[0], 0)

    def acknowledge(self, position: Position) -> bool:
        """Record that everything before ``position`` is in the database; delete finished segments.

        Never raises for a full disk: the position holds in memory whether or not checkpoint.json
        could be written (the return value; retried at the next call or :meth:`persist_checkpoint`).
        """
        if position < self._checkpoint:
            return self.persist_checkpoint()
        with self._mutex:
            self._checkpoint = position
            self.checkpoint_dirty = True
            finished = [n for n in (self._sizes if self.owned else self._list_segments()) if n < position.segment]
            for number in finished:
                with contextlib.suppress(FileNotFoundError):
                    (self.directory / _segment_name(number)).unlink()
                self._sizes.pop(number, None)
            if self.owned and self._append_fd is None:  # appends failed (full disk): free what is done
                self._free_acknowledged()
        return self.persist_checkpoint()

    def is_drained(self) -> bool:
        """Nothing left to replay (for an owned spool: at this moment)."""
        batch = self.read_batch(self._checkpoint, 1)
        return not batch.lines and batch.end == self._checkpoint

    # ------------------------------------------------------------------ closing
    def close(self, *, remove: bool) -> None:
        """Release the lock; with ``remove`` also delete the directory (only do that when drained)."""
        if not remove:
            self.persist_checkpoint()
        with self._mutex:
            if self._append_fd is not None:
                os.close(self._append_fd)
                self._append_fd = None
            if remove:
                shutil.rmtree(self.directory, ignore_errors=True)
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None


def _read_lines(path: Path, offset: int, max_lines: int, chunk_bytes: int) -> tuple[list[bytes], int, int]:
    """Complete lines from ``offset``: (lines, bytes consumed, bytes of trailing partial line)."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        buffer = handle.read(chunk_bytes)
        while buffer and b"\n" not in buffer:  # a single line longer than the chunk
            more = handle.read(chunk_bytes)
            if not more:
                break
            buffer += more
    lines: list[bytes] = []
    consumed = 0
    while len(lines) < max_lines:
        newline = buffer.find(b"\n", consumed)
        if newline < 0:
            break
        line = buffer[consumed:newline]
        consumed = newline + 1
        if line.strip():
            lines.append(line)
    leftover = 0
    if len(lines) < max_lines and buffer.find(b"\n", consumed) < 0:
        leftover = len(buffer) - consumed
    return lines, consumed, leftover


def adopt_orphans(parent: Path, own: Path | None, *, fsync: bool = False, tmp_grace_s: float = 60.0) -> list[Spool]:
    """Lock and return every instance directory under ``parent`` whose owner is gone (oldest first).

    Also removes stale ``.tmp-`` directories (a process died while creating its spool).
    """
    if not parent.is_dir():
        return []
    adopted: list[Spool] = []
    now = time.time()
    entries = sorted(parent.iterdir(), key=lambda p: _mtime(p))
    for entry in entries:
        if not entry.is_dir() or (own is not None and entry == own):
            continue
        if entry.name.startswith(TMP_PREFIX):
            if now - _mtime(entry) > tmp_grace_s:
                fd = _try_lock_quiet(entry / LOCK_NAME)
                if fd is not None:
                    shutil.rmtree(entry, ignore_errors=True)
                    os.close(fd)
            continue
        spool = Spool.adopt(entry, fsync=fsync)
        if spool is not None:
            adopted.append(spool)
    return adopted


def _try_lock_quiet(path: Path) -> int | None:
    try:
        return _try_lock(path)
    except OSError:
        return None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def append_rejected(root: Path, line: bytes, reason: str) -> None:
    """Keep a line the database refused, with the reason, for a person to look at (whole or not at all)."""
    root.mkdir(parents=True, exist_ok=True)
    entry = json.dumps({"reason": reason, "line": line.decode("utf-8", "replace")}) + "\n"
    fd = os.open(root / REJECTED_NAME, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        write_whole(fd, entry.encode())
    finally:
        os.close(fd)

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
"""

from __future__ import annotations

import contextlib
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

    def _write_checkpoint(self, position: Position) -> None:
        tmp = self.directory / (CHECKPOINT_NAME + ".tmp")
        with open(tmp, "w") as handle:
            json.dump({"segment": position.segment, "offset": position.offset}, handle)
            if self._fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, self.directory / CHECKPOINT_NAME)
        self._checkpoint = position

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
            assert self._append_fd is not None
            view = memoryview(data)
            while view:
                written = os.write(self._append_fd, view)
                view = view[written:]
            if self._fsync:
                os.fsync(self._append_fd)
            self._sizes[self._current] = self._sizes.get(self._current, 0) + len(data)
        self.dropped_lines += dropped
        return dropped

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

    def acknowledge(self, position: Position) -> None:
        """Record that everything before ``position`` is in the database; delete finished segments."""
        if position < self._checkpoint:
            return
        self._write_checkpoint(position)
        with self._mutex:
            finished = [n for n in (self._sizes if self.owned else self._list_segments()) if n < position.segment]
            for number in finished:
                with contextlib.suppress(FileNotFoundError):
                    (self.directory / _segment_name(number)).unlink()
                self._sizes.pop(number, None)

    def is_drained(self) -> bool:
        """Nothing left to replay (for an owned spool: at this moment)."""
        batch = self.read_batch(self._checkpoint, 1)
        return not batch.lines and batch.end == self._checkpoint

    # ------------------------------------------------------------------ closing
    def close(self, *, remove: bool) -> None:
        """Release the lock; with ``remove`` also delete the directory (only do that when drained)."""
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
    """Keep a line the database refused, with the reason, for a person to look at."""
    root.mkdir(parents=True, exist_ok=True)
    entry = json.dumps({"reason": reason, "line": line.decode("utf-8", "replace")}) + "\n"
    with open(root / REJECTED_NAME, "a", encoding="utf-8") as handle:
        handle.write(entry)

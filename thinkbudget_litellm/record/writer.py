"""RecordWriter: request records to the database, off the request path, surviving outages and crashes.

Path of a record::

    submit(record)            caller's thread: deque.append, O(1), never raises
      -> spool flusher        writer thread, every ``flush_interval_s``: encode, os.write to the spool
      -> shipper              writer thread: read spool from checkpoint, INSERT ... ON CONFLICT
                              (litellm_call_id) DO NOTHING in batches, then advance the checkpoint

The writer thread runs its own asyncio loop and its own async engine, so neither file writes nor
database round trips ever run on the proxy's event loop.

Durability bound (what the README promises)
-------------------------------------------
* A record handed to :meth:`RecordWriter.submit` is written to the spool file (to the operating
  system: it survives SIGKILL or a crash of the proxy process, not a kernel crash or power loss unless
  ``fsync=True``) at most ``flush_interval_s`` (default 0.1 s) plus the time to encode the records
  queued ahead of it (about 30 us each on one core) after ``submit`` returned, while the writer
  thread gets CPU. Records submitted within that window before a SIGKILL can be lost; everything
  older is replayed. (Tested: a writer killed with SIGKILL under 1,500 records/s loses nothing
  submitted more than 1 s before the kill, with the database up or down.)
* The database acknowledges by committing a batch; only then does the checkpoint advance. Anything
  spooled but not acknowledged - during a database outage, or when the process dies - is replayed in
  order: by this writer once the database is back, or, after a crash, by the next writer that starts
  on the machine with the same spool root and the same database URL (it adopts dead writers'
  directories, found by a free flock; ``<root>/<hash of the URL without password>/<instance>``).
  A replayed row that was in fact committed is skipped (unique ``litellm_call_id``), so replays
  never duplicate.
* Bounds: at most ``max_queue`` records wait in memory for the flusher (default 100,000); the spool of
  one writer holds at most ``max_spool_bytes`` (default 1 GiB) plus one flush batch on disk, in
  segments of ``segment_bytes`` (default 16 MiB). Beyond either bound records are dropped - the
  newest at a full queue, the oldest whole segment at a full spool - and every drop is counted in
  :meth:`RecordWriter.stats`, in ``thinkbudget_records_dropped_total{reason}`` and logged.
* A full disk loses no spooled line and writes no partial one: records the spool cannot take wait in
  the queue (drops at a full queue then count as ``no_space``), acknowledged segments are freed as
  the database catches up, a checkpoint that cannot be written is kept in memory and written later;
  the writer recovers by itself once space or the database returns.
* One bad row never holds back the others. A batch the database refuses for its data (not because it
  is unavailable: see :mod:`thinkbudget_litellm.record.failures`) is bisected; rows that fail on their
  own, and spool lines that are not records, are moved to ``<spool root>/<db>/rejected.jsonl`` once,
  counted in ``thinkbudget_records_set_aside_total{reason}``, and the checkpoint moves on. Text that
  Postgres cannot store (NUL, lone surrogates, over-long values) never gets that far: records make
  it storable when they are built (:mod:`thinkbudget_litellm.record.text`).
* :meth:`RecordWriter.stop` spools everything queued, then ships for up to ``drain_timeout_s``;
  what is still un-acknowledged then stays in the spool for the next writer.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import logging
import os
import secrets
import socket
import tempfile
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from thinkbudget_litellm.metrics import RECORDS_DROPPED, RECORDS_SET_ASIDE
from thinkbudget_litellm.record.database_url import (
    DatabaseTarget,
    clean_database_url,
    resolve_database_target,
)
from thinkbudget_litellm.record.engine import create_engine
from thinkbudget_litellm.record.failures import insert_isolating
from thinkbudget_litellm.record.models import request_records
from thinkbudget_litellm.record.request_record import RequestRecord
from thinkbudget_litellm.record.spool import Batch, Spool, adopt_orphans, append_rejected, is_no_space
from thinkbudget_litellm.record.spool_codec import SpoolFormatError, decode_line, encode_record

log = logging.getLogger("thinkbudget_litellm.record")

MiB = 1 << 20
_FLUSH_CHUNK = 2000  # records encoded and written per spool append


class DropReason(StrEnum):
    """Why a record never reached the database (label of ``thinkbudget_records_dropped_total``)."""

    QUEUE_FULL = "queue_full"  # max_queue records already waiting for the spool
    NO_SPACE = "no_space"  # the queue was full because the spool's disk is full
    SPOOL_FULL = "spool_full"  # oldest spooled segment deleted to stay under max_spool_bytes
    STOPPED = "stopped"  # submitted after stop()
    TORN = "torn"  # a dead writer's partial last line
    UNENCODABLE = "unencodable"  # not a RequestRecord (or not serialisable)


class SetAsideReason(StrEnum):
    """Why a record went to rejected.jsonl (label of ``thinkbudget_records_set_aside_total``)."""

    REFUSED = "refused"  # the database refused the row on its own
    UNREADABLE = "unreadable"  # a spool line that is not a record


_DROPPED = {reason: RECORDS_DROPPED.labels(reason=reason.value) for reason in DropReason}
_SET_ASIDE = {reason: RECORDS_SET_ASIDE.labels(reason=reason.value) for reason in SetAsideReason}


@dataclass(frozen=True, slots=True)
class WriterStats:
    """Counters since start (for logs and metrics)."""

    submitted: int
    spooled: int
    written: int  # rows the database acknowledged (inserted, or already there)
    queued: int  # waiting in memory for the spool flusher
    pending_spool_bytes: int  # spooled, not yet acknowledged (own spool)
    orphans_pending: int  # adopted dead writers' spools still being replayed
    dropped_queue_full: int
    dropped_spool_full: int
    dropped_after_stop: int
    rejected: int  # refused by the database or unreadable, kept in rejected.jsonl
    torn: int  # partial last lines of dead writers' spools
    db_errors: int
    last_error: str | None
    running: bool
    dropped_no_space: int = 0  # newest records dropped at a full queue while the spool's disk was full
    spool_no_space: bool = False  # the spool's disk is full right now


def default_spool_root(env: Mapping[str, str]) -> Path:
    """``THINKBUDGET_SPOOL_DIR``, else ``$XDG_STATE_HOME/thinkbudget-litellm/spool``,
    else ``~/.local/state/thinkbudget-litellm/spool``."""
    explicit = env.get("THINKBUDGET_SPOOL_DIR", "").strip()
    if explicit:
        return Path(explicit)
    state = env.get("XDG_STATE_HOME", "").strip()
    base = Path(state) if state else Path(env.get("HOME", tempfile.gettempdir())) / ".local" / "state"
    return base / "thinkbudget-litellm" / "spool"


def database_fingerprint(target: DatabaseTarget) -> str:
    """Short stable name for a database, so spools of different databases never mix (no password)."""
    return hashlib.sha256(target.display.encode()).hexdigest()[:16]


def _insert_statement(dialect_name: str) -> Insert:
    if dialect_name == "postgresql":
        return postgresql.insert(request_records).on_conflict_do_nothing(index_elements=["litellm_call_id"])
    if dialect_name == "sqlite":
        return sqlite.insert(request_records).on_conflict_do_nothing(index_elements=["litellm_call_id"])
    raise ValueError(f"unsupported dialect {dialect_name}")


class RecordWriter:
    """Queue -> durable spool -> batched idempotent inserts. See the module docstring for guarantees.

    Use::

        writer = RecordWriter()               # database from the environment (resolve_database_target)
        await writer.start()
        writer.submit(record)                 # from any hook; never blocks, never raises
        await writer.stop()                   # on shutdown
    """

    def __init__(
        self,
        target: DatabaseTarget | str | None = None,
        *,
        spool_dir: str | os.PathLike[str] | None = None,
        instance_id: str | None = None,
        flush_interval_s: float = 0.1,
        batch_size: int = 500,
        max_queue: int = 100_000,
        segment_bytes: int = 16 * MiB,
        max_spool_bytes: int = 1024 * MiB,
        fsync: bool = False,
        retry_initial_s: float = 0.25,
        retry_max_s: float = 10.0,
        drain_timeout_s: float = 5.0,
        orphan_scan_interval_s: float = 30.0,
        auto_upgrade: bool = False,
    ) -> None:
        if flush_interval_s <= 0 or batch_size < 1 or max_queue < 1:
            raise ValueError("flush_interval_s must be > 0, batch_size and max_queue >= 1")
        if segment_bytes < 4096 or max_spool_bytes < 2 * segment_bytes:
            raise ValueError("need segment_bytes >= 4096 and max_spool_bytes >= 2 * segment_bytes")
        if isinstance(target, str):
            target = clean_database_url(target)
        self.target: DatabaseTarget = target if target is not None else resolve_database_target(os.environ)
        root = Path(spool_dir) if spool_dir is not None else default_spool_root(os.environ)
        self.spool_root = root / database_fingerprint(self.target)
        self._creator_pid = os.getpid()
        self.instance_id = instance_id or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"
        self._flush_interval_s = flush_interval_s
        self._batch_size = batch_size
        self._max_queue = max_queue
        self._segment_bytes = segment_bytes
        self._max_spool_bytes = max_spool_bytes
        self._fsync = fsync
        self._retry_initial_s = retry_initial_s
        self._retry_max_s = retry_max_s
        self._drain_timeout_s = drain_timeout_s
        self._orphan_scan_interval_s = orphan_scan_interval_s
        self._auto_upgrade = auto_upgrade

        self._queue: deque[RequestRecord] = deque()
        self._accepting = True
        self._submitted = 0
        self._dropped_queue_full = 0
        self._dropped_no_space = 0
        self._dropped_after_stop = 0
        self._no_space = False  # the last spool append failed for a full disk
        self._checkpoint_error: str | None = None  # a checkpoint held in memory only
        self._spooled = 0
        self._written = 0
        self._rejected = 0
        self._torn = 0
        self._db_errors = 0
        self._last_error: str | None = None

        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._generation = 0  # starts so far: each gets its own spool directory
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None
        self._started = threading.Event()
        self._spool: Spool | None = None
        self._orphans: list[Spool] = []
        self._spool_lock = threading.Lock()  # flusher vs. atexit flush

    # ------------------------------------------------------------------ request path
    def submit(self, record: RequestRecord) -> None:
        """Hand a record over. O(1), non-blocking, never raises. Do not mutate ``record`` afterwards."""
        try:
            if not self._accepting:
                self._dropped_after_stop += 1
                _DROPPED[DropReason.STOPPED].inc()
                if self._dropped_after_stop == 1:
                    log.warning("thinkbudget record writer is stopped; dropping record %s", record.litellm_call_id)
                return
            if len(self._queue) >= self._max_queue:
                self._drop_at_full_queue()
                return
            self._queue.append(record)
            self._submitted += 1
        except Exception:  # pragma: no cover - defensive: the request path must never fail
            log.exception("thinkbudget record submit failed")

    def _drop_at_full_queue(self) -> None:
        if self._no_space:
            self._dropped_no_space += 1
            dropped, reason = self._dropped_no_space, DropReason.NO_SPACE
        else:
            self._dropped_queue_full += 1
            dropped, reason = self._dropped_queue_full, DropReason.QUEUE_FULL
        _DROPPED[reason].inc()
        if dropped & (dropped - 1) == 0:  # 1, 2, 4, 8, ...
            log.error(
                "thinkbudget record queue full (%d)%s; %d records dropped so far",
                self._max_queue,
                " because the spool's disk is full" if reason is DropReason.NO_SPACE else "",
                dropped,
            )

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Start the writer thread (idempotent). Never fails for an unreachable database: it retries.

        Call it in the process that submits: after a fork (uvicorn/gunicorn workers) the thread of the
        parent does not exist in the child, so a writer started before the fork starts afresh here.
        """
        if self._thread is not None and self._pid == os.getpid():
            return
        if self._thread is not None:  # forked: the thread object belongs to the parent
            self._thread = None
            self._spool = None
            self._orphans = []
        self._pid = os.getpid()
        self._generation += 1
        self._accepting = True
        self._started.clear()
        self._thread = threading.Thread(target=self._thread_main, name="thinkbudget-record-writer", daemon=True)
        self._thread.start()
        await asyncio.to_thread(self._started.wait)
        atexit.register(self._flush_at_exit)

    async def stop(self) -> None:
        """Spool what is queued, ship for up to ``drain_timeout_s``, and stop the thread."""
        thread, loop, stop_event = self._thread, self._loop, self._stop_requested
        if thread is None:
            return
        self._accepting = False
        if loop is not None and stop_event is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(stop_event.set)
        await asyncio.to_thread(thread.join)
        self._thread = None
        atexit.unregister(self._flush_at_exit)

    async def wait_idle(self, timeout_s: float = 30.0, poll_s: float = 0.02) -> bool:
        """Wait until everything submitted so far is in the database (tests, benchmarks, demos)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._idle():
                return True
            await asyncio.sleep(poll_s)
        return self._idle()

    def _idle(self) -> bool:
        spool = self._spool
        if spool is None or self._orphans:
            return False
        with self._spool_lock:  # not between the flusher's dequeue and its append
            return not self._queue and spool.is_drained()

    def stats(self) -> WriterStats:
        spool = self._spool
        return WriterStats(
            submitted=self._submitted,
            spooled=self._spooled,
            written=self._written,
            queued=len(self._queue),
            pending_spool_bytes=spool.pending_bytes() if spool is not None else 0,
            orphans_pending=len(self._orphans),
            dropped_queue_full=self._dropped_queue_full,
            dropped_spool_full=spool.dropped_lines if spool is not None else 0,
            dropped_after_stop=self._dropped_after_stop,
            rejected=self._rejected,
            torn=self._torn,
            db_errors=self._db_errors,
            last_error=self._last_error,
            running=self._thread is not None and self._thread.is_alive(),
            dropped_no_space=self._dropped_no_space,
            spool_no_space=self._no_space,
        )

    # ------------------------------------------------------------------ writer thread
    @property
    def spool_directory_name(self) -> str:
        """This process's spool directory under :attr:`spool_root` (unique per start and per fork)."""
        own = self.instance_id if self._pid == self._creator_pid else f"{self.instance_id}-pid{self._pid}"
        return own if self._generation <= 1 else f"{own}-{self._generation}"

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception:  # pragma: no cover - last resort, keep the proxy alive
            log.exception("thinkbudget record writer thread crashed")
        finally:
            self._started.set()

    def _open_spool(self) -> Spool:
        name = self.spool_directory_name
        try:
            return Spool.create(
                self.spool_root,
                name,
                segment_bytes=self._segment_bytes,
                max_bytes=self._max_spool_bytes,
                fsync=self._fsync,
            )
        except OSError as exc:
            fallback = Path(tempfile.gettempdir()) / f"thinkbudget-spool-{os.getuid()}" / self.spool_root.name
            log.error("thinkbudget spool directory %s unusable (%s); using %s", self.spool_root, exc, fallback)
            self.spool_root = fallback
            return Spool.create(
                fallback,
                name,
                segment_bytes=self._segment_bytes,
                max_bytes=self._max_spool_bytes,
                fsync=self._fsync,
            )

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_requested = asyncio.Event()
        try:
            self._spool = self._open_spool()
        except OSError as exc:  # e.g. both the spool root and the fallback are on full disks
            self._note_error(f"spool unusable: {exc}")
        self._orphans = self._scan_orphans()  # replayed first, as soon as the database answers
        self._started.set()
        if self._spool is None and not await self._open_spool_retrying():
            return
        wake = asyncio.Event()
        flusher = asyncio.create_task(self._flusher(wake))
        engine = create_engine(self.target)
        try:
            await self._shipper(engine, wake)
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            self._flush_queue()
            self._drop_unspooled()
            await engine.dispose()
            self._close_spools()

    async def _open_spool_retrying(self) -> bool:
        """Keep trying to create the spool (records wait in the queue); False if stopped first."""
        assert self._stop_requested is not None
        delay = self._retry_initial_s
        while not self._stop_requested.is_set():
            await _wait_either(self._stop_requested, delay)
            delay = min(delay * 2, self._retry_max_s)
            try:
                self._spool = self._open_spool()
            except OSError as exc:
                self._note_error(f"spool unusable: {exc}")
                continue
            return True
        self._drop_unspooled()
        return False

    def _drop_unspooled(self) -> None:
        """At stop: records the spool could not take (full disk) are lost with this process; count them."""
        with self._spool_lock:
            lost = len(self._queue)
            self._queue.clear()
        if not lost:
            return
        self._dropped_no_space += lost
        _DROPPED[DropReason.NO_SPACE].inc(lost)
        log.error("thinkbudget record writer stopping: %d records the spool could not take are dropped", lost)

    def _scan_orphans(self) -> list[Spool]:
        try:
            found = adopt_orphans(self.spool_root, self._spool.directory if self._spool else None, fsync=self._fsync)
        except OSError as exc:
            log.error("thinkbudget spool scan of %s failed: %s", self.spool_root, exc)
            return []
        if found:
            log.warning(
                "thinkbudget: replaying %d spool(s) left by stopped writers: %s",
                len(found),
                ", ".join(s.directory.name for s in found),
            )
        return found

    async def _flusher(self, wake: asyncio.Event) -> None:
        while True:
            await asyncio.sleep(self._flush_interval_s)
            # A large backlog goes out in chunks, oldest first, so each reaches the OS promptly.
            while (moved := self._flush_queue(_FLUSH_CHUNK)) > 0:
                wake.set()
                if moved < _FLUSH_CHUNK:
                    break
                await asyncio.sleep(0)

    def _flush_queue(self, max_records: int | None = None) -> int:
        """Move queued records (at most ``max_records``) into the spool; how many left the queue."""
        spool = self._spool
        if spool is None:
            return 0
        with self._spool_lock:
            records: list[RequestRecord] = []
            queue = self._queue
            limit = len(queue) if max_records is None else min(max_records, len(queue))
            for _ in range(limit):
                records.append(queue.popleft())
            if not records:
                return 0
            encoded = [(record, _encode_safely(record)) for record in records]
            lines = [line for _, line in encoded if line]
            if len(lines) < len(records):
                unencodable = len(records) - len(lines)
                self._rejected += unencodable
                _DROPPED[DropReason.UNENCODABLE].inc(unencodable)
                records = [record for record, line in encoded if line]
            moved, dropped, error = _append_records(spool, lines)
            if moved < len(records):
                # Disk trouble: put the rest back (order kept) and try again next tick.
                queue.extendleft(reversed(records[moved:]))
            self._note_spool_outcome(error)
            if dropped:
                _DROPPED[DropReason.SPOOL_FULL].inc(dropped)
                log.error(
                    "thinkbudget spool over %d bytes: dropped %d oldest un-acknowledged records",
                    self._max_spool_bytes,
                    dropped,
                )
            self._spooled += moved
            return moved + len(encoded) - len(lines)

    def _note_spool_outcome(self, error: OSError | None) -> None:
        if error is None:
            if self._no_space:
                self._no_space = False
                log.warning("thinkbudget spool writable again; queued records are being spooled")
            return
        if is_no_space(error) and not self._no_space:
            self._no_space = True
            log.error(
                "thinkbudget spool disk full (%s): records wait in memory (up to %d), then are dropped",
                error,
                self._max_queue,
            )
        self._note_error(f"spool write failed: {error}")

    def _flush_at_exit(self) -> None:
        with contextlib.suppress(Exception):
            self._flush_queue()

    def _note_error(self, message: str) -> None:
        self._db_errors += 1
        first = self._last_error != message
        self._last_error = message
        if first:
            log.error("thinkbudget record writer: %s", message)

    async def _shipper(self, engine: AsyncEngine, wake: asyncio.Event) -> None:
        assert self._stop_requested is not None and self._spool is not None
        stop = self._stop_requested
        delay = self._retry_initial_s
        upgraded = not self._auto_upgrade
        next_scan = time.monotonic() + self._orphan_scan_interval_s
        drain_deadline: float | None = None
        while True:
            if stop.is_set() and drain_deadline is None:
                self._flush_queue()
                drain_deadline = time.monotonic() + self._drain_timeout_s
            if drain_deadline is not None and time.monotonic() > drain_deadline:
                log.warning(
                    "thinkbudget record writer stopping with %d bytes not yet in the database; "
                    "they stay in %s for the next start",
                    self._spool.pending_bytes(),
                    self._spool.directory,
                )
                return
            try:
                if not upgraded:
                    await self._upgrade()
                    upgraded = True
                shipped = await self._ship_some(engine)
                delay = self._retry_initial_s
            except Exception as exc:
                self._note_error(f"{type(exc).__name__}: {exc}".splitlines()[0][:300])
                if drain_deadline is None:
                    await _wait_either(stop, delay)
                else:
                    await asyncio.sleep(max(0.0, min(delay, drain_deadline - time.monotonic())))
                delay = min(delay * 2, self._retry_max_s)
                continue
            if shipped:
                await asyncio.sleep(0)  # let the flusher in between batches
                continue
            if drain_deadline is not None:
                return  # drained
            self._persist_checkpoints()
            if time.monotonic() >= next_scan:
                self._orphans.extend(self._scan_orphans())
                next_scan = time.monotonic() + self._orphan_scan_interval_s
            if self._last_error is not None:
                log.info("thinkbudget record writer: database reachable again, spool replayed")
                self._last_error = None
            wake.clear()
            await _wait_either(stop, self._flush_interval_s * 2, wake)

    async def _upgrade(self) -> None:
        from thinkbudget_litellm.record.migrate import upgrade_database

        result = await upgrade_database(self.target)
        log.info("thinkbudget database at revision %s (%s)", result.revision_after, result.views.message)

    async def _ship_some(self, engine: AsyncEngine) -> int:
        """One batch from the oldest source with data; the number of lines consumed."""
        assert self._spool is not None
        for source in [*self._orphans, self._spool]:
            batch = source.read_batch(source.checkpoint, self._batch_size)
            if not batch.lines and batch.end == source.checkpoint:
                if source is not self._spool:  # an orphan fully replayed
                    source.close(remove=True)
                    self._orphans.remove(source)
                    log.info("thinkbudget: replayed and removed spool %s", source.directory.name)
                    return 1
                continue
            await self._insert_batch(engine, source, batch)
            if not source.acknowledge(batch.end):
                self._note_checkpoint_error(source)
            return max(1, len(batch.lines))
        return 0

    def _persist_checkpoints(self) -> None:
        sources = [*self._orphans, *([self._spool] if self._spool is not None else [])]
        if not all(source.persist_checkpoint() for source in sources):
            return
        if self._checkpoint_error is not None:
            self._checkpoint_error = None
            log.info("thinkbudget record writer: checkpoints written again")

    def _note_checkpoint_error(self, source: Spool) -> None:
        """The checkpoint stays in memory (shipping goes on); it is written once the disk allows."""
        message = f"checkpoint of {source.directory.name} not written ({source.checkpoint_error}); kept in memory"
        if self._checkpoint_error is None:
            log.warning("thinkbudget record writer: %s", message)
        self._checkpoint_error = message

    async def _insert_batch(self, engine: AsyncEngine, source: Spool, batch: Batch) -> None:
        """Insert one batch; rows the database refuses on their own are set aside, the rest written.

        Raises (nothing set aside, nothing counted) when the database is unavailable: the batch is
        retried whole later, and rows already inserted are skipped then (``ON CONFLICT DO NOTHING``).
        """
        rows: list[dict[str, Any]] = []
        lines: list[bytes] = []
        unreadable: list[tuple[bytes, str]] = []
        for line in batch.lines:
            try:
                rows.append(decode_line(line))
            except SpoolFormatError as exc:
                unreadable.append((line, str(exc)))
                continue
            lines.append(line)
        statement = _insert_statement(engine.dialect.name)

        async def insert(chunk: Sequence[dict[str, Any]]) -> None:
            async with engine.begin() as conn:
                await conn.execute(statement, list(chunk))

        refused = await insert_isolating(rows, insert)
        if refused:
            log.warning("thinkbudget batch of %d rows: %d refused on their own", len(rows), len(refused))
        self._torn += batch.torn_lines
        if batch.torn_lines:
            _DROPPED[DropReason.TORN].inc(batch.torn_lines)
        self._written += len(rows) - len(refused)
        for line, reason in unreadable:
            self._reject(line, reason, SetAsideReason.UNREADABLE)
        for row_refused in refused:
            reason = f"{type(row_refused.error).__name__}: {row_refused.error}".splitlines()[0][:300]
            self._reject(lines[row_refused.index], reason, SetAsideReason.REFUSED)

    def _reject(self, line: bytes, reason: str, kind: SetAsideReason) -> None:
        self._rejected += 1
        _SET_ASIDE[kind].inc()
        try:
            append_rejected(self.spool_root, line, reason)
        except OSError as exc:
            log.error("thinkbudget record rejected (%s); could not keep it in %s: %s", reason, self.spool_root, exc)
            return
        log.error("thinkbudget record rejected (%s); kept in %s", reason, self.spool_root)

    def _close_spools(self) -> None:
        for orphan in self._orphans:
            orphan.close(remove=False)
        self._orphans = []
        spool = self._spool
        if spool is not None:
            drained = not self._queue and spool.is_drained()
            spool.close(remove=drained)


def _append_records(spool: Spool, encoded: list[bytes]) -> tuple[int, int, OSError | None]:
    """Spool encoded records, oldest first: (how many were spooled, lines dropped for max_spool_bytes,
    the error that stopped the rest).

    All at once normally; on a full disk one at a time, so that whatever fits is spooled and a
    backlog larger than the free space still drains.
    """
    try:
        return len(encoded), spool.append(b"".join(encoded)), None
    except OSError as exc:
        if not is_no_space(exc) or len(encoded) == 1:
            return 0, 0, exc
    moved = dropped = 0
    for line in encoded:
        try:
            dropped += spool.append(line)
        except OSError as exc:
            return moved, dropped, exc
        moved += 1
    return moved, dropped, None


def _encode_safely(record: RequestRecord) -> bytes:
    try:
        return encode_record(record)
    except Exception as exc:  # e.g. not a RequestRecord at all: keep it visible, never lose the batch
        log.error("thinkbudget could not encode record %r: %s", record, exc)
        return b""


async def _wait_either(stop: asyncio.Event, timeout_s: float, wake: asyncio.Event | None = None) -> None:
    """Sleep up to ``timeout_s``; return early when ``stop`` (or ``wake``) is set."""
    waiters = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waiters.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waiters, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()

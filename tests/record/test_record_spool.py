"""Spool codec and segment files: round trip, rotation, size bound, torn lines, adoption of dead writers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.record.record_builders import make_record
from thinkbudget_litellm.record import RequestRecord
from thinkbudget_litellm.record.spool import Position, Spool, adopt_orphans
from thinkbudget_litellm.record.spool_codec import SpoolFormatError, decode_line, encode_record

_text = st.text(max_size=40)
_opt_text = st.none() | _text
_opt_int = st.none() | st.integers(min_value=0, max_value=2**31 - 1)
_opt_float = st.none() | st.floats(allow_nan=False, allow_infinity=False, width=64)

records = st.builds(
    RequestRecord,
    litellm_call_id=st.text(min_size=1, max_size=64),
    created_at=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    api_key_hash=_opt_text,
    team_id=_opt_text,
    tier=_opt_text,
    budget=_opt_int,
    status=_text,
    thinking_tokens=st.integers(min_value=0, max_value=2**31 - 1),
    cut=st.booleans(),
    energy_j=_opt_float,
    cost_usd=_opt_float,
    baseline_thinking_tokens=_opt_int,
    prompt_text=_opt_text,
    extra=st.dictionaries(_text, st.none() | st.integers() | _text, max_size=3),
)


@given(records)
def test_encode_decode_round_trip(record: RequestRecord) -> None:
    line = encode_record(record)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    row = decode_line(line[:-1])
    expected = record.as_row()
    for key, value in expected.items():
        assert row[key] == value, key


def test_decode_converts_offsets_to_utc_and_fills_defaults() -> None:
    moment = datetime(2026, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    row = decode_line(json.dumps({"litellm_call_id": "x", "created_at": moment.isoformat()}).encode())
    assert row["created_at"] == datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    assert row["created_at"].utcoffset() == timedelta(0)
    assert (row["thinking_tokens"], row["status"], row["cut"], row["extra"]) == (0, "success", False, {})
    naive = decode_line(b'{"litellm_call_id":"y","created_at":"2026-05-01T12:00:00"}')
    assert naive["created_at"].tzinfo is UTC


@pytest.mark.parametrize(
    "line",
    [
        b"{not json",
        b"[1, 2]",
        b'{"created_at": "2026-05-01T00:00:00+00:00"}',
        b'{"litellm_call_id": "x"}',
        b'{"litellm_call_id": "x", "created_at": "yesterday"}',
        b'{"litellm_call_id": "x", "created_at": "2026-05-01T00:00:00", "thinking_tokens": "many"}',
        b'{"litellm_call_id": "x", "created_at": "2026-05-01T00:00:00", "thinking_tokens": true}',
        b'{"litellm_call_id": "x", "created_at": "2026-05-01T00:00:00", "budget": 99999999999}',
    ],
)
def test_decode_rejects_bad_lines(line: bytes) -> None:
    with pytest.raises(SpoolFormatError):
        decode_line(line)


def test_encode_never_fails_on_odd_extra_values() -> None:
    record = make_record(1, extra={"when": datetime(2026, 1, 1, tzinfo=UTC), "obj": object(), "s": {1}})
    row = decode_line(encode_record(record)[:-1])
    assert row["extra"]["when"] == "2026-01-01T00:00:00+00:00"
    assert row["extra"]["s"] == [1]


def _spool(tmp_path: Path, **kw: int) -> Spool:
    return Spool.create(
        tmp_path,
        "inst",
        segment_bytes=kw.get("segment_bytes", 1 << 20),
        max_bytes=kw.get("max_bytes", 1 << 30),
    )


def _lines(n: int, start: int = 0) -> bytes:
    return b"".join(encode_record(make_record(i)) for i in range(start, start + n))


def _drain(spool: Spool, max_lines: int = 7) -> list[str]:
    ids: list[str] = []
    while True:
        batch = spool.read_batch(spool.checkpoint, max_lines)
        if not batch.lines and batch.end == spool.checkpoint:
            return ids
        ids += [decode_line(line)["litellm_call_id"] for line in batch.lines]
        spool.acknowledge(batch.end)


def test_rotation_keeps_order_and_acknowledge_deletes_finished_segments(tmp_path: Path) -> None:
    spool = _spool(tmp_path, segment_bytes=4096)
    for i in range(0, 200, 10):
        spool.append(_lines(10, i))
    segments = sorted(p.name for p in spool.directory.glob("seg-*.jsonl"))
    assert len(segments) > 3
    assert _drain(spool) == [f"call-{i:08d}" for i in range(200)]
    assert len(list(spool.directory.glob("seg-*.jsonl"))) == 1  # only the current one is left
    assert spool.is_drained() and spool.pending_bytes() == 0
    checkpoint = json.loads((spool.directory / "checkpoint.json").read_text())
    assert Position(checkpoint["segment"], checkpoint["offset"]) == spool.checkpoint


def test_size_bound_drops_whole_oldest_segments_and_counts_them(tmp_path: Path) -> None:
    one_batch = _lines(10)
    spool = _spool(tmp_path, segment_bytes=len(one_batch) * 2, max_bytes=len(one_batch) * 5)
    dropped = 0
    for i in range(0, 200, 10):
        dropped += spool.append(_lines(10, i))
        assert spool.disk_bytes() <= len(one_batch) * 5 + len(one_batch) + 100  # bound + one batch
    ids = _drain(spool)
    assert dropped == spool.dropped_lines == 200 - len(ids)
    assert dropped > 0
    assert ids == [f"call-{i:08d}" for i in range(200 - len(ids), 200)]  # newest kept, in order


def test_reopened_spool_resumes_from_checkpoint(tmp_path: Path) -> None:
    spool = _spool(tmp_path)
    spool.append(_lines(30))
    batch = spool.read_batch(spool.checkpoint, 10)
    spool.acknowledge(batch.end)
    spool.close(remove=False)
    adopted = Spool.adopt(tmp_path / "inst")
    assert adopted is not None and not adopted.owned
    assert _drain(adopted) == [f"call-{i:08d}" for i in range(10, 30)]


def test_torn_last_line_of_dead_writer_is_skipped_and_counted(tmp_path: Path) -> None:
    spool = _spool(tmp_path)
    spool.append(_lines(3))
    spool.close(remove=False)
    with open(tmp_path / "inst" / "seg-000000000001.jsonl", "ab") as handle:
        handle.write(b'{"litellm_call_id": "half')
    adopted = Spool.adopt(tmp_path / "inst")
    assert adopted is not None
    first = adopted.read_batch(adopted.checkpoint, 100)
    assert len(first.lines) == 3
    adopted.acknowledge(first.end)
    torn = adopted.read_batch(adopted.checkpoint, 100)
    assert torn.lines == () and torn.torn_lines == 1 and torn.end != adopted.checkpoint
    adopted.acknowledge(torn.end)
    assert adopted.is_drained()


_HOLDER = """
import sys, time
from pathlib import Path
from thinkbudget_litellm.record.spool import Spool
spool = Spool.create(Path(sys.argv[1]), sys.argv[2], segment_bytes=1 << 20, max_bytes=1 << 30)
spool.append(b'{"litellm_call_id":"held","created_at":"2026-05-01T00:00:00+00:00"}\\n')
print("ready", flush=True)
time.sleep(60)
"""


def test_live_writer_is_never_adopted_dead_one_is(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(tmp_path), "alive"], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        dead = _spool(tmp_path)
        dead.append(_lines(2))
        dead.close(remove=False)  # lock released: as if its process had died
        (tmp_path / ".tmp-creating").mkdir()  # a half-created directory is never adopted
        orphans = adopt_orphans(tmp_path, own=None)
        assert [o.directory.name for o in orphans] == ["inst"]
        assert adopt_orphans(tmp_path, own=None) == []  # now locked by us
        assert (tmp_path / ".tmp-creating").exists()
    finally:
        holder.kill()
        holder.wait()
    again = adopt_orphans(tmp_path, own=None)
    assert [o.directory.name for o in again] == ["alive"]
    assert _drain(again[0]) == ["held"]

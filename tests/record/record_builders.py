"""Builders of RequestRecord values for the record tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from thinkbudget_litellm.record import RequestRecord

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def make_record(n: int, prefix: str = "call", **overrides: Any) -> RequestRecord:
    """A plausible record, distinct per ``n``."""
    fields: dict[str, Any] = {
        "litellm_call_id": f"{prefix}-{n:08d}",
        "created_at": T0 + timedelta(seconds=n),
        "api_key_hash": f"hash-{n % 3}",
        "team_id": f"team-{n % 2}",
        "model_group": "qwen3-32b",
        "tier": ("light", "standard", "deep")[n % 3],
        "thinking_tokens": 100 + n,
        "answer_tokens": 50,
        "prompt_tokens": 20,
        "energy_j": 10.0 + n,
        "energy_source": "simulated",
        "cost_usd": 0.001,
        "baseline_thinking_tokens": 300 + n if n % 2 == 0 else None,
        "extra": {"n": n},
    }
    fields.update(overrides)
    return RequestRecord(**fields)


def write_sqlite_records(db: Path, records: Iterable[RequestRecord], spool_dir: Path) -> None:
    """``records`` written through the real writer into an SQLite file migrated to the newest schema."""
    from thinkbudget_litellm.record.database_url import clean_database_url
    from thinkbudget_litellm.record.migrate import upgrade_database
    from thinkbudget_litellm.record.writer import RecordWriter

    async def write() -> None:
        target = clean_database_url(f"sqlite:///{db}")
        await upgrade_database(target)
        writer = RecordWriter(target, spool_dir=spool_dir)
        await writer.start()
        for record in records:
            writer.submit(record)
        assert await writer.wait_idle(30)
        await writer.stop()

    asyncio.run(write())

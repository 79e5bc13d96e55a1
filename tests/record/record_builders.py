"""Builders of RequestRecord values for the record tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
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

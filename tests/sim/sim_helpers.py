"""Helpers for the simulated-backend tests (imported by name: pytest puts tests/sim on sys.path)."""

from __future__ import annotations

import json
from typing import Any


def sse_chunks(raw: str) -> list[Any]:
    """Parse an SSE body into chunk dicts, with "[DONE]" kept as a string; checks the framing."""
    assert raw.endswith("\n\n"), raw[-50:]
    events = raw[:-2].split("\n\n")
    assert all(e.startswith("data: ") for e in events), events[:3]
    return [e[6:] if e[6:] == "[DONE]" else json.loads(e[6:]) for e in events]


def deltas(chunks: list[Any], field: str) -> list[str]:
    """The per-token values of delta[field] (the first, role-only chunk excluded)."""
    return [
        c["choices"][0]["delta"][field]
        for c in chunks[1:]
        if isinstance(c, dict) and c["choices"] and field in c["choices"][0]["delta"]
    ]


def user(text: str = "hi") -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]

"""A reporting period's start from what a person types: ``7d``, ``12h``, ``30m``, ``2w`` or an ISO
date (pure; the report command and the dashboard share it)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_SINCE_RE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.IGNORECASE)
_UNIT = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text_value: str, now: datetime) -> datetime:
    """``7d`` / ``12h`` / ``30m`` / ``2w`` before ``now``, or an ISO date/datetime (naive = UTC).

    Raises ValueError with a message fit for the command line.
    """
    match = _SINCE_RE.match(text_value)
    if match:
        amount = int(match.group(1))
        return now - timedelta(**{_UNIT[match.group(2).lower()]: amount})
    try:
        moment = datetime.fromisoformat(text_value.strip())
    except ValueError:
        raise ValueError(
            f"{text_value!r}: expected a duration like 7d, 12h, 30m, 2w or an ISO date like 2026-05-01"
        ) from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment > now:
        raise ValueError(f"{text_value!r} is in the future")
    return moment

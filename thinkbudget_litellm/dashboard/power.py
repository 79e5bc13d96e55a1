"""GPU power now, from successive meter snapshots (pure: the caller passes the time)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from thinkbudget_litellm.meter.hub import DeploymentMeterSnapshot

MIN_INTERVAL_S = 0.5  # shorter intervals keep the previous figure (a tick may not have settled)


@dataclass(slots=True)
class _Sample:
    at: float
    metered_j: float
    watts: float | None = None


class PowerTracker:
    """Watts per deployment: the metered energy's growth between two looks at the meter."""

    def __init__(self) -> None:
        self._last: dict[str, _Sample] = {}

    def update(
        self, now: float, snapshots: Mapping[str, DeploymentMeterSnapshot], names: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        out = []
        for dep_id, snap in sorted(snapshots.items()):
            last = self._last.get(dep_id)
            watts = last.watts if last is not None else None
            if last is None or now - last.at >= MIN_INTERVAL_S:
                if last is not None and snap.metered_j >= last.metered_j and snap.source != "none":
                    watts = (snap.metered_j - last.metered_j) / (now - last.at)
                self._last[dep_id] = _Sample(now, snap.metered_j, watts)
            out.append(
                {
                    "deployment": dep_id,
                    "model": names.get(dep_id),
                    "source": snap.source,
                    "healthy": snap.healthy,
                    "power_w": watts,
                    "metered_j": snap.metered_j,
                    "attributed_j": snap.attributed_j,
                    "idle_j": snap.idle_j,
                    "active_requests": snap.active_requests,
                }
            )
        return out

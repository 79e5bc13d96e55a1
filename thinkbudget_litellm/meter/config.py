"""A deployment's meter configuration as plain values (no pydantic), built by the hub from
``DeploymentSettings`` or given directly (tests, simulator, benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SourceKind = Literal["nvml", "dcgm", "estimate", "none"]


class MeterConfigError(ValueError):
    """A deployment's meter settings cannot work (reported at configure time, not per request)."""


@dataclass(frozen=True, slots=True)
class MeterConfig:
    source: SourceKind = "none"
    devices: tuple[int, ...] | None = None  # nvml indices / dcgm gpu labels; None: 0..count-1 / all
    url: str | None = None  # dcgm exporter /metrics
    watts: float | None = None  # busy watts per GPU (estimate source; fallback estimates)
    idle_watts: float = 0.0
    timeout_s: float = 0.5
    tick_s: float = 0.2
    price_per_kwh: float = 0.0
    spread_idle: bool = False
    prefill_weight: float = 0.1
    gpu_count: int = 1
    cost_per_hour: float = 0.0  # USD per GPU-hour, per GPU
    token_source: Literal["proxy", "vllm"] = "proxy"
    token_url: str | None = None  # vLLM /metrics

    def validate(self, where: str) -> None:
        """Raise ``MeterConfigError`` naming ``where`` when the combination cannot work."""
        problems = []
        if self.source not in ("nvml", "dcgm", "estimate", "none"):
            problems.append(f"energy.source: unknown source {self.source!r}")
        if self.source == "dcgm" and not self.url:
            problems.append("energy.url: the dcgm source needs the exporter's /metrics url")
        if self.source == "estimate" and self.watts is None:
            problems.append("energy.watts: the estimate source needs busy watts per GPU")
        if self.token_source == "vllm" and not self.token_url:
            problems.append("tokens.url: the vllm token counter needs the engine's /metrics url")
        if self.gpu_count < 1:
            problems.append(f"gpu.count: must be >= 1, got {self.gpu_count}")
        if self.source == "nvml" and self.devices is not None and len(self.devices) == 0:
            problems.append("energy.devices: empty list")
        if not 0.05 <= self.tick_s <= 5.0:
            problems.append(f"energy.tick_s: must be within 0.05..5 s, got {self.tick_s}")
        if not self.timeout_s > 0:
            problems.append(f"energy.timeout_s: must be > 0, got {self.timeout_s}")
        for name in ("idle_watts", "price_per_kwh", "prefill_weight", "cost_per_hour"):
            if not getattr(self, name) >= 0:
                problems.append(f"{name}: must be >= 0")
        if problems:
            raise MeterConfigError("; ".join(f"{where}: {p}" for p in problems))

    @property
    def nvml_devices(self) -> tuple[int, ...]:
        return self.devices if self.devices is not None else tuple(range(self.gpu_count))

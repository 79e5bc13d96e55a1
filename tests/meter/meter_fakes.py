"""Fakes shared by the meter tests: a settable clock, a settable energy counter, a fake pynvml."""

from __future__ import annotations

import asyncio
from typing import Any

from thinkbudget_litellm.meter.config import MeterConfig
from thinkbudget_litellm.meter.engine_tokens import EngineTokens
from thinkbudget_litellm.meter.provenance import EnergyProvenance
from thinkbudget_litellm.meter.sources.base import EnergyReader, SourceError


class FakeClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


class FakeSource:
    """A cumulative counter the test moves by hand; can fail, hang, go backwards or return anything."""

    name = "fake"
    label = EnergyProvenance.MEASURED_NVML
    gpus_read: int | None = None  # the deployment's gpu count
    power_limit_w: float | None = None

    def __init__(self, stale_on_equal: bool = True) -> None:
        self.stale_on_equal = stale_on_equal
        self.joules: Any = 5_000.0
        self.reads = 0
        self.fail: str | None = None  # reason to raise
        self.hang = False
        self.activity: list[tuple[bool, float]] = []
        self.closed = False

    def add(self, joules: Any) -> None:
        self.joules += joules

    async def read_joules(self, now: float) -> float:
        self.reads += 1
        await asyncio.sleep(0)  # a real await: lets concurrent finishes coalesce
        if self.hang:
            await asyncio.sleep(3600)
        if self.fail:
            raise SourceError(self.fail)
        return self.joules

    def note_activity(self, busy: bool, now: float) -> None:
        self.activity.append((busy, now))

    async def aclose(self) -> None:
        self.closed = True


class FakeTokenReader:
    def __init__(self) -> None:
        self.generated = 0.0
        self.prompt = 0.0
        self.fail = False

    async def read(self) -> EngineTokens:
        if self.fail:
            raise SourceError("vllm timeout")
        return EngineTokens(self.generated, self.prompt)

    async def aclose(self) -> None:
        return None


def fixed_source_factory(source: EnergyReader | None) -> Any:
    def factory(deployment_id: str, cfg: MeterConfig, now: float) -> EnergyReader | None:
        return source

    return factory


class FakeNvml:
    """Stands in for the ``pynvml`` module: per-device mJ counters and mW power readings."""

    class NVMLError(Exception):
        pass

    class NVMLError_NotSupported(NVMLError):
        pass

    class NVMLError_LibraryNotFound(NVMLError):
        pass

    class NVMLError_GpuIsLost(NVMLError):
        pass

    def __init__(self, devices: int = 2, counter_supported: bool = True, absent: bool = False) -> None:
        self.energy_mj: list[Any] = [1_000_000 * (i + 1) for i in range(devices)]
        self.power_mw: list[Any] = [100_000 for _ in range(devices)]
        self.limit_mw: list[int | None] = [700_000 for _ in range(devices)]  # None: NotSupported
        self.counter_supported = [counter_supported] * devices
        self.absent = absent
        self.init_calls = 0
        self.lost = False

    def nvmlInit(self) -> None:
        self.init_calls += 1
        if self.absent:
            raise self.NVMLError_LibraryNotFound("NVML Shared Library Not Found")

    def nvmlDeviceGetCount(self) -> int:
        return len(self.energy_mj)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: int) -> int:
        if self.lost:
            raise self.NVMLError_GpuIsLost("GPU is lost")
        if not self.counter_supported[handle]:
            raise self.NVMLError_NotSupported("Not Supported")
        return self.energy_mj[handle]

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: int) -> int:
        limit = self.limit_mw[handle]
        if limit is None:
            raise self.NVMLError_NotSupported("Not Supported")
        return limit

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:
        if self.lost:
            raise self.NVMLError_GpuIsLost("GPU is lost")
        return self.power_mw[handle]

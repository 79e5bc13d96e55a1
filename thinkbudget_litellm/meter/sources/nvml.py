"""NVML energy source: ``nvmlDeviceGetTotalEnergyConsumption`` (mJ since driver load) summed over
the deployment's device indices (tensor parallel); devices whose counter is NotSupported fall back
to integrating ``nvmlDeviceGetPowerUsage`` between reads (trapezoid).

Each device's reading is checked on its own before the sum is returned (``validate.PartsGuard``): a
non-finite power reading, or one GPU's counter going back (a GPU reset while the others count on),
raises ``RejectedReading``. The devices' enforced power limits (``nvmlDeviceGetEnforcedPowerLimit``)
are read once, when the devices are opened, and bound what a reading may show (``power_limit_w``).

NVML is loaded and initialised once per ``NvmlLibrary``, lazily, on the first read. A missing
library or driver is remembered and every read then raises ``SourceError("nvml absent")`` so the
hub degrades to a labelled estimate. Importable without pydantic (the GPU benchmark uses it).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

from thinkbudget_litellm.meter.provenance import EnergyProvenance
from thinkbudget_litellm.meter.sources.base import RejectedReading, SourceError, restart_value
from thinkbudget_litellm.meter.sources.power import PowerIntegrator
from thinkbudget_litellm.meter.validate import PartsGuard, check_value, device_indices_problem


class NvmlLibrary:
    """The pynvml module, initialised once on first use; failures are remembered."""

    def __init__(self, module: Any | None = None) -> None:
        self._module = module  # injected (tests) or imported lazily
        self._lock = threading.Lock()
        self._ready = False
        self._failure: SourceError | None = None

    def get(self) -> Any:
        """The initialised pynvml module, or ``SourceError('nvml absent', why)``."""
        if self._ready:
            return self._module
        with self._lock:
            if self._ready:
                return self._module
            if self._failure is not None:
                raise self._failure
            try:
                if self._module is None:
                    self._module = importlib.import_module("pynvml")
                self._module.nvmlInit()
            except ImportError as exc:
                self._failure = SourceError("nvml absent", f"nvidia-ml-py not installed ({exc})")
                raise self._failure from None
            except Exception as exc:  # pynvml.NVMLError_LibraryNotFound, DriverNotLoaded, ...
                self._failure = SourceError("nvml absent", f"{type(exc).__name__}: {exc}")
                raise self._failure from None
            self._ready = True
            return self._module

    @property
    def failure(self) -> SourceError | None:
        return self._failure


_DEFAULT_LIBRARY = NvmlLibrary()


class _NvmlThread:
    """One daemon thread for every NVML call of the process (NVML serialises them anyway). A daemon,
    so a call hung in the driver never holds up the proxy's shutdown."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], float], concurrent.futures.Future[float]]] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._serve, name="thinkbudget-nvml", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            job, future = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job())
            except BaseException as exc:  # handed to the awaiting coroutine
                future.set_exception(exc)

    def submit(self, job: Callable[[], float]) -> concurrent.futures.Future[float]:
        future: concurrent.futures.Future[float] = concurrent.futures.Future()
        self._jobs.put((job, future))
        return future


_worker: _NvmlThread | None = None
_worker_lock = threading.Lock()


def _nvml_thread() -> _NvmlThread:
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = _NvmlThread()
        return _worker


def default_library() -> NvmlLibrary:
    """The process-wide NVML library object (one init per process)."""
    return _DEFAULT_LIBRARY


class _Device:
    __slots__ = ("handle", "index", "integrator", "limit_w", "uses_power")

    def __init__(self, index: int, handle: Any, uses_power: bool, limit_w: float | None) -> None:
        self.index = index
        self.handle = handle
        self.uses_power = uses_power
        self.limit_w = limit_w
        self.integrator = PowerIntegrator()


def _enforced_limit_w(nvml: Any, handle: Any) -> float | None:
    """The device's enforced power limit in watts, or None when NVML cannot tell."""
    getter = getattr(nvml, "nvmlDeviceGetEnforcedPowerLimit", None)
    if getter is None:
        return None
    try:
        milliwatts = getter(handle)
    except nvml.NVMLError:
        return None
    return milliwatts / 1000.0 if check_value(milliwatts) is None and milliwatts > 0 else None


class NvmlSource:
    """Cumulative joules of the given NVML device indices."""

    name = "nvml"
    stale_on_equal = True

    def __init__(
        self, devices: Sequence[int], *, library: NvmlLibrary | None = None, force_power: bool = False
    ) -> None:
        problem = device_indices_problem(list(devices))
        if problem is not None:
            raise ValueError(f"nvml source: {problem}")
        self._indices = tuple(devices)
        self._library = library or default_library()
        self._force_power = force_power
        self._devices: list[_Device] | None = None
        self._guard: PartsGuard[int] = PartsGuard()

    @property
    def label(self) -> EnergyProvenance:
        if self._devices is not None and any(d.uses_power for d in self._devices):
            return EnergyProvenance.MEASURED_NVML_POWER
        return EnergyProvenance.MEASURED_NVML_POWER if self._force_power else EnergyProvenance.MEASURED_NVML

    @property
    def gpus_read(self) -> int:
        return len(self._indices)

    @property
    def power_limit_w(self) -> float | None:
        """Sum of the devices' enforced power limits once they are open (None before, or when one
        of them cannot tell)."""
        if self._devices is None or any(d.limit_w is None for d in self._devices):
            return None
        return sum(d.limit_w or 0.0 for d in self._devices)

    @property
    def devices(self) -> tuple[int, ...]:
        return self._indices

    def device_modes(self) -> dict[int, str]:
        """``{index: "counter" | "power"}`` once the devices are open (empty before)."""
        return {d.index: ("power" if d.uses_power else "counter") for d in self._devices or []}

    def _open(self, nvml: Any) -> list[_Device]:
        count = nvml.nvmlDeviceGetCount()
        devices = []
        for index in self._indices:
            if index >= count:
                raise SourceError("nvml device missing", f"index {index}, {count} device(s) present")
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            uses_power = self._force_power
            if not uses_power:
                try:
                    nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
                except nvml.NVMLError_NotSupported:
                    uses_power = True
            devices.append(_Device(index, handle, uses_power, _enforced_limit_w(nvml, handle)))
        return devices

    def read_now(self, now: float) -> float:
        """Synchronous read: cumulative joules summed over the devices (``now`` times power reads).

        Raises ``RejectedReading`` when a device's reading is not believable (see the module doc)."""
        nvml = self._library.get()
        try:
            if self._devices is None:
                self._devices = self._open(nvml)
            parts: dict[int, float] = {}
            for dev in self._devices:
                if dev.uses_power:
                    watts = nvml.nvmlDeviceGetPowerUsage(dev.handle) / 1000.0
                    rejection = check_value(watts)
                    if rejection is not None:
                        raise RejectedReading(self.name, rejection, f"device {dev.index}: {watts} W")
                    parts[dev.index] = dev.integrator.add(now, watts)
                else:
                    parts[dev.index] = nvml.nvmlDeviceGetTotalEnergyConsumption(dev.handle) / 1000.0
        except SourceError:
            raise
        except nvml.NVMLError as exc:
            raise SourceError("nvml error", f"{type(exc).__name__}: {exc}") from None
        rejection = self._guard.check(parts)
        if rejection is not None:
            detail = f"per-device joules {parts}"
            raise RejectedReading(self.name, rejection, detail, restart_value(rejection, parts.values()))
        return sum(parts.values())

    async def read_joules(self, now: float) -> float:
        """NVML answers in microseconds, but a GPU in a bad state (Xid errors, a lost device) can block
        a call for seconds: read on NVML's own thread so the proxy's event loop never waits on it (the
        hub's timeout turns a hung read into a labelled failure; later reads queue behind it)."""
        return await asyncio.wrap_future(_nvml_thread().submit(lambda: self.read_now(now)))

    def note_activity(self, busy: bool, now: float) -> None:
        return None

    async def aclose(self) -> None:
        return None  # NVML stays initialised for the process (other deployments share it)

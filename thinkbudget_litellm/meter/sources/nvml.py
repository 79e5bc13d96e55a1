"""NVML energy source: ``nvmlDeviceGetTotalEnergyConsumption`` (mJ since driver load) summed over
the deployment's device indices (tensor parallel); devices whose counter is NotSupported fall back
to integrating ``nvmlDeviceGetPowerUsage`` between reads (trapezoid).

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

from thinkbudget_litellm.meter.sources.base import MEASURED_NVML, MEASURED_NVML_POWER, SourceError
from thinkbudget_litellm.meter.sources.power import PowerIntegrator


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
    __slots__ = ("handle", "index", "integrator", "uses_power")

    def __init__(self, index: int, handle: Any, uses_power: bool) -> None:
        self.index = index
        self.handle = handle
        self.uses_power = uses_power
        self.integrator = PowerIntegrator()


class NvmlSource:
    """Cumulative joules of the given NVML device indices."""

    name = "nvml"
    stale_on_equal = True

    def __init__(
        self, devices: Sequence[int], *, library: NvmlLibrary | None = None, force_power: bool = False
    ) -> None:
        if not devices:
            raise ValueError("nvml source needs at least one device index")
        if any(i < 0 for i in devices):
            raise ValueError(f"nvml device indices must be >= 0, got {list(devices)}")
        if len(set(devices)) != len(devices):
            raise ValueError(f"nvml device indices repeat: {list(devices)}")
        self._indices = tuple(devices)
        self._library = library or default_library()
        self._force_power = force_power
        self._devices: list[_Device] | None = None

    @property
    def label(self) -> str:
        if self._devices is not None and any(d.uses_power for d in self._devices):
            return MEASURED_NVML_POWER
        return MEASURED_NVML_POWER if self._force_power else MEASURED_NVML

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
            devices.append(_Device(index, handle, uses_power))
        return devices

    def read_now(self, now: float) -> float:
        """Synchronous read: cumulative joules summed over the devices (``now`` times power reads)."""
        nvml = self._library.get()
        try:
            if self._devices is None:
                self._devices = self._open(nvml)
            total = 0.0
            for dev in self._devices:
                if dev.uses_power:
                    total += dev.integrator.add(now, nvml.nvmlDeviceGetPowerUsage(dev.handle) / 1000.0)
                else:
                    total += nvml.nvmlDeviceGetTotalEnergyConsumption(dev.handle) / 1000.0
            return total
        except SourceError:
            raise
        except nvml.NVMLError as exc:
            raise SourceError("nvml error", f"{type(exc).__name__}: {exc}") from None

    async def read_joules(self, now: float) -> float:
        """NVML answers in microseconds, but a GPU in a bad state (Xid errors, a lost device) can block
        a call for seconds: read on NVML's own thread so the proxy's event loop never waits on it (the
        hub's timeout turns a hung read into a labelled failure; later reads queue behind it)."""
        return await asyncio.wrap_future(_nvml_thread().submit(lambda: self.read_now(now)))

    def note_activity(self, busy: bool, now: float) -> None:
        return None

    async def aclose(self) -> None:
        return None  # NVML stays initialised for the process (other deployments share it)

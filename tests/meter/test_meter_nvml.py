"""The NVML source against a fake pynvml: counter, NotSupported -> power integration, absent library."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from meter_fakes import FakeNvml

from thinkbudget_litellm.meter.provenance import EnergyProvenance
from thinkbudget_litellm.meter.sources.base import RejectedReading, SourceError
from thinkbudget_litellm.meter.sources.nvml import NvmlLibrary, NvmlSource
from thinkbudget_litellm.meter.validate import Rejection


def test_counter_is_summed_over_the_tensor_parallel_group() -> None:
    fake = FakeNvml(devices=4)
    source = NvmlSource([1, 3], library=NvmlLibrary(fake))
    assert fake.init_calls == 0  # lazy
    assert source.read_now(0.0) == pytest.approx((2_000_000 + 4_000_000) / 1000)
    fake.energy_mj[1] += 1500
    fake.energy_mj[0] += 99_000  # not ours
    assert source.read_now(1.0) == pytest.approx(6000 + 1.5)
    assert source.label is EnergyProvenance.MEASURED_NVML
    assert source.device_modes() == {1: "counter", 3: "counter"}
    assert fake.init_calls == 1


def test_not_supported_counter_falls_back_to_power_integration() -> None:
    fake = FakeNvml(devices=2, counter_supported=False)
    source = NvmlSource([0, 1], library=NvmlLibrary(fake))
    assert source.read_now(10.0) == 0.0
    fake.power_mw = [200_000, 100_000]
    # trapezoid per device: (100 + 200) / 2 x 2 s + (100 + 100) / 2 x 2 s
    assert source.read_now(12.0) == pytest.approx(300.0 + 200.0)
    assert source.label is EnergyProvenance.MEASURED_NVML_POWER
    assert source.device_modes() == {0: "power", 1: "power"}


def test_force_power_uses_power_even_with_a_counter() -> None:
    fake = FakeNvml(devices=1)
    source = NvmlSource([0], library=NvmlLibrary(fake), force_power=True)
    source.read_now(0.0)
    assert source.read_now(0.5) == pytest.approx(50.0)
    assert source.label is EnergyProvenance.MEASURED_NVML_POWER


def test_absent_library_is_a_clear_remembered_failure() -> None:
    fake = FakeNvml(absent=True)
    library = NvmlLibrary(fake)
    source = NvmlSource([0], library=library)
    for _ in range(3):
        with pytest.raises(SourceError) as err:
            source.read_now(0.0)
        assert err.value.reason == "nvml absent"
        assert "Library Not Found" in err.value.detail
    assert fake.init_calls == 1
    assert library.failure is not None


def test_missing_python_package_is_nvml_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # makes the import fail
    with pytest.raises(SourceError, match="nvml absent"):
        NvmlSource([0], library=NvmlLibrary()).read_now(0.0)


def test_imports_pynvml_lazily_when_not_injected(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeNvml(devices=1)
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    assert NvmlSource([0], library=NvmlLibrary()).read_now(0.0) == pytest.approx(1000.0)


def test_missing_device_and_lost_gpu_are_source_errors() -> None:
    fake = FakeNvml(devices=2)
    with pytest.raises(SourceError, match="nvml device missing"):
        NvmlSource([2], library=NvmlLibrary(fake)).read_now(0.0)
    source = NvmlSource([0], library=NvmlLibrary(fake))
    source.read_now(0.0)
    fake.lost = True
    with pytest.raises(SourceError) as err:
        source.read_now(1.0)
    assert err.value.reason == "nvml error" and "GPU is lost" in err.value.detail


def test_bad_device_lists_are_rejected() -> None:
    for bad in ([], [-1], [0, 0]):
        with pytest.raises(ValueError):
            NvmlSource(bad, library=NvmlLibrary(FakeNvml()))


def test_modules_used_on_the_gpu_machine_import_without_pydantic() -> None:
    import subprocess

    code = (
        "import runpy, sys\n"
        "for name in ('pydantic', 'httpx', 'prometheus_client', 'litellm', 'aiohttp'):\n"
        "    sys.modules[name] = None\n"
        "import thinkbudget_litellm.meter.sources.nvml, thinkbudget_litellm.meter.attribution\n"
        "import thinkbudget_litellm.meter.cost, thinkbudget_litellm.meter.counter\n"
        "runpy.run_path('benchmarks/gpu_energy_check.py', run_name='not_main')\n"
        "assert 'thinkbudget_litellm.settings' not in sys.modules\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})


async def test_a_hung_nvml_call_does_not_block_the_event_loop() -> None:
    """A GPU in a bad state can block NVML for seconds; the read times out while the loop runs on."""
    import asyncio
    import threading

    release = threading.Event()
    returned = threading.Event()

    class HangingNvml(FakeNvml):
        def nvmlDeviceGetTotalEnergyConsumption(self, handle: int) -> int:
            release.wait(5)
            returned.set()
            return super().nvmlDeviceGetTotalEnergyConsumption(handle)

    source = NvmlSource([0], library=NvmlLibrary(HangingNvml(devices=1)))
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(source.read_joules(0.0), timeout=0.05)
        assert not returned.is_set()  # on the loop thread, wait_for could only have returned after the call
    finally:
        release.set()


def test_one_device_going_back_is_a_reset_even_when_the_sum_grows() -> None:
    fake = FakeNvml(devices=2)
    source = NvmlSource([0, 1], library=NvmlLibrary(fake))
    source.read_now(0.0)
    fake.energy_mj = [fake.energy_mj[0] + 5_000_000, 1_000]  # GPU 1 reset; the sum still grows
    with pytest.raises(RejectedReading) as err:
        source.read_now(1.0)
    assert err.value.rejection is Rejection.BACKWARDS and err.value.reason == "nvml counter reset"
    assert err.value.value == pytest.approx(6000.0 + 1.0)  # the counter restarts from the new sum
    fake.energy_mj = [v + 1_000 for v in fake.energy_mj]
    assert source.read_now(2.0) == pytest.approx(6001.0 + 2.0)


def test_a_nan_power_reading_is_rejected_and_does_not_poison_the_integral() -> None:
    fake = FakeNvml(devices=1, counter_supported=False)
    source = NvmlSource([0], library=NvmlLibrary(fake))
    source.read_now(0.0)
    for bad in (float("nan"), float("inf"), -5_000):
        fake.power_mw = [bad]
        with pytest.raises(RejectedReading) as err:
            source.read_now(1.0)
        assert err.value.rejection in (Rejection.NON_FINITE, Rejection.NEGATIVE)
    fake.power_mw = [100_000]
    assert source.read_now(2.0) == pytest.approx(200.0)


def test_enforced_power_limits_are_read_when_available() -> None:
    fake = FakeNvml(devices=3)
    source = NvmlSource([0, 2], library=NvmlLibrary(fake))
    assert source.power_limit_w is None and source.gpus_read == 2  # not open yet
    source.read_now(0.0)
    assert source.power_limit_w == pytest.approx(1400.0)
    fake.limit_mw[1] = None
    partial = NvmlSource([0, 1], library=NvmlLibrary(fake))
    partial.read_now(0.0)
    assert partial.power_limit_w is None  # one device cannot tell: the configured or default bound applies

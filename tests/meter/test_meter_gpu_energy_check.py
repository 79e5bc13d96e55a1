"""The non-GPU parts of benchmarks/gpu_energy_check.py, with a fake NVML and a fake workload."""

from __future__ import annotations

import importlib.util
import math
import sys
import threading
import time
import types
from pathlib import Path
from typing import Any, ClassVar

import pytest
from meter_fakes import FakeNvml

from thinkbudget_litellm.meter.sources.nvml import NvmlLibrary

ROOT = Path(__file__).resolve().parents[2]


def _load() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_energy_check", ROOT / "benchmarks" / "gpu_energy_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_energy_check"] = module
    spec.loader.exec_module(module)
    return module


gec = _load()


def test_update_period_from_fast_polling() -> None:
    samples = [(i * 0.005, float((i * 5) // 20)) for i in range(400)]  # value moves every 20 ms
    period = gec.update_period(samples)
    assert period["changes"] == 99
    assert period["median_s"] == pytest.approx(0.02)
    assert gec.update_period([(0.0, 1.0), (1.0, 1.0)])["median_s"] is None


def test_value_at_takes_the_last_sample_before() -> None:
    samples = [(0.0, 10.0), (1.0, 20.0), (2.0, 30.0)]
    assert [gec.value_at(samples, t) for t in (-1.0, 0.0, 0.5, 1.0, 5.0)] == [10.0, 10.0, 10.0, 20.0, 30.0]


def test_attribution_demo_conserves_and_shows_time_share_overcount() -> None:
    # 300 W, counter updated every 100 ms
    samples = [(i * 0.01, 300.0 * math.floor(i / 10) * 0.1) for i in range(2001)]
    reqs = [
        gec.DemoRequest("A", 0.0, 18.0, 40.0, 300),
        gec.DemoRequest("B", 7.0, 20.0, 90.0, 4000),
        gec.DemoRequest("C", 4.0, 12.0, 15.0, 1200),
    ]
    demo = gec.attribution_demo(samples, 0.0, 20.0, reqs)
    assert demo["window_j"] == pytest.approx(6000.0)
    assert demo["conservation_gap_j"] == pytest.approx(0.0, abs=1e-6)
    assert demo["token_share_total_j"] + demo["idle_j"] + demo["carry_j"] == pytest.approx(6000.0)
    rows = {r["request"]: r for r in demo["requests"]}
    assert rows["B"]["token_share_j"] > rows["A"]["token_share_j"] > rows["C"]["token_share_j"]
    assert demo["time_share_overcount"] > 1.5  # each request charged the whole GPU


class TimedNvml(FakeNvml):
    """A counter driven by real time and by the load the fake workload sets."""

    def __init__(self) -> None:
        super().__init__(devices=1)
        self.t0 = time.monotonic()
        self.watts = 60.0
        self.joules = 0.0
        self.t_last = self.t0
        self.lock = threading.Lock()

    def set_watts(self, watts: float) -> None:
        with self.lock:
            self._advance()
            self.watts = watts

    def _advance(self) -> None:
        now = time.monotonic()
        self.joules += self.watts * (now - self.t_last)
        self.t_last = now

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: int) -> int:
        with self.lock:
            self._advance()
            return int(self.joules * 1000)

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:
        return int(self.watts * 1000)

    def nvmlDeviceGetName(self, handle: int) -> str:
        return "Fake GPU"

    def nvmlSystemGetDriverVersion(self) -> str:
        return "0.0"


class FakeWorkload:
    WATTS: ClassVar[dict[str, float]] = {"light": 200.0, "heavy": 600.0}

    def __init__(self, nvml: TimedNvml) -> None:
        self.nvml = nvml

    def calibrate(self, kind: str, target_s: float) -> int:
        return max(1, round(target_s / 0.002))

    def run(self, kind: str, iterations: int) -> None:
        self.nvml.set_watts(self.WATTS[kind])
        time.sleep(iterations * 0.002)
        self.nvml.set_watts(60.0)

    def tflop(self, kind: str, iterations: int) -> float:
        return float(iterations)


def test_run_check_end_to_end_with_fake_nvml(tmp_path: Path) -> None:
    nvml = TimedNvml()
    plan = gec.Plan(idle_s=0.2, light_s=0.2, heavy_s=0.3, cooldown_s=0.1)
    report = gec.run_check(FakeWorkload(nvml), NvmlLibrary(nvml), 0, plan, power_poll_s=0.02, log=lambda _m: None)
    phases = {p["name"]: p for p in report["phases"]}
    assert list(phases) == ["idle", "light", "heavy", "idle-after"]
    assert all(p["counter_j"] > 0 and p["power_j"] > 0 for p in phases.values())
    assert phases["heavy"]["counter_w"] > phases["light"]["counter_w"] > phases["idle"]["counter_w"]
    assert report["counter_label"] == "measured:nvml"
    assert report["power_label"] == "measured:nvml-power"
    assert report["device"] == {"name": "Fake GPU", "nvml_index": 0, "driver": "0.0"}
    assert report["attribution_demo"]["conservation_gap_j"] == pytest.approx(0.0, abs=1e-6)
    json_path, md_path = gec.write_outputs(report, tmp_path / "out")
    assert json_path.exists() and "| heavy |" in md_path.read_text()


def test_main_without_torch_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    assert gec.main(["--out", str(tmp_path)]) == 2
    assert "torch is not installed" in capsys.readouterr().err


def test_main_without_a_gpu_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fake_torch: Any = types.SimpleNamespace(cuda=types.SimpleNamespace(is_available=lambda: False))
    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    assert gec.main(["--out", str(tmp_path)]) == 2
    assert "no CUDA GPU" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(SystemExit):
        gec.parse_args(["--power-poll-ms", "1"])

"""The in-process benchmarks still run against the current package API (tiny sizes; no figures checked)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_stream_hook_benchmark_runs(tmp_path: Path) -> None:
    out = tmp_path / "stream.json"
    proc = subprocess.run(
        [sys.executable, "benchmarks/stream_bench.py", "--no-proxy", "--chunks", "50", "--hook-rounds", "1",
         "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT), "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    hook = json.loads(out.read_text())["hook"]
    assert hook["enforcer_total_us_per_chunk"] > 0

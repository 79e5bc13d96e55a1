"""The console script without its extras: a clear message naming the extra, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from thinkbudget_litellm.cli.extras import Extra, extra_providing, missing_extra_message


def _run_main(absent: tuple[str, ...], args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``thinkbudget-litellm ARGS`` in a fresh interpreter where the ``absent`` modules cannot be imported."""
    code = (
        "import sys\n"
        f"for name in {absent!r}:\n"
        "    sys.modules[name] = None\n"
        "from thinkbudget_litellm.cli.main import main\n"
        f"main({args!r})\n"
    )
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False"}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("absent", "args", "extra"),
    [
        (("typer",), ["db", "upgrade"], Extra.CLI),
        (("rich",), ["check-config", "config.yaml"], Extra.CLI),
        (("openai",), ["demo"], Extra.DEMO),
    ],
)
def test_a_missing_extra_is_named_with_its_install_command(
    absent: tuple[str, ...], args: list[str], extra: Extra, tmp_path: Path
) -> None:
    done = _run_main(absent, args, tmp_path)
    assert done.returncode == 1, done.stderr
    assert f"pip install 'thinkbudget-litellm[{extra.value}]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_with_the_extras_the_command_runs(tmp_path: Path) -> None:
    done = _run_main((), ["--help"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "check-config" in done.stdout and "report" in done.stdout


def test_extra_of_a_module() -> None:
    assert extra_providing("matplotlib.pyplot") is Extra.CHARTS
    assert extra_providing("typer") is Extra.CLI
    assert extra_providing("yaml") is None and extra_providing(None) is None
    assert "db upgrade" in missing_extra_message(Extra.CLI, "typer")  # says where the cli extra is needed

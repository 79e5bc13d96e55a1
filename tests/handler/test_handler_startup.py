"""What loading the handler (the proxy's start-up) does before any request."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = (
    "import thinkbudget_litellm.handler\n"
    "from thinkbudget_litellm.classify import learned\n"
    "print(learned.shipped_model.cache_info().currsize)\n"
)


def test_the_classifier_weights_load_with_the_handler_not_in_the_first_request() -> None:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "1"

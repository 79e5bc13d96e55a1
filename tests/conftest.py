"""Test-wide settings: no network, so LiteLLM must use its bundled price map; deterministic
Hypothesis examples on CI (CI=true), random ones elsewhere."""

import os

from hypothesis import settings

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_TELEMETRY", "False")

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
    settings.load_profile("ci")

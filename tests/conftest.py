"""Test-wide settings: no network, so LiteLLM must use its bundled price map; deterministic
Hypothesis examples on CI (CI=true), random ones elsewhere. Under pytest-xdist (``make test`` runs
two workers) each proxy tier stays on one worker, so its session-wide stack starts once."""

import os
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_TELEMETRY", "False")

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
    settings.load_profile("ci")


# test folders whose tests share one proxy stack each
_STACK_TIERS = ("e2e", "adversarial", "real_engine", "routing_e2e", "multi_proxy")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        parts = Path(str(item.path)).relative_to(here).parts
        if parts and parts[0] in _STACK_TIERS:
            item.add_marker(pytest.mark.xdist_group(parts[0]))

"""Test-wide settings: no network, so LiteLLM must use its bundled price map; deterministic
Hypothesis examples on CI (CI=true), random ones elsewhere. Under pytest-xdist (``make test`` runs
two workers) each proxy tier stays on one worker, so its session-wide stack starts once."""

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_TELEMETRY", "False")

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
    settings.load_profile("ci")


# test folders whose tests share one proxy stack each
_STACK_TIERS = ("e2e", "adversarial", "real_engine", "routing_e2e", "multi_proxy")


def _stack_tier(path: Path) -> str | None:
    """The proxy tier of a test file (its path relative to this folder), None outside them."""
    parts = path.parts
    return parts[0] if parts and parts[0] in _STACK_TIERS else None


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook, which reads the group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        tier = _stack_tier(Path(str(item.path)).relative_to(here))
        if tier is not None:
            item.add_marker(pytest.mark.xdist_group(tier))


def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """Under ``--dist loadgroup`` pytest-xdist groups by a suffix it writes into the node ids; a
    pytest that ignores it (pytest-xdist#1386) would silently start each proxy tier's stack on every
    worker (twice the CPU and the start-up time on CI): stop the run instead."""
    if node.config.getoption("dist", default="no") != "loadgroup":
        return
    # node ids are relative to the repository: tests/<tier>/...
    lost = [i for i in ids if "@" not in i and _stack_tier(Path(*Path(i.split("::")[0]).parts[1:]))]
    if lost:
        pytest.exit(
            f"--dist loadgroup did not group {len(lost)} proxy-tier tests (e.g. {lost[0]}): this pytest / "
            "pytest-xdist pair ignores xdist_group (pytest-xdist#1386); see the pin in pyproject.toml",
            returncode=4,
        )

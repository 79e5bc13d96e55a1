"""LiteLLM proxy configurations for the benchmarks (pure: plain dicts, dumped to YAML by the caller).

Both configurations list the same deployments with the same prices. The baseline is plain
LiteLLM: no callbacks, so no classification, no budget, no meter. The extension configuration
registers ``thinkbudget_litellm.proxy_handler`` and gives each deployment its enforcement mode,
its GPU price and, when the backend exposes one, its DCGM-style energy counter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from thinkbudget_litellm.tiers import DEFAULT_BUDGETS

PRICES = {"input_cost_per_token": 2.0e-7, "output_cost_per_token": 8.0e-7}
HANDLER = "thinkbudget_litellm.proxy_handler"


@dataclass(frozen=True)
class Backend:
    """An OpenAI-compatible backend behind one deployment ``r1-<mode>``."""

    mode: str  # the enforcement the extension run uses for it: native | stream
    api_base: str  # ending in /v1
    model: str  # LiteLLM model string, e.g. hosted_vllm/deepseek-r1-distill-qwen-7b
    metrics_url: str | None = None  # DCGM-style /metrics (energy counter), if any
    simulated: bool = True
    gpu_name: str = "H100 (simulated)"
    gpu_cost_per_hour: float = 1.70
    tick_s: float = 0.2
    max_model_len: int | None = None  # the engine's context window (prompt + completion), when known
    template_preopens_think: bool = False  # R1-style chat template: the generation prompt opens <think>

    @property
    def deployment(self) -> str:
        return f"r1-{self.mode}"


def _energy(backend: Backend) -> dict[str, Any]:
    if backend.metrics_url is None:
        return {"source": "none"}
    return {
        "source": "dcgm",
        "url": backend.metrics_url,
        "simulated": backend.simulated,
        "tick_s": backend.tick_s,
    }


def proxy_config(
    backends: Mapping[str, Backend],
    *,
    with_extension: bool,
    budgets: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The proxy config: one deployment per backend; thinkbudget on only ``with_extension``."""
    if not backends:
        raise ValueError("at least one backend is needed")
    model_list = []
    for backend in backends.values():
        info: dict[str, Any] = dict(PRICES)
        if backend.max_model_len is not None:
            info["max_model_len"] = backend.max_model_len
        if with_extension:
            info["thinkbudget"] = {
                "enforcement": backend.mode,
                "engine": "vllm",
                "gpu": {"name": backend.gpu_name, "count": 1, "cost_per_hour": backend.gpu_cost_per_hour},
                "energy": _energy(backend),
            }
            if backend.template_preopens_think:
                info["thinkbudget"]["template_preopens_think"] = True
        model_list.append(
            {
                "model_name": backend.deployment,
                "litellm_params": {"model": backend.model, "api_base": backend.api_base, "api_key": "sim"},
                "model_info": info,
            }
        )
    config: dict[str, Any] = {
        "model_list": model_list,
        "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"},
    }
    if with_extension:
        config["litellm_settings"] = {"callbacks": [HANDLER]}
        chosen = {t.value: n for t, n in DEFAULT_BUDGETS.items()} | dict(budgets or {})
        config["thinkbudget"] = {"budgets": chosen}
    return config

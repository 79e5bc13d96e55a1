"""A small proxy of its own for routing: three simulated backends standing for three model sizes
(different speeds, GPU prices and declared qualities) behind ``model: auto``, a LiteLLM complexity
router whose classifier and routing plugin LiteLLM loads from this config (dotted paths)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.proxy_stack import EMULATED_AUTH, TEST_CALLBACKS

# name -> (tokens/s, GPU $/h, declared quality, strengths). One stream's GPU-time price per generated
# token is $/h / 3600 / (tokens/s): small 1e-7, medium 1.25e-6, large 1e-5; the configured prices
# say the same, so an estimate made before the meter has measured anything is of the same size.
SIZES: dict[str, tuple[float, float, int, dict[str, float]]] = {
    "small": (1000.0, 0.36, 2, {}),
    "medium": (400.0, 1.8, 3, {"code": 2.0}),
    "large": (200.0, 7.2, 5, {}),
}
SIMS = {
    name: ["--style", "parser", "--native-budget", "--tokens-per-second", str(tps)] for name, (tps, *_) in SIZES.items()
}
COMMON_SIM_FLAGS = ["--model-name", "sim-r1", "--joules-per-token", "0.5", "--idle-watts", "60"]


def _deployment(name: str) -> dict[str, Any]:
    tps, per_hour, quality, strengths = SIZES[name]
    per_token = per_hour / 3600 / tps
    return {
        "model_name": f"qwen-{name}",
        "litellm_params": {
            "model": "hosted_vllm/sim-r1",
            "api_base": f"os.environ/RSIM_{name.upper()}_URL",
            "api_key": "sim",
        },
        "model_info": {
            "input_cost_per_token": per_token / 10,
            "output_cost_per_token": per_token,
            "thinkbudget": {
                "enforcement": "native",
                "engine": "vllm",
                "gpu": {"name": f"sim-{name}", "count": 1, "cost_per_hour": per_hour},
                "energy": {
                    "source": "dcgm",
                    "url": f"os.environ/RSIM_{name.upper()}_METRICS",
                    "simulated": True,
                    "tick_s": 0.1,
                    "timeout_s": 2.0,
                },
                "routing": {"quality": quality, "strengths": strengths},
            },
        },
    }


ALL = ["qwen-small", "qwen-medium", "qwen-large"]
AUTO = {
    "model_name": "auto",
    "litellm_params": {
        "model": "auto_router/complexity_router",
        "complexity_router_config": {
            "classifier_type": "custom",
            "classifier_plugin": "thinkbudget_litellm.tier_classifier",
            "enable_non_reasoning_tier": True,
            # our policy sets max_tokens per deployment (budget + answer room); the router's own
            # ceiling would read as the client's answer room
            "max_tokens_from_tier_model": False,
            "plugins": ["thinkbudget_litellm.routing_plugin"],
            # every pool holds every model; its first is the tier map's (balanced) model
            "tiers": {
                "NON_REASONING": ALL,
                "SIMPLE": ALL,
                "MEDIUM": ["qwen-medium", "qwen-small", "qwen-large"],
                "COMPLEX": ["qwen-large", "qwen-medium", "qwen-small"],
                "REASONING": ["qwen-large", "qwen-medium", "qwen-small"],
            },
        },
    },
}


def proxy_config() -> dict[str, Any]:
    return {
        "model_list": [*(_deployment(n) for n in SIZES), AUTO],
        "litellm_settings": {"callbacks": list(TEST_CALLBACKS)},
        "router_settings": {"num_retries": 0},
        "thinkbudget": {
            "budgets": {"trivial": 32, "simple": 128, "moderate": 512, "complex": 2048, "deep": 8192},
            "routing": {
                "strategy": "balanced",
                "baseline_model": "qwen-large",
                "guard": {"enabled": True, "min_thinking_tokens": 32, "answer_tokens": 256},
                "escalate": True,  # only an empty or length-cut answer escalates; the other tests answer
            },
        },
        "general_settings": dict(EMULATED_AUTH),
    }


def _strategy(name: str) -> dict[str, Any]:
    return {"thinkbudget": {"routing": {"strategy": name}}}


# spend of 1.0 max_budget: what is left is 1 - spend
KEYS: dict[str, dict[str, Any]] = {
    "sk-balanced": {"key_alias": "balanced", "team_id": "team-r"},
    "sk-cheapest": {"key_alias": "cheapest", "team_id": "team-r", "metadata": _strategy("cheapest")},
    "sk-best": {"key_alias": "best", "team_id": "team-r", "metadata": _strategy("best_quality")},
    "sk-budget": {
        "key_alias": "budget",
        "team_id": "team-r",
        "metadata": _strategy("budget_constrained"),
        "max_budget": 1.0,
        "spend": 0.997,
    },
    "sk-lower": {"key_alias": "lower", "team_id": "team-r", "max_budget": 1.0, "spend": 0.97},
    "sk-cheaper": {"key_alias": "cheaper", "team_id": "team-r", "max_budget": 1.0, "spend": 0.999},
    "sk-broke": {"key_alias": "broke", "team_id": "team-r", "max_budget": 1.0, "spend": 0.99999},
    # $1e-4 left: the small model's estimate fits, the medium one's (an escalation) does not
    "sk-tight": {"key_alias": "tight", "team_id": "team-r", "max_budget": 1.0, "spend": 0.9999},
    "sk-narrowed": {
        "key_alias": "narrowed",
        "team_id": "team-n",
        "team_metadata": {"thinkbudget": {"routing": {"allowed_strategies": ["balanced", "cheapest"]}}},
        "metadata": _strategy("best_quality"),
    },
}


def write(dir_: Path) -> tuple[Path, Path]:
    cfg = dir_ / "routing_proxy.yaml"
    cfg.write_text(yaml.safe_dump(proxy_config(), sort_keys=False))
    keys = dir_ / "routing_keys.yaml"
    keys.write_text(yaml.safe_dump(KEYS, sort_keys=False))
    return cfg, keys

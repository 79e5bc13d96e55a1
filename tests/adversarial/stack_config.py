"""The proxy configuration, simulated backends and emulated keys the adversarial suite attacks.

Own names throughout (``sk-adv-*``, ``adv-*`` teams and models), so nothing here depends on the
end-to-end suite's configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.proxy_stack import EMULATED_AUTH, TEST_CALLBACKS

MODEL_NAME = "deepseek-r1-distill-qwen-7b"

# sim name -> sim-backend flags
SIMS: dict[str, list[str]] = {
    # vLLM with --reasoning-parser and thinking_token_budget: what the engine was told is in /sim/stats
    "native": ["--style", "parser", "--native-budget", "--tokens-per-second", "3000"],
    # inline <think> at one GPU stream's pace, so that cuts and clients leaving land mid-stream
    "stream": ["--style", "inline", "--tokens-per-second", "150"],
    # the deployment whose energy comes from the hostile DCGM exporter
    "hostile": ["--style", "parser", "--native-budget", "--tokens-per-second", "1000"],
}
COMMON_SIM_FLAGS = ["--model-name", MODEL_NAME, "--joules-per-token", "0.5", "--idle-watts", "60"]

PRICES = {"input_cost_per_token": 2.0e-7, "output_cost_per_token": 8.0e-7}
GPU_COST_PER_HOUR = 3.6
GPU = {"name": "sim", "count": 1, "cost_per_hour": GPU_COST_PER_HOUR}
HOSTILE_DCGM_ENV = "ADV_HOSTILE_DCGM_URL"
ENGINE_DOUBLE_ENV = "ADV_ENGINE_DOUBLE_URL"  # vLLM's /v1/completions and /v1/responses (doubles.EngineDouble)
ENGINE_DOUBLE_METRICS_ENV = "ADV_ENGINE_DOUBLE_METRICS"

# keys
CAPPED = "sk-adv-capped"  # key metadata: max_thinking_tokens 64
TEAM_BUDGETS = "sk-adv-team-budgets"  # team metadata: budgets per tier
SESSION_A = "sk-adv-session-a"  # team adv-sess-a: session cap
SESSION_B = "sk-adv-session-b"  # team adv-sess-b: the same session cap, another team
PLAIN = "sk-adv-plain"  # no thinkbudget metadata
ODD_NAMES = "sk-adv-odd-names"  # alias and team id an admin (or a user creating own keys) typed badly
ODD_KEY_ALIAS = "[/bold]adv-odd-key\x1b[31m\x07"
ODD_TEAM_ID = "[link=http://x]adv-odd-team\x1b]8;;http://x\x1b\\"

KEY_CAP = 64
TEAM_TIER_BUDGETS = {"trivial": 8, "simple": 24, "moderate": 40, "complex": 48, "deep": 56}
SESSION_CAP = 400
TIER_BUDGETS = {"trivial": 32, "simple": 128, "moderate": 512, "complex": 2048, "deep": 8192}
WIDE_END_USER = "adv-wide-customer"  # an end user configured wider than the capped key
WIDE_END_USER_CAP = 20000


def _dep(name: str, api_base_env: str, tb: dict[str, Any]) -> dict[str, Any]:
    return {
        "model_name": name,
        "litellm_params": {
            "model": f"hosted_vllm/{MODEL_NAME}",
            "api_base": f"os.environ/{api_base_env}",
            "api_key": "sim",
        },
        "model_info": {**PRICES, "thinkbudget": tb},
    }


def _energy(url_env: str, simulated: bool = True) -> dict[str, Any]:
    return {"source": "dcgm", "url": f"os.environ/{url_env}", "simulated": simulated, "tick_s": 0.1}


def proxy_config() -> dict[str, Any]:
    deployments = [
        _dep(
            "adv-native",
            "ADV_SIM_NATIVE_URL",
            {"enforcement": "native", "engine": "vllm", "gpu": GPU, "energy": _energy("ADV_SIM_NATIVE_METRICS")},
        ),
        _dep(
            "adv-stream",
            "ADV_SIM_STREAM_URL",
            {"enforcement": "stream", "gpu": GPU, "energy": _energy("ADV_SIM_STREAM_METRICS")},
        ),
        _dep(
            "adv-hostile-energy",
            "ADV_SIM_HOSTILE_URL",
            {"enforcement": "native", "engine": "vllm", "gpu": GPU, "energy": _energy(HOSTILE_DCGM_ENV, False)},
        ),
        _dep(
            "adv-text",
            ENGINE_DOUBLE_ENV,
            {"enforcement": "native", "engine": "vllm", "gpu": GPU, "energy": _energy(ENGINE_DOUBLE_METRICS_ENV)},
        ),
    ]
    return {
        "model_list": deployments,
        "litellm_settings": {
            "callbacks": list(TEST_CALLBACKS),
        },
        # no retries, and no cooldown: a deployment an attack made fail must stay usable for the next test
        "router_settings": {"num_retries": 0, "disable_cooldowns": True},
        "thinkbudget": {
            "budgets": dict(TIER_BUDGETS),
            "end_users": {WIDE_END_USER: {"max_thinking_tokens": WIDE_END_USER_CAP}},
        },
        "general_settings": dict(EMULATED_AUTH),
    }


KEYS: dict[str, dict[str, Any]] = {
    CAPPED: {
        "key_alias": "adv-capped",
        "team_id": "adv-team-capped",
        "metadata": {"thinkbudget": {"max_thinking_tokens": KEY_CAP}},
    },
    TEAM_BUDGETS: {
        "key_alias": "adv-team-budgets",
        "team_id": "adv-team-budgets",
        "team_metadata": {"thinkbudget": {"budgets": dict(TEAM_TIER_BUDGETS)}},
    },
    SESSION_A: {
        "key_alias": "adv-session-a",
        "team_id": "adv-sess-a",
        "team_metadata": {"thinkbudget": {"session_max_thinking_tokens": SESSION_CAP}},
    },
    SESSION_B: {
        "key_alias": "adv-session-b",
        "team_id": "adv-sess-b",
        "team_metadata": {"thinkbudget": {"session_max_thinking_tokens": SESSION_CAP}},
    },
    PLAIN: {"key_alias": "adv-plain", "team_id": "adv-plain"},
    ODD_NAMES: {"key_alias": ODD_KEY_ALIAS, "team_id": ODD_TEAM_ID},
}


def write(dir_: Path) -> tuple[Path, Path]:
    """The proxy's config.yaml and the emulated keys file, written into ``dir_``."""
    cfg = dir_ / "proxy_config.yaml"
    cfg.write_text(yaml.safe_dump(proxy_config(), sort_keys=False))
    keys = dir_ / "keys.yaml"
    keys.write_text(yaml.safe_dump(KEYS, sort_keys=False))
    return cfg, keys

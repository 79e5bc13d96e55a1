"""The proxy configuration and emulated keys the end-to-end tests run against."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from tests.proxy_stack import EMULATED_AUTH, TEST_CALLBACKS

# sim name -> sim-backend flags
SIMS: dict[str, list[str]] = {
    "native": ["--style", "parser", "--native-budget", "--tokens-per-second", "2000"],
    # slower, like one GPU stream, so that a cut lands while the engine is still generating
    "parser": ["--style", "parser", "--tokens-per-second", "100"],
    "inline": ["--style", "inline", "--tokens-per-second", "100"],
    "preopened": ["--style", "preopened", "--tokens-per-second", "100"],
    # DeepSeek-R1's template: it strips the thinking from assistant messages, so vLLM refuses the chat
    # continuation and stream enforcement continues from token ids (/tokenize + /v1/completions)
    "strips": ["--style", "parser", "--template", "strips", "--tokens-per-second", "100"],
}
COMMON_SIM_FLAGS = [
    "--model-name",
    "deepseek-r1-distill-qwen-7b",
    "--joules-per-token",
    "0.5",
    "--idle-watts",
    "60",
]

DEAD = {"model": "hosted_vllm/deepseek-r1-distill-qwen-7b", "api_base": "http://127.0.0.1:9/v1", "api_key": "sim"}
PRICES = {"input_cost_per_token": 2.0e-7, "output_cost_per_token": 8.0e-7}


def _dep(name: str, sim: str, tb: dict[str, Any], model: str = "hosted_vllm/deepseek-r1-distill-qwen-7b") -> dict:
    return {
        "model_name": name,
        "litellm_params": {"model": model, "api_base": f"os.environ/SIM_{sim.upper()}_URL", "api_key": "sim"},
        "model_info": {**PRICES, "thinkbudget": tb},
    }


def _energy(sim: str) -> dict[str, Any]:
    return {
        "source": "dcgm",
        "url": f"os.environ/SIM_{sim.upper()}_METRICS",
        "simulated": True,
        "tick_s": 0.1,
        "timeout_s": 2.0,  # the simulators answer slowly when the suite loads both cores
    }


GPU = {"name": "sim", "count": 1, "cost_per_hour": 3.6}


def proxy_config() -> dict[str, Any]:
    deployments = [
        _dep(
            "r1-native",
            "native",
            {"enforcement": "native", "engine": "vllm", "gpu": GPU, "energy": _energy("native")},
        ),
        _dep("r1-off", "native", {"enforcement": "off"}),
        _dep(
            "r1-pricey",
            "native",
            {
                "enforcement": "native",
                "engine": "vllm",
                "gpu": {"name": "sim", "count": 1, "cost_per_hour": 360.0},
                "energy": _energy("native"),
            },
        ),
        _dep("r1-parser-stream", "parser", {"enforcement": "stream", "gpu": GPU, "energy": _energy("parser")}),
        _dep("r1-inline-stream", "inline", {"enforcement": "stream", "gpu": GPU, "energy": _energy("inline")}),
        _dep(
            "r1-preopened-stream",
            "preopened",
            {"enforcement": "stream", "gpu": GPU, "energy": _energy("preopened")},
        ),
        _dep(
            "r1-strips-stream",
            "strips",
            {
                "enforcement": "stream",
                "engine": "vllm",
                "template_preopens_think": True,
                "gpu": GPU,
                "energy": _energy("strips"),
            },
        ),
        _dep("eng-sglang", "native", {"enforcement": "native", "engine": "sglang"}),
        _dep("eng-llamacpp", "native", {"enforcement": "native", "engine": "llamacpp"}),
        _dep("eng-ollama", "native", {"enforcement": "native", "engine": "ollama"}),
        _dep(
            "eng-qwen3",
            "native",
            {"enforcement": "native", "engine": "vllm", "no_thinking_tiers": ["trivial"]},
        ),
        _dep("bad-deployment", "native", {"enforcement": "sideways"}),
        # nothing listens on the discard port: every attempt fails to connect
        {**_dep("r1-dead", "native", {"enforcement": "native", "engine": "vllm", "gpu": GPU}), "litellm_params": DEAD},
        {**_dep("r1-dead-only", "native", {"enforcement": "native", "engine": "vllm"}), "litellm_params": DEAD},
    ]
    return {
        "model_list": deployments,
        "litellm_settings": {
            "callbacks": list(TEST_CALLBACKS),
        },
        "router_settings": {"fallbacks": [{"r1-dead": ["r1-native"]}], "num_retries": 1, "retry_after": 0},
        "thinkbudget": {
            "budgets": {"trivial": 32, "simple": 128, "moderate": 512, "complex": 2048, "deep": 8192},
            "users": {"carol": {"budgets": {"deep": 3000}}},
            "end_users": {"customer-7": {"budgets": {"deep": 2500}}},
        },
        "general_settings": dict(EMULATED_AUTH),
    }


KEYS: dict[str, dict[str, Any]] = {
    "sk-plain": {"key_alias": "plain", "team_id": "team-plain", "user_id": "dave"},
    "sk-team-a": {
        "key_alias": "team-a-key",
        "team_id": "team-a",
        "team_alias": "Team A",
        "team_metadata": {"thinkbudget": {"budgets": {"deep": 4096}}},
        "user_id": "alice",
    },
    "sk-team-a-strict": {
        "key_alias": "team-a-strict",
        "team_id": "team-a",
        "team_metadata": {"thinkbudget": {"budgets": {"deep": 4096}}},
        "metadata": {"thinkbudget": {"budgets": {"deep": 1000}}},
        "user_id": "bob",
    },
    "sk-carol": {
        "key_alias": "carol-key",
        "team_id": "team-a",
        "team_metadata": {"thinkbudget": {"budgets": {"deep": 4096}}},
        "metadata": {"thinkbudget": {"budgets": {"deep": 1000}}},
        "user_id": "carol",
    },
    "sk-session": {
        "key_alias": "session-key",
        "team_id": "team-s",
        "team_metadata": {"thinkbudget": {"session_max_thinking_tokens": 300}},
    },
    "sk-bad-meta": {
        "key_alias": "bad",
        "team_id": "team-bad",
        "metadata": {"thinkbudget": {"budgets": {"deep": "lots"}}},
    },
    "sk-tiny-budget": {"key_alias": "tiny", "team_id": "team-tiny", "max_budget": 0.02},
}


def write(dir_: Path) -> tuple[Path, Path]:
    cfg = dir_ / "proxy_config.yaml"
    cfg.write_text(yaml.safe_dump(proxy_config(), sort_keys=False))
    keys = dir_ / "keys.yaml"
    keys.write_text(yaml.safe_dump(KEYS, sort_keys=False))
    return cfg, keys


def _sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)):
        return repr(value)
    text = value if isinstance(value, str) else json.dumps(value)
    return "'" + text.replace("'", "''") + "'"


def litellm_rows_sql() -> str:
    """INSERTs of the emulated keys and teams into LiteLLM's own tables (same data as KEYS)."""
    teams: dict[str, dict[str, Any]] = {}
    rows = []
    for raw, entry in KEYS.items():
        token = hashlib.sha256(raw.encode()).hexdigest()
        cols = {
            "token": token,
            "key_alias": entry.get("key_alias"),
            "team_id": entry.get("team_id"),
            "user_id": entry.get("user_id"),
            "metadata": entry.get("metadata", {}),
            "max_budget": entry.get("max_budget"),
        }
        rows.append(
            f'INSERT INTO "LiteLLM_VerificationToken" ({", ".join(cols)}) '
            f"VALUES ({', '.join(_sql_literal(v) for v in cols.values())});"
        )
        if entry.get("team_id"):
            teams.setdefault(
                entry["team_id"],
                {"team_alias": entry.get("team_alias"), "metadata": entry.get("team_metadata", {})},
            )
    for team_id, t in teams.items():
        rows.append(
            'INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, metadata) '
            f"VALUES ({_sql_literal(team_id)}, {_sql_literal(t['team_alias'])}, {_sql_literal(t['metadata'])});"
        )
    return "\n".join(rows)

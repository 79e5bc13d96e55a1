"""Translate a thinking budget into the request fields each engine understands (pure).

| engine    | field                                                                 |
|-----------|-----------------------------------------------------------------------|
| vllm      | top-level ``thinking_token_budget`` (needs ``--reasoning-parser``)   |
| sglang    | ``custom_params.thinking_budget`` (``--enable-strict-thinking``)      |
| llamacpp  | ``thinking_budget_tokens`` (server ``--reasoning-budget`` is a ceiling)|
| anthropic | ``thinking: {type: enabled, budget_tokens}`` (minimum 1024)           |
| gemini    | ``thinking: {type: enabled, budget_tokens}`` (LiteLLM -> thinkingBudget)|
| openai    | ``reasoning_effort`` bucket                                           |
| ollama    | ``think: bool`` (Ollama has no numeric budget: use stream enforcement)|

Qwen3-style templates also get ``chat_template_kwargs.enable_thinking = false`` for the tiers a
deployment lists in ``no_thinking_tiers`` (vllm, sglang, llamacpp).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from thinkbudget_litellm.settings import Engine
from thinkbudget_litellm.tiers import Tier

ANTHROPIC_MIN_BUDGET = 1024
# Below this, Anthropic's 1024-token minimum would multiply the budget; thinking is disabled instead.
ANTHROPIC_DISABLE_BELOW = 512

_PREFIX_ENGINES: tuple[tuple[str, Engine], ...] = (
    ("hosted_vllm/", Engine.VLLM),
    ("vllm/", Engine.VLLM),
    ("anthropic/", Engine.ANTHROPIC),
    ("bedrock/", Engine.ANTHROPIC),
    ("gemini/", Engine.GEMINI),
    ("vertex_ai/", Engine.GEMINI),
    ("ollama/", Engine.OLLAMA),
    ("ollama_chat/", Engine.OLLAMA),
    ("openai/", Engine.OPENAI),
    ("azure/", Engine.OPENAI),
)


def infer_engine(litellm_model: str | None) -> Engine:
    """Guess the engine from a LiteLLM model string such as ``hosted_vllm/qwq-32b``."""
    m = (litellm_model or "").lower()
    for prefix, engine in _PREFIX_ENGINES:
        if m.startswith(prefix):
            if engine is Engine.ANTHROPIC and prefix == "bedrock/" and "claude" not in m:
                return Engine.OTHER
            return engine
    if m.startswith("claude"):
        return Engine.ANTHROPIC
    if m.startswith("gemini"):
        return Engine.GEMINI
    return Engine.OTHER


def openai_effort(budget: int) -> str:
    if budget <= 128:
        return "minimal"
    if budget <= 1024:
        return "low"
    if budget <= 4096:
        return "medium"
    return "high"


def native_params(
    engine: Engine,
    budget: int,
    tier: Tier,
    request: Mapping[str, Any],
    no_thinking_tiers: frozenset[Tier] = frozenset(),
) -> dict[str, Any]:
    """Fields to set on the request so that ``engine`` caps thinking at ``budget`` tokens.

    ``request`` is read (never mutated) so that nested objects the client sent are merged, not lost.
    """
    out: dict[str, Any] = {}
    no_thinking = tier in no_thinking_tiers or budget == 0
    if engine is Engine.VLLM:
        out["thinking_token_budget"] = budget
    elif engine is Engine.SGLANG:
        out["custom_params"] = {**_mapping(request.get("custom_params")), "thinking_budget": budget}
    elif engine is Engine.LLAMACPP:
        out["thinking_budget_tokens"] = budget
    elif engine is Engine.ANTHROPIC:
        if budget < ANTHROPIC_DISABLE_BELOW:
            out["thinking"] = {"type": "disabled"}
        else:
            out["thinking"] = {"type": "enabled", "budget_tokens": max(budget, ANTHROPIC_MIN_BUDGET)}
    elif engine is Engine.GEMINI:
        out["thinking"] = {"type": "enabled", "budget_tokens": budget}
    elif engine is Engine.OPENAI:
        out["reasoning_effort"] = openai_effort(budget)
    elif engine is Engine.OLLAMA:
        out["think"] = not no_thinking
    if no_thinking and engine in (Engine.VLLM, Engine.SGLANG, Engine.LLAMACPP):
        out["chat_template_kwargs"] = {
            **_mapping(request.get("chat_template_kwargs")),
            "enable_thinking": False,
        }
    return out


def effective_thinking_budget(engine: Engine, budget: int) -> int:
    """Thinking the engine may actually spend once ``native_params`` is applied (Anthropic's minimum)."""
    if engine is Engine.ANTHROPIC:
        return 0 if budget < ANTHROPIC_DISABLE_BELOW else max(budget, ANTHROPIC_MIN_BUDGET)
    return budget


def sane_max_tokens(request: Mapping[str, Any], thinking_budget: int, answer_reserve: int) -> dict[str, int]:
    """``max_tokens`` covering the thinking budget plus room for the answer.

    Never below what the client asked for the answer: a client ``max_tokens`` (or
    ``max_completion_tokens``) is read as the answer room and the budget is added on top.
    """
    out: dict[str, int] = {}
    for field in ("max_completion_tokens", "max_tokens"):
        asked = request.get(field)
        if isinstance(asked, int) and not isinstance(asked, bool) and asked > 0:
            out[field] = thinking_budget + asked
    if not out:
        out["max_tokens"] = thinking_budget + answer_reserve
    return out


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}

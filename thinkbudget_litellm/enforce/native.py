"""Translate a thinking budget into the request fields each engine understands (pure).

The knowledge lives in the engine adapters (``enforce/engines/<family>.py``, looked up with
``engine_registry.adapter_for``); these functions are the stable entry points over them.

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

from thinkbudget_litellm.enforce import engine_registry
from thinkbudget_litellm.enforce.engine_adapter import effort_for_budget
from thinkbudget_litellm.enforce.engines.anthropic import DISABLE_BELOW as ANTHROPIC_DISABLE_BELOW
from thinkbudget_litellm.enforce.engines.anthropic import MIN_BUDGET as ANTHROPIC_MIN_BUDGET
from thinkbudget_litellm.settings import Engine
from thinkbudget_litellm.tiers import Tier

__all__ = [
    "ANTHROPIC_DISABLE_BELOW",
    "ANTHROPIC_MIN_BUDGET",
    "effective_thinking_budget",
    "infer_engine",
    "native_params",
    "openai_effort",
    "sane_max_tokens",
]


def infer_engine(litellm_model: str | None) -> Engine:
    """Guess the engine from a LiteLLM model string such as ``hosted_vllm/qwq-32b``."""
    return engine_registry.infer_engine(litellm_model)


def openai_effort(budget: int) -> str:
    return effort_for_budget(budget).value


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
    return engine_registry.adapter_for(engine).native_params(budget, tier, request, no_thinking_tiers)


def effective_thinking_budget(engine: Engine, budget: int) -> int:
    """Thinking the engine may actually spend once ``native_params`` is applied (Anthropic's minimum)."""
    return engine_registry.adapter_for(engine).effective_budget(budget)


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

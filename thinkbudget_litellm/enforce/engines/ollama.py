"""Ollama (``ollama/``, ``ollama_chat/``).

* Budget: Ollama has no numeric thinking budget, only ``think`` (a bool; gpt-oss takes a level),
  so native enforcement can only turn thinking off; use stream enforcement to cap it.
* Continuation: no flag exists (its templates usually leave a final assistant turn open, which
  continues it; not verified here).
* Client budget fields: ``think`` and ``reasoning_effort`` (LiteLLM turns it into ``think``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from thinkbudget_litellm.enforce.engine_adapter import (
    REASONING_EFFORT,
    Effort,
    EngineAdapter,
    FieldKind,
    budget_field,
)
from thinkbudget_litellm.enforce.engine_registry import register
from thinkbudget_litellm.settings import Engine

# Ollama's own field: a bool, a level (gpt-oss) or (proposed upstream) a token count.
THINK = budget_field(FieldKind.OLLAMA_THINK, "think")


@register
class OllamaAdapter(EngineAdapter):
    engine = Engine.OLLAMA
    prefixes = ("ollama/", "ollama_chat/")
    budget_fields = (THINK, REASONING_EFFORT)

    def cap_params(self, budget: int, request: Mapping[str, Any], off: bool) -> dict[str, Any]:
        return {"think": not off}

    def effort_cap(self, limit: int) -> Effort | None:
        # A level does not bound Ollama's thinking; only "off" is a budget it honours.
        return Effort.NONE if limit <= 0 else Effort.HIGH

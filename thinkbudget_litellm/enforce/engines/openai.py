"""OpenAI and Azure OpenAI (``openai/``, ``azure/``).

* Budget: no token budget exists; ``reasoning_effort`` is the budget's bucket
  (``effort_for_budget``).
* Continuation: no flag.
* Client budget fields: ``reasoning_effort`` (a level, or ``{"effort": level, ...}``) and the
  Responses API's ``reasoning.effort``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from thinkbudget_litellm.enforce.engine_adapter import (
    REASONING_EFFORT,
    REASONING_OBJECT_EFFORT,
    Effort,
    EngineAdapter,
    effort_for_budget,
)
from thinkbudget_litellm.enforce.engine_registry import register
from thinkbudget_litellm.settings import Engine


@register
class OpenaiAdapter(EngineAdapter):
    engine = Engine.OPENAI
    prefixes = ("openai/", "azure/")
    budget_fields = (REASONING_EFFORT, REASONING_OBJECT_EFFORT)

    def cap_params(self, budget: int, request: Mapping[str, Any], off: bool) -> dict[str, Any]:
        return {"reasoning_effort": effort_for_budget(budget).value}

    def effort_cap(self, limit: int) -> Effort | None:
        # the level native enforcement sends for this budget ("minimal" at 0, as native does)
        return effort_for_budget(limit)

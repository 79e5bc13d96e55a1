"""What an engine adapter is: the interface every engine family implements (pure).

One adapter class per engine family lives in ``enforce/engines/<family>.py`` and registers itself
with ``engine_registry.register``; everything the proxy must know about an engine (which LiteLLM
model prefixes it serves, how a thinking budget is written into its request, what budget it will
really give, how a cut answer is continued, which client fields can tell it a budget) is answered
by its adapter. The vocabulary shared by the adapters (effort levels, budget fields) is here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from thinkbudget_litellm.settings import Engine
from thinkbudget_litellm.tiers import Tier


class Effort(StrEnum):
    """Reasoning-effort levels, in increasing order (the union of OpenAI's, LiteLLM's and Gemini's)."""

    NONE = "none"
    MINIMAL = "minimal"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    XHIGH = "xhigh"
    MAX = "max"

    @property
    def rank(self) -> int:
        return _EFFORT_ORDER.index(self)

    @classmethod
    def parse(cls, value: object) -> Effort | None:
        """The level a client value names (``"disable"`` is Gemini's ``"none"``); None if it names none."""
        if not isinstance(value, str):
            return None
        text = value.strip().lower()
        if text == "disable":
            return cls.NONE
        try:
            return cls(text)
        except ValueError:
            return None


_EFFORT_ORDER: tuple[Effort, ...] = tuple(Effort)


def effort_for_budget(budget: int) -> Effort:
    """The project's bucketing of a token budget into an effort level (what ``native`` sends OpenAI)."""
    if budget <= 128:
        return Effort.MINIMAL
    if budget <= 1024:
        return Effort.LOW
    if budget <= 4096:
        return Effort.MEDIUM
    return Effort.HIGH


def effort_within(levels: Iterable[tuple[Effort, int]], limit: int) -> Effort:
    """The highest level whose token meaning is within ``limit``; ``NONE`` when none is.

    ``levels`` pairs each level with the thinking budget the engine (or LiteLLM's translation for
    it) gives that level.
    """
    best = Effort.NONE
    for level, tokens in levels:
        if tokens <= limit and level.rank > best.rank:
            best = level
    return best


class FieldKind(StrEnum):
    """How a client-sent budget field is read, and so how it is clamped."""

    TOKENS = "tokens"  # an int budget; negative means unlimited (llama.cpp, Gemini, Seed-OSS: -1)
    EFFORT = "effort"  # an effort level, as a string or as ``{"effort": level, ...}``
    SWITCH = "switch"  # a bool that turns thinking on
    THINKING = "thinking"  # ``{"type": "enabled"|"adaptive"|"disabled", "budget_tokens": n}``
    OLLAMA_THINK = "ollama_think"  # Ollama's ``think``: a bool, an effort level or (proposed) a count


@dataclass(frozen=True)
class BudgetField:
    """A request field by which a client can tell an engine how much to think.

    ``path`` is the key path from the request's top level (or from ``extra_body``, which LiteLLM
    merges into the upstream body); each step lists the spellings accepted there (Gemini accepts
    camelCase and snake_case). ``floor`` is the lowest effort level the field accepts (``None``: the
    field may be removed when no level is within the policy).
    """

    path: tuple[tuple[str, ...], ...]
    kind: FieldKind
    floor: Effort | None = None

    @property
    def name(self) -> str:
        return ".".join(step[0] for step in self.path)


def budget_field(kind: FieldKind, *steps: str | tuple[str, ...], floor: Effort | None = None) -> BudgetField:
    """``budget_field(FieldKind.TOKENS, "custom_params", "thinking_budget")``."""
    path = tuple((step,) if isinstance(step, str) else tuple(step) for step in steps)
    if not path or any(not step for step in path):
        raise ValueError("a budget field needs a non-empty path")
    return BudgetField(path=path, kind=kind, floor=floor)


# Qwen3-style chat templates (vLLM, SGLang and llama.cpp render them): ``enable_thinking``;
# DeepSeek-V3.1's template: ``thinking``; Seed-OSS's template: ``thinking_budget`` (-1 = unlimited).
TEMPLATE_FIELDS: tuple[BudgetField, ...] = (
    budget_field(FieldKind.SWITCH, "chat_template_kwargs", "enable_thinking"),
    budget_field(FieldKind.SWITCH, "chat_template_kwargs", "thinking"),
    budget_field(FieldKind.TOKENS, "chat_template_kwargs", "thinking_budget"),
)
# OpenAI's chat field, which LiteLLM also translates for Anthropic, Gemini, Ollama and vLLM.
REASONING_EFFORT = budget_field(FieldKind.EFFORT, "reasoning_effort")
# Anthropic's object, which LiteLLM also translates for Gemini (thinkingConfig) and vLLM (an effort).
THINKING = budget_field(FieldKind.THINKING, "thinking")
# The ``reasoning`` object's level (OpenAI's Responses API; OpenRouter reads the same object).
REASONING_OBJECT_EFFORT = budget_field(FieldKind.EFFORT, "reasoning", "effort")


def thinking_off(budget: int, tier: Tier, no_thinking_tiers: Iterable[Tier]) -> bool:
    """Whether the policy gives this request no thinking at all."""
    return budget == 0 or tier in frozenset(no_thinking_tiers)


def template_kwargs_off(request: Mapping[str, Any]) -> dict[str, Any]:
    """The client's ``chat_template_kwargs`` with Qwen3's ``enable_thinking`` turned off."""
    return {**mapping(request.get("chat_template_kwargs")), "enable_thinking": False}


def mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


class EngineAdapter:
    """One engine family. Subclasses set the class variables and override what differs.

    Adapters are stateless; every method is pure.
    """

    engine: ClassVar[Engine]
    # LiteLLM model prefixes this family serves (lower case); the longest match wins across adapters.
    prefixes: ClassVar[tuple[str, ...]] = ()
    # Client fields by which this engine, or LiteLLM's translation for it, can be told a budget.
    budget_fields: ClassVar[tuple[BudgetField, ...]] = ()

    def claim(self, model: str) -> int:
        """How specifically this family claims the (lower-case) LiteLLM model string: the length of
        the longest prefix that matches, 0 when it does not claim it."""
        return max((len(p) for p in self.prefixes if model.startswith(p)), default=0)

    def native_params(
        self,
        budget: int,
        tier: Tier,
        request: Mapping[str, Any],
        no_thinking_tiers: frozenset[Tier] = frozenset(),
    ) -> dict[str, Any]:
        """Fields to set on the request so the engine caps thinking at ``budget`` tokens.

        ``request`` is read (never mutated) so nested objects the client sent are merged, not lost.
        """
        return {}

    def effective_budget(self, budget: int) -> int:
        """Thinking the engine may actually spend once ``native_params`` is applied."""
        return budget

    def budget_within(self, limit: int) -> int:
        """A policy budget whose effective budget is at most ``limit`` (the largest such)."""
        return max(limit, 0)

    def effort_cap(self, limit: int) -> Effort | None:
        """The highest effort level a client may ask for when the policy allows ``limit`` thinking
        tokens; ``None`` when no level is within it (the field is then removed)."""
        return None if limit <= 0 else effort_for_budget(limit)

    def continuation_params(self) -> dict[str, Any]:
        """Extra top-level request fields that make the engine continue the final assistant message."""
        return {}

    def prefill_open_tag(self, template_preopens: bool) -> bool:
        """Whether a continuation's prefill must carry ``<think>`` itself (see ``enforce.continuation``)."""
        return True

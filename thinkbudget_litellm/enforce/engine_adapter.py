"""What an engine adapter is: the interface every engine family implements (pure).

One adapter class per engine family lives in ``enforce/engines/<family>.py`` and registers itself
with ``engine_registry.register``; everything the proxy must know about an engine (which LiteLLM
model prefixes it serves, how a thinking budget is written into its request, what budget it will
really give, how a cut answer is continued, which client fields can tell it a budget) is answered
by its adapter. The vocabulary shared by the adapters (effort levels, budget fields) is here, and
so are the bases of the families that handle a budget alike (``ChatTemplateAdapter``: vLLM, SGLang,
llama.cpp; ``LitellmThinkingAdapter``: Anthropic, Gemini), so an adapter states only what differs.
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


# The thinking budget LiteLLM 1.106.2 gives the "low", "medium" and "high" reasoning_effort levels
# wherever it turns a level into a budget (litellm.constants DEFAULT_REASONING_EFFORT_*_THINKING_BUDGET);
# each engine that LiteLLM translates so adds its own "minimal" (and any higher levels).
LITELLM_DEFAULT_EFFORT_BUDGETS: tuple[tuple[Effort, int], ...] = (
    (Effort.LOW, 1024),
    (Effort.MEDIUM, 2048),
    (Effort.HIGH, 4096),
)


def thinking_off(budget: int, tier: Tier, no_thinking_tiers: Iterable[Tier]) -> bool:
    """Whether the policy gives this request no thinking at all."""
    return budget == 0 or tier in frozenset(no_thinking_tiers)


def template_kwargs_off(request: Mapping[str, Any]) -> dict[str, Any]:
    """The client's ``chat_template_kwargs`` with Qwen3's ``enable_thinking`` turned off."""
    return {**mapping(request.get("chat_template_kwargs")), "enable_thinking": False}


def mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def merged_at(request: Mapping[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """``{path[0]: ...}`` with ``value`` at ``path``, keeping what the client's objects along the path
    hold: ``merged_at({"a": {"x": 1}}, ("a", "b"), 2) == {"a": {"x": 1, "b": 2}}``."""
    head, *rest = path
    if not rest:
        return {head: value}
    inner = mapping(request.get(head))
    return {head: {**inner, **merged_at(inner, tuple(rest), value)}}


class EngineAdapter:
    """One engine family. Subclasses set the class variables and override what differs.

    Adapters are stateless; every method is pure.
    """

    engine: ClassVar[Engine]
    # LiteLLM model prefixes this family serves (lower case); the longest match wins across adapters.
    prefixes: ClassVar[tuple[str, ...]] = ()
    # Client fields by which this engine, or LiteLLM's translation for it, can be told a budget.
    budget_fields: ClassVar[tuple[BudgetField, ...]] = ()
    # The thinking budget each effort level means for this engine, where LiteLLM translates levels
    # into budgets for it (``effort_cap`` is then the highest level within the limit); empty: the
    # project's bucketing (``effort_for_budget``).
    effort_budgets: ClassVar[tuple[tuple[Effort, int], ...]] = ()
    # Whether a continuation's prefill follows the generation prompt, so a template that pre-opens
    # ``<think>`` there has already written the tag the prefill would otherwise carry.
    prefill_follows_generation_prompt: ClassVar[bool] = False
    # The engine's tokenizer endpoint (relative to the server root, beside ``/v1``): it renders chat
    # messages with the server's own template and tokenizes raw text. ``None``: the engine has none,
    # so neither exact prompt counts nor the token-id continuation are available.
    tokenize_path: ClassVar[str | None] = None
    # The engine's ``/v1/completions`` accepts a prompt given as token ids (no second BOS): a cut
    # stream can continue from its own prompt ids when the chat template drops the prefill.
    token_id_prompts: ClassVar[bool] = False

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
        Adapters override ``cap_params``, which sees the tier only as whether thinking is off.
        """
        return self.cap_params(budget, request, thinking_off(budget, tier, no_thinking_tiers))

    def cap_params(self, budget: int, request: Mapping[str, Any], off: bool) -> dict[str, Any]:
        """``native_params`` once the tier is reduced to ``off``: whether the policy gives no thinking."""
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
        if self.effort_budgets:
            return effort_within(self.effort_budgets, limit)
        return None if limit <= 0 else effort_for_budget(limit)

    def continuation_params(self) -> dict[str, Any]:
        """Extra top-level request fields that make the engine continue the final assistant message."""
        return {}

    def refuses_prefill(self, status: int | None, message: str) -> bool:
        """Whether an engine error says the chat template drops a prefilled final assistant message
        (so ``continuation_params`` cannot continue it on this deployment)."""
        return False

    def prefill_open_tag(self, template_preopens: bool) -> bool:
        """Whether a continuation's prefill must carry ``<think>`` itself (see ``enforce.continuation``)."""
        return not (template_preopens and self.prefill_follows_generation_prompt)


class ChatTemplateAdapter(EngineAdapter):
    """An OpenAI-compatible server that renders Qwen3-style chat templates (vLLM, SGLang, llama.cpp).

    The budget is written at ``budget_path`` (merged into the client's objects along it), and on a
    no-thinking tier ``chat_template_kwargs.enable_thinking`` is turned off as well. A client can
    tell it a budget by that field, the chat-template ones, ``reasoning_effort`` (gpt-oss) and
    ``thinking`` (LiteLLM's OpenAI-compatible path turns it into a ``reasoning_effort``); a subclass
    gets those ``budget_fields`` from its ``budget_path``.
    """

    budget_path: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = budget_field(FieldKind.TOKENS, *cls.budget_path)
        cls.budget_fields = (own, *TEMPLATE_FIELDS, REASONING_EFFORT, THINKING)

    def cap_params(self, budget: int, request: Mapping[str, Any], off: bool) -> dict[str, Any]:
        out = merged_at(request, self.budget_path, budget)
        if off:
            out["chat_template_kwargs"] = template_kwargs_off(request)
        return out


class LitellmThinkingAdapter(EngineAdapter):
    """A provider whose thinking budget LiteLLM builds from ``thinking`` and ``reasoning_effort``
    (Anthropic, Gemini).

    A client can tell it a budget by those two fields and by the provider's ``own_fields``; a level
    means the budget LiteLLM gives it (``effort_cap`` is the highest level within the limit):
    LiteLLM's defaults for low, medium and high, the provider's ``minimal_budget`` and its
    ``higher_budgets``. A subclass gets ``budget_fields`` and ``effort_budgets`` from those.
    """

    own_fields: ClassVar[tuple[BudgetField, ...]] = ()
    minimal_budget: ClassVar[int]
    higher_budgets: ClassVar[tuple[tuple[Effort, int], ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.budget_fields = (THINKING, REASONING_EFFORT, *cls.own_fields)
        minimal = (Effort.MINIMAL, cls.minimal_budget)
        cls.effort_budgets = (minimal, *LITELLM_DEFAULT_EFFORT_BUDGETS, *cls.higher_budgets)

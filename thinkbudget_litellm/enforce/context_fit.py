"""Fit the thinking budget and ``max_tokens`` into what a deployment's context allows (pure).

An engine refuses a request whose prompt plus ``max_tokens`` exceeds its context (vLLM: HTTP 400
"max_tokens=8492 cannot be greater than max_model_len=4096"). The policy, in order:

1. the answer room is kept first;
2. then as much of the thinking budget as fits;
3. when even the answer room does not fit, the budget is 0 and ``max_tokens`` is what fits (0 when
   the prompt alone fills the context: the engine will refuse the request whatever is sent).

Nothing is ever negative, and ``clamped`` records that the budget or ``max_tokens`` was cut.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from thinkbudget_litellm.enforce.engine_registry import adapter_for
from thinkbudget_litellm.settings import Engine


@dataclass(frozen=True)
class Fit:
    budget: int  # the thinking budget to enforce
    max_tokens: int  # the completion limit to send
    clamped: bool  # the budget or max_tokens was cut to fit


@dataclass(frozen=True)
class ContextLimits:
    context_tokens: int | None  # prompt + completion
    max_output_tokens: int | None  # completion alone


# vLLM's /v1/models card and LiteLLM's discovery read the window from these (first one set wins).
_WINDOW_KEYS = ("max_model_len", "context_length", "max_input_tokens")


def _limit(value: object) -> int | None:
    """A positive token limit, as LiteLLM coerces a configured one ("4096" and 4096.0 count)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        n = value
    elif isinstance(value, (str, float)):
        try:
            n = int(value)
        except (TypeError, ValueError, OverflowError):
            return None
    else:
        return None
    return n if n > 0 else None


def context_limits(model_info: Mapping[str, Any] | None) -> ContextLimits:
    """The context a deployment allows, read from its LiteLLM ``model_info``.

    The window (prompt + completion) is ``max_model_len`` (vLLM), ``context_length`` or
    ``max_input_tokens``, the first one set. LiteLLM's cost map and its
    OpenAI-compatible discovery give ``max_input_tokens`` as the window (discovery: the smaller of
    the card's input limit and its ``max_model_len``). ``max_tokens`` is read as the window only
    when none of those is set: LiteLLM's discovery sets it to the window, but in the cost map it is
    a legacy field that often means the output limit. ``max_output_tokens`` bounds the completion.
    """
    info = model_info if isinstance(model_info, Mapping) else {}
    window = next((n for n in (_limit(info.get(k)) for k in _WINDOW_KEYS) if n is not None), None)
    if window is None:
        window = _limit(info.get("max_tokens"))
    return ContextLimits(context_tokens=window, max_output_tokens=_limit(info.get("max_output_tokens")))


def _non_negative(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an int >= 0, got {value!r}")
    return value


def fit_to_context(
    context_tokens: int | None,
    prompt_tokens: int,
    budget: int,
    answer_room: int,
    *,
    max_output_tokens: int | None = None,
) -> Fit:
    """The budget and ``max_tokens`` (budget + answer room) cut to the room left by the prompt.

    ``context_tokens`` None (and no ``max_output_tokens``): nothing is known, nothing is cut.
    """
    _non_negative("prompt_tokens", prompt_tokens)
    _non_negative("budget", budget)
    _non_negative("answer_room", answer_room)
    room: int | None = None
    if context_tokens is not None:
        room = max(_non_negative("context_tokens", context_tokens) - prompt_tokens, 0)
    if max_output_tokens is not None:
        cap = _non_negative("max_output_tokens", max_output_tokens)
        room = cap if room is None else min(room, cap)
    wanted = budget + answer_room
    if room is None or wanted <= room:
        return Fit(budget=budget, max_tokens=wanted, clamped=False)
    if room >= answer_room:
        return Fit(budget=room - answer_room, max_tokens=room, clamped=True)
    return Fit(budget=0, max_tokens=room, clamped=True)


def fit_engine_budget(
    engine: Engine,
    limits: ContextLimits,
    prompt_tokens: int,
    budget: int,
    answer_room: int,
) -> Fit:
    """``fit_to_context`` for what ``engine`` will really spend on ``budget``.

    The room is reserved for the engine's effective budget (Anthropic's 1024-token minimum), and a
    cut budget is one whose effective budget still fits (Anthropic: disabled below its minimum).
    ``Fit.budget`` is the policy budget to give ``native_params``; ``Fit.max_tokens`` covers its
    effective budget plus the answer room, within the room.
    """
    adapter = adapter_for(engine)
    effective = adapter.effective_budget(_non_negative("budget", budget))
    fit = fit_to_context(
        limits.context_tokens, prompt_tokens, effective, answer_room, max_output_tokens=limits.max_output_tokens
    )
    if not fit.clamped:
        return Fit(budget=budget, max_tokens=fit.max_tokens, clamped=False)
    cut = min(adapter.budget_within(fit.budget), budget)
    return Fit(
        budget=cut,
        max_tokens=min(fit.max_tokens, adapter.effective_budget(cut) + answer_room),
        clamped=True,
    )

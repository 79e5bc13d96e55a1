"""The clients' own reasoning controls, read as caps on the thinking budget (pure).

Callers already have ways to ask for less thinking, and expect a proxy to honour them:

| control | read as a cap of |
|---|---|
| OpenAI ``reasoning_effort`` (string, or ``{"effort": ...}``) | the effort table below |
| Anthropic-style ``thinking: {type: enabled, budget_tokens: N}`` | N (``{type: disabled}``: 0) |
| OpenRouter-style ``reasoning: {max_tokens: N}`` / ``{effort: ...}`` | N / the effort table (``{enabled: false}``: 0) |
| ``max_completion_tokens`` (thinking and answer together) | N - ``min(answer_reserve_tokens, N // 2)`` |

The effort table is LiteLLM's own mapping of ``reasoning_effort`` to a thinking budget (its
``DEFAULT_REASONING_EFFORT_*_THINKING_BUDGET`` constants), so a caller gets what it would get from
LiteLLM in front of Anthropic: none 0, minimal 128, low 1,024, medium 2,048, high 4,096, xhigh
8,192, max 16,384. An operator may replace it (``thinkbudget.client_effort_budgets``).

A cap only ever lowers the budget the policy gives (``resolve_budget`` takes the smallest cap and
applies it after every trusted scope), so a client cannot lift what its key or team sets. A value
that cannot be read is not a cap here; ``neutralise_client_budget_fields`` removes it before the
call, as it does with any unreadable budget field.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class ClientControl(StrEnum):
    """A reasoning control a client sent; the deciding one is recorded when it set the budget."""

    REASONING_EFFORT = "reasoning_effort"
    THINKING = "thinking.budget_tokens"
    REASONING = "reasoning"  # OpenRouter's object
    MAX_COMPLETION_TOKENS = "max_completion_tokens"


DEFAULT_EFFORT_BUDGETS: Mapping[str, int] = MappingProxyType(
    {
        "none": 0,
        "disable": 0,
        "minimal": 128,
        "low": 1024,
        "medium": 2048,
        "high": 4096,
        "xhigh": 8192,
        "max": 16384,
    }
)

# The request fields read here, at the top level or inside ``extra_body``.
CONTROL_FIELDS = ("reasoning_effort", "thinking", "reasoning", "max_completion_tokens")


@dataclass(frozen=True, slots=True)
class ClientCap:
    control: ClientControl
    tokens: int


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _effort(value: object, table: Mapping[str, int]) -> int | None:
    if isinstance(value, Mapping):
        value = value.get("effort")
    return table.get(value.strip().lower()) if isinstance(value, str) else None


def _thinking(value: object) -> int | None:
    if not isinstance(value, Mapping):
        return None
    kind = value.get("type")
    if kind == "disabled":
        return 0
    return _count(value.get("budget_tokens")) if kind == "enabled" else None


def _reasoning(value: object, table: Mapping[str, int]) -> int | None:
    if not isinstance(value, Mapping):
        return None
    if value.get("enabled") is False:
        return 0
    caps = [c for c in (_count(value.get("max_tokens")), _effort(value.get("effort"), table)) if c is not None]
    return min(caps) if caps else None


def _total_output(value: object, answer_reserve: int) -> int | None:
    total = _count(value)
    if total is None or total == 0:
        return None
    return total - min(answer_reserve, total // 2)


def _caps_in(fields: Mapping[str, Any], table: Mapping[str, int], answer_reserve: int) -> Iterator[ClientCap]:
    readers = (
        (ClientControl.REASONING_EFFORT, "reasoning_effort", lambda v: _effort(v, table)),
        (ClientControl.THINKING, "thinking", _thinking),
        (ClientControl.REASONING, "reasoning", lambda v: _reasoning(v, table)),
        (ClientControl.MAX_COMPLETION_TOKENS, "max_completion_tokens", lambda v: _total_output(v, answer_reserve)),
    )
    for control, name, read in readers:
        if name in fields:
            tokens = read(fields[name])
            if tokens is not None:
                yield ClientCap(control, tokens)


def client_caps(
    places: Iterable[Mapping[str, Any]],
    answer_reserve_tokens: int,
    effort_budgets: Mapping[str, int] = DEFAULT_EFFORT_BUDGETS,
) -> tuple[ClientCap, ...]:
    """Every cap the client's controls set, from each place the request carries them (the top level
    and ``extra_body``); ``tightest`` picks the one that applies."""
    return tuple(cap for fields in places for cap in _caps_in(fields, effort_budgets, answer_reserve_tokens))


def tightest(caps: Iterable[ClientCap]) -> ClientCap | None:
    """The lowest cap (the first sent wins a tie), or None."""
    best: ClientCap | None = None
    for cap in caps:
        if best is None or cap.tokens < best.tokens:
            best = cap
    return best

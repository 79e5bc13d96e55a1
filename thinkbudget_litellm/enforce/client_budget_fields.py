"""Neutralise the budget fields a client sends to an engine itself (pure).

A client could lift its thinking budget past the policy by sending an engine's own budget field
(``thinking_token_budget: 100000``, ``reasoning_effort: "high"``, ``thinking: {budget_tokens:
50000}``, ``chat_template_kwargs.enable_thinking: true`` on a no-thinking tier, ``think: true``,
...), at the top level or inside ``extra_body``, which LiteLLM merges into the upstream body.
``neutralise_client_budget_fields`` checks every known budget field of every engine (a model group
may mix engines, and a field meant for one can reach another) in both places:

* a value within the policy is kept (a client may lower its budget);
* a value above it is clamped to the policy, read as the deployment's engine reads it;
* a value that cannot be read (wrong type, unknown level) is removed, which gives the engine's
  default, as if the client had not sent it.

The policy's limit is 0 when the request gets no thinking (budget 0, a no-thinking tier, or an
engine that gives no thinking for the budget), else the budget the engine will actually give
(``effective_budget``). With native enforcement the engine's own fields are then set on top
(``native_params``), and a key native enforcement sets is first moved out of ``extra_body`` (merged
into the top-level value), so the native value is the only one the engine can see whatever
LiteLLM's precedence between the two places is (measured on 1.106.2 with ``hosted_vllm``: a
top-level ``thinking_token_budget`` or ``chat_template_kwargs`` wins over ``extra_body``'s, an
``extra_body.reasoning_effort`` wins over the top-level one; an ``extra_body`` key alone is sent
as it is). Under native enforcement a client's own lower value of the engine's native field is
replaced by the policy's (lowering goes through the request's ``thinkbudget.max_thinking_tokens``).
With ``off`` enforcement the request is returned unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

from thinkbudget_litellm.enforce.engine_adapter import (
    BudgetField,
    Effort,
    EngineAdapter,
    FieldKind,
    thinking_off,
)
from thinkbudget_litellm.enforce.engine_registry import adapter_for, all_budget_fields
from thinkbudget_litellm.settings import Enforcement, Engine
from thinkbudget_litellm.tiers import Tier

EXTRA_BODY = "extra_body"


class Location(StrEnum):
    TOP = "top"  # the request's top level
    EXTRA_BODY = "extra_body"  # inside ``extra_body``


class Action(StrEnum):
    CLAMPED = "clamped"  # lowered to the policy
    REMOVED = "removed"  # unreadable or unboundable: left to the engine's default
    MOVED = "moved"  # taken out of extra_body into the top-level value native enforcement sets


@dataclass(frozen=True)
class FieldChange:
    location: Location
    path: tuple[str, ...]
    action: Action
    before: Any
    after: Any  # None when removed

    def describe(self) -> str:
        where = ".".join(((EXTRA_BODY,) if self.location is Location.EXTRA_BODY else ()) + self.path)
        if self.action is Action.CLAMPED:
            return f"{where}: {self.before!r} -> {self.after!r}"
        return f"{where}: {self.action.value}"


@dataclass(frozen=True)
class Neutralised:
    request: dict[str, Any]  # a new dict; the input is never mutated
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class _Policy:
    limit: int  # thinking tokens the engine may be told
    off: bool  # the request gets no thinking
    adapter: EngineAdapter

    def effort_ceiling(self, floor: Effort | None) -> Effort | None:
        cap = self.adapter.effort_cap(self.limit)
        if floor is None:
            return cap
        return floor if cap is None or cap.rank < floor.rank else cap


class _Remove(Enum):
    REMOVE = "remove"


REMOVE = _Remove.REMOVE
_Value = Any  # a clamped value, or REMOVE


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _tokens(value: object, policy: _Policy) -> _Value:
    if not isinstance(value, int) or isinstance(value, bool):
        return REMOVE
    return policy.limit if value < 0 else min(value, policy.limit)


def _level(value: object, policy: _Policy, floor: Effort | None) -> _Value:
    level = Effort.parse(value)
    if level is None:
        return REMOVE
    ceiling = policy.effort_ceiling(floor)
    if ceiling is None:
        return REMOVE
    return value if level.rank <= ceiling.rank else ceiling.value


def _effort(value: object, policy: _Policy, floor: Effort | None) -> _Value:
    if isinstance(value, Mapping):  # {"effort": "high", "summary": "auto"} (LiteLLM accepts it)
        inner = _level(value.get("effort"), policy, floor)
        return REMOVE if inner is REMOVE else {**value, "effort": inner}
    return _level(value, policy, floor)


def _switch(value: object, policy: _Policy) -> _Value:
    if not isinstance(value, bool):
        return REMOVE
    return False if policy.off else value


def _thinking(value: object, policy: _Policy) -> _Value:
    if not isinstance(value, Mapping):
        return REMOVE
    kind = value.get("type")
    if kind == "disabled":
        return value
    if kind == "adaptive":  # the model decides how much to think: bound it instead
        if policy.limit <= 0:
            return {"type": "disabled"}
        rest = {k: v for k, v in value.items() if k != "type"}
        return {**rest, "type": "enabled", "budget_tokens": policy.limit}
    if kind != "enabled":
        return REMOVE
    asked = value.get("budget_tokens")
    if not isinstance(asked, int) or isinstance(asked, bool) or asked < 0:
        return REMOVE
    if asked <= policy.limit:
        return value
    if policy.limit <= 0:
        return {"type": "disabled"}
    return {**value, "budget_tokens": policy.limit}


def _ollama_think(value: object, policy: _Policy) -> _Value:
    if policy.off:
        return False
    if isinstance(value, bool):
        return value
    if _is_int(value):  # a count (proposed upstream): a budget like any other
        return _tokens(value, policy)
    return _level(value, policy, Effort.LOW)


def _clamp_value(field: BudgetField, value: object, policy: _Policy) -> _Value:
    """The value ``field`` may keep under ``policy`` (``value`` itself when within it), or REMOVE."""
    kind = field.kind
    if kind is FieldKind.TOKENS:
        return _tokens(value, policy)
    if kind is FieldKind.EFFORT:
        return _effort(value, policy, field.floor)
    if kind is FieldKind.SWITCH:
        return _switch(value, policy)
    if kind is FieldKind.THINKING:
        return _thinking(value, policy)
    if kind is FieldKind.OLLAMA_THINK:
        return _ollama_think(value, policy)
    raise ValueError(f"unknown field kind {kind!r}")


def _paths(root: Mapping[str, Any], steps: tuple[tuple[str, ...], ...]) -> Iterator[tuple[str, ...]]:
    """Concrete key paths in ``root`` that match ``steps`` (each step: the accepted spellings)."""
    head, rest = steps[0], steps[1:]
    for key in head:
        if key not in root:
            continue
        if not rest:
            yield (key,)
        elif isinstance(root[key], Mapping):
            for tail in _paths(root[key], rest):
                yield (key, *tail)


def _get(root: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = root
    for key in path:
        value = value[key]
    return value


def _with(root: Mapping[str, Any], path: tuple[str, ...], value: _Value) -> dict[str, Any]:
    """A copy of ``root`` with ``path`` set to ``value`` (or removed); copies only along the path."""
    out = dict(root)
    key = path[0]
    if len(path) == 1:
        if value is REMOVE:
            out.pop(key, None)
        else:
            out[key] = value
    else:
        out[key] = _with(root[key], path[1:], value)
    return out


def _clamp_all(
    root: Mapping[str, Any], fields: Iterable[BudgetField], policy: _Policy, location: Location
) -> tuple[dict[str, Any], list[FieldChange]]:
    out = dict(root)
    changes: list[FieldChange] = []
    for field in fields:
        for path in list(_paths(out, field.path)):
            before = _get(out, path)
            after = _clamp_value(field, before, policy)
            if after is not REMOVE and after == before and type(after) is type(before):
                continue
            out = _with(out, path, after)
            action = Action.REMOVED if after is REMOVE else Action.CLAMPED
            changes.append(FieldChange(location, path, action, before, None if after is REMOVE else after))
    return out, changes


def neutralise_client_budget_fields(
    request: Mapping[str, Any],
    budget: int,
    tier: Tier,
    no_thinking_tiers: Iterable[Tier],
    engine: Engine,
    enforcement: Enforcement = Enforcement.NATIVE,
) -> Neutralised:
    """``request`` with every client budget field of every engine kept within the policy (see the
    module docstring), and the engine's native fields set on top under native enforcement."""
    if not _is_int(budget) or budget < 0:
        raise ValueError(f"budget must be an int >= 0, got {budget!r}")
    if enforcement is Enforcement.OFF:
        return Neutralised(dict(request), ())
    adapter = adapter_for(engine)
    no_thinking = frozenset(no_thinking_tiers)
    effective = adapter.effective_budget(budget)
    off = thinking_off(budget, tier, no_thinking) or effective == 0
    policy = _Policy(limit=0 if off else effective, off=off, adapter=adapter)
    fields = all_budget_fields()

    out, changes = _clamp_all(request, fields, policy, Location.TOP)
    extra = out.get(EXTRA_BODY)
    new_extra: dict[str, Any] | None = None
    if isinstance(extra, Mapping):
        new_extra, extra_changes = _clamp_all(extra, fields, policy, Location.EXTRA_BODY)
        changes += extra_changes

    if enforcement is Enforcement.NATIVE:
        for key in adapter.native_params(budget, tier, out, no_thinking):
            if new_extra is None or key not in new_extra:
                continue
            moved = new_extra.pop(key)
            top = out.get(key)
            out[key] = {**top, **moved} if isinstance(top, Mapping) and isinstance(moved, Mapping) else moved
            changes.append(FieldChange(Location.EXTRA_BODY, (key,), Action.MOVED, moved, None))
        out.update(adapter.native_params(budget, tier, out, no_thinking))

    if new_extra is not None:
        out[EXTRA_BODY] = new_extra
    return Neutralised(out, tuple(changes))

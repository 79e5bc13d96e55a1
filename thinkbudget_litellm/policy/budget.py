"""Budget resolution: which thinking budget applies to one request, and which scope set it.

Scopes, broadest to narrowest: tier defaults (or the adaptive budget calibrated for the request's
model, tier and task) < team < key < user < end user < session.
- A scope's ``budgets[tier]`` replaces the value set by broader scopes (narrowest wins).
- A scope's ``max_thinking_tokens`` is a ceiling; the narrowest scope that sets one wins.
- The session scope is an allowance: the remaining part of the session's cumulative cap.
- The caller may lower the result per request, never raise it: with our own field or header
  (scope ``request``) or with its own reasoning controls (``reasoning_effort``, ``thinking``,
  ``reasoning``, ``max_completion_tokens``: scope ``client_control``, see ``client_controls``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from thinkbudget_litellm.policy.client_controls import ClientCap, ClientControl
from thinkbudget_litellm.settings import ScopeOverrides
from thinkbudget_litellm.tiers import Tier


class BudgetScope(StrEnum):
    """The scope whose setting determined a request's budget."""

    TIER = "tier"
    ADAPTIVE = "adaptive"  # calibrated from the records (thinkbudget.adaptive); a key or team override wins
    TEAM = "team"
    KEY = "key"
    USER = "user"
    END_USER = "end_user"
    SESSION = "session"
    REQUEST = "request"
    CLIENT_CONTROL = "client_control"  # the client's own reasoning control (which one: client_control)


@dataclass(frozen=True, slots=True)
class BudgetDecision:
    tier: Tier
    budget: int
    scope: BudgetScope  # the scope that determined the final value
    session_cap: int | None  # cumulative cap that applies to the request's session, if any
    client_control: ClientControl | None = None  # the client's control that set the budget, if one did
    explore_base: int | None = None  # an exploration request: the budget it had without exploring

    @property
    def exploration(self) -> bool:
        return self.explore_base is not None


# Scopes the client names itself (the request's ``user``): they may narrow what the key, team and
# LiteLLM user allow, never widen it.
CLIENT_NAMED_SCOPES = frozenset({BudgetScope.END_USER})

Layers = Sequence[tuple[BudgetScope, ScopeOverrides]]


def session_cap_for(layers: Layers, default_cap: int | None) -> int | None:
    """The cumulative thinking cap per session: the tightest one the key, team or user set (else the
    global default), lowered, never raised, by a client-named scope."""
    trusted = [o.session_max_thinking_tokens for s, o in layers if s not in CLIENT_NAMED_SCOPES]
    caps = [c for c in trusted if c is not None]
    cap = min(caps) if caps else default_cap
    for scope, overrides in layers:
        own = overrides.session_max_thinking_tokens
        if scope in CLIENT_NAMED_SCOPES and own is not None:
            cap = own if cap is None else min(cap, own)
    return cap


def _lower(current: tuple[int, BudgetScope], value: int | None, scope: BudgetScope) -> tuple[int, BudgetScope]:
    return (value, scope) if value is not None and value < current[0] else current


def resolve_budget(
    tier: Tier,
    tier_budgets: Mapping[Tier, int],
    layers: Layers,
    *,
    request_cap: int | None = None,
    session_used: int | None = None,
    default_session_cap: int | None = None,
    client_cap: ClientCap | None = None,
    base: tuple[int, BudgetScope] | None = None,
    explore_to: int | None = None,
) -> BudgetDecision:
    """Resolve the budget for ``tier``; ``layers`` are (scope, overrides) from broadest to narrowest.

    Among the key, team and user scopes the narrowest ``budgets[tier]`` sets the value and every
    ``max_thinking_tokens`` is a ceiling (a key cannot lift its team's). Client-named scopes, the
    session allowance and the request's own cap can only lower the result.

    ``base``: the starting value and its scope instead of ``tier_budgets[tier]`` (an adaptive budget).
    ``explore_to``: an exploration request's larger budget; it replaces the base only when no trusted
    scope set ``budgets[tier]``, and every ceiling and lowering above still applies to it. The decision's
    ``explore_base`` is set only when exploring actually raised the final budget.
    """
    start = base if base is not None else (tier_budgets[tier], BudgetScope.TIER)
    plain = _resolve(tier, start, layers, request_cap, session_used, default_session_cap, client_cap, None)
    if explore_to is None or explore_to <= start[0]:
        return plain
    explored = _resolve(tier, start, layers, request_cap, session_used, default_session_cap, client_cap, explore_to)
    if explored.budget <= plain.budget:
        return plain
    return replace(explored, explore_base=plain.budget)


def _resolve(
    tier: Tier,
    start: tuple[int, BudgetScope],
    layers: Layers,
    request_cap: int | None,
    session_used: int | None,
    default_session_cap: int | None,
    client_cap: ClientCap | None,
    explore_to: int | None,
) -> BudgetDecision:
    result = start
    trusted = [(s, o) for s, o in layers if s not in CLIENT_NAMED_SCOPES]
    for scope, overrides in trusted:
        if overrides.budgets is not None and tier in overrides.budgets:
            result = (overrides.budgets[tier], scope)
    if explore_to is not None and result is start:  # no trusted scope set this tier's budget
        result = (explore_to, start[1])
    for scope, overrides in trusted:
        result = _lower(result, overrides.max_thinking_tokens, scope)
    for scope, overrides in layers:
        if scope in CLIENT_NAMED_SCOPES:
            result = _lower(result, (overrides.budgets or {}).get(tier), scope)
            result = _lower(result, overrides.max_thinking_tokens, scope)

    session_cap = session_cap_for(layers, default_session_cap)
    if session_cap is not None:
        result = _lower(result, max(session_cap - (session_used or 0), 0), BudgetScope.SESSION)
    if request_cap is not None and request_cap >= 0:
        result = _lower(result, request_cap, BudgetScope.REQUEST)
    if client_cap is not None:
        result = _lower(result, client_cap.tokens, BudgetScope.CLIENT_CONTROL)
    budget, scope = result
    control = client_cap.control if client_cap is not None and scope is BudgetScope.CLIENT_CONTROL else None
    return BudgetDecision(tier=tier, budget=budget, scope=scope, session_cap=session_cap, client_control=control)

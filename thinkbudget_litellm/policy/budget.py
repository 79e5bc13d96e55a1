"""Budget resolution: which thinking budget applies to one request, and which scope set it.

Scopes, broadest to narrowest: tier defaults < team < key < user < end user < session.
- A scope's ``budgets[tier]`` replaces the value set by broader scopes (narrowest wins).
- A scope's ``max_thinking_tokens`` is a ceiling; the narrowest scope that sets one wins.
- The session scope is an allowance: the remaining part of the session's cumulative cap.
- The caller may lower the result per request, never raise it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from thinkbudget_litellm.settings import ScopeOverrides
from thinkbudget_litellm.tiers import Tier


class BudgetScope(StrEnum):
    """The scope whose setting determined a request's budget."""

    TIER = "tier"
    TEAM = "team"
    KEY = "key"
    USER = "user"
    END_USER = "end_user"
    SESSION = "session"
    REQUEST = "request"


@dataclass(frozen=True, slots=True)
class BudgetDecision:
    tier: Tier
    budget: int
    scope: BudgetScope  # the scope that determined the final value
    session_cap: int | None  # cumulative cap that applies to the request's session, if any


def session_cap_for(layers: Sequence[tuple[str, ScopeOverrides]], default_cap: int | None) -> int | None:
    """The narrowest scope's cumulative thinking cap per session (else the global default)."""
    cap = default_cap
    for _, overrides in layers:
        if overrides.session_max_thinking_tokens is not None:
            cap = overrides.session_max_thinking_tokens
    return cap


def resolve_budget(
    tier: Tier,
    tier_budgets: Mapping[Tier, int],
    layers: Sequence[tuple[str, ScopeOverrides]],
    *,
    request_cap: int | None = None,
    session_used: int | None = None,
    default_session_cap: int | None = None,
) -> BudgetDecision:
    """Resolve the budget for ``tier``; ``layers`` are (scope name, overrides) from broadest to narrowest."""
    value = tier_budgets[tier]
    value_scope = "tier"
    ceiling: int | None = None
    ceiling_scope = ""
    for name, overrides in layers:
        if overrides.budgets is not None and tier in overrides.budgets:
            value, value_scope = overrides.budgets[tier], name
        if overrides.max_thinking_tokens is not None:
            ceiling, ceiling_scope = overrides.max_thinking_tokens, name
    budget, scope = value, value_scope
    if ceiling is not None and ceiling < budget:
        budget, scope = ceiling, ceiling_scope

    session_cap = session_cap_for(layers, default_session_cap)
    if session_cap is not None:
        remaining = max(session_cap - (session_used or 0), 0)
        if remaining < budget:
            budget, scope = remaining, "session"

    if request_cap is not None and 0 <= request_cap < budget:
        budget, scope = request_cap, "request"
    return BudgetDecision(tier=tier, budget=budget, scope=scope, session_cap=session_cap)

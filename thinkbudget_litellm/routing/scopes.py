"""Which strategy applies to a caller: the operator's, narrowed by team and key metadata. Pure."""

from __future__ import annotations

from thinkbudget_litellm.policy.budget import CLIENT_NAMED_SCOPES, Layers
from thinkbudget_litellm.routing.config import RoutingSettings, Strategy
from thinkbudget_litellm.settings import SettingsError


def resolve_strategy(settings: RoutingSettings, layers: Layers) -> Strategy:
    """The narrowest scope's ``routing.strategy`` (team < key < user), within every
    ``allowed_strategies`` on the way (operator's first). A strategy outside them is an error naming
    the scope (an HTTP 400), never a silent widening. Client-named scopes may only narrow."""
    allowed = set(settings.allowed())
    if settings.strategy not in allowed:
        raise SettingsError(f"thinkbudget.routing.strategy {settings.strategy.value} is not in allowed_strategies")
    chosen = settings.strategy
    for scope, overrides in layers:
        routing = overrides.routing
        if routing is None:
            continue
        if routing.allowed_strategies is not None:
            allowed &= set(routing.allowed_strategies)
        if routing.strategy is not None and scope not in CLIENT_NAMED_SCOPES:
            if routing.strategy not in allowed:
                names = ", ".join(sorted(s.value for s in allowed)) or "none"
                raise SettingsError(
                    f"{scope.value} metadata.thinkbudget.routing.strategy: {routing.strategy.value} is not "
                    f"allowed here (allowed: {names})"
                )
            chosen = routing.strategy
    if chosen not in allowed:  # a narrower scope took the chosen one away: the first still allowed
        for s in Strategy:
            if s in allowed:
                return s
        raise SettingsError("metadata.thinkbudget.routing.allowed_strategies leaves no strategy")
    return chosen

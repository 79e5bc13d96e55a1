"""Escalation, the shell: one retry of a non-streamed request on the next tier's model.

The deployment success hook asks ``pending_escalation`` whether the answer calls for one (the pure
decision is ``routing.escalation``); the request's lifecycle then waits for it instead of completing.
The proxy's success hook (``escalate``) checks the guard against what the first attempt cost, issues
the retry through LiteLLM's router under a call id only we issued (with the caller's metadata, so
LiteLLM bills the same key, team and user) and answers with its response. Its attempts are attempts
of the same request: one record, both billed.

Streaming requests are not escalated: their answer is already on its way to the client when it turns
out empty. Nor are requests under a session cap (the session reserved one budget for them), nor
requests answered by a two-step continuation (stream enforcement on a non-streamed request). Only model
groups under native enforcement (or none) are escalated to: a two-step continuation of the retry is not
supported.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from thinkbudget_litellm.handler.litellm_io import (
    answer_and_finish,
    client_body,
    complexity_router_pools,
    continuation_metadata,
    group_deployments,
)
from thinkbudget_litellm.handler.state import RequestContext
from thinkbudget_litellm.lifecycle import Phase
from thinkbudget_litellm.routing.escalation import (
    Escalation,
    EscalationCause,
    escalation_cause,
    escalation_fits,
    next_tier_model,
)
from thinkbudget_litellm.routing.strategy import estimate_usd
from thinkbudget_litellm.settings import Enforcement

log = logging.getLogger("thinkbudget_litellm")

ESCALATION_MARK = "thinkbudget_escalation_of"
_ESCALATES_TO = frozenset({Enforcement.NATIVE, Enforcement.OFF})
# the client's body fields the retry does not resend as sent (the router and our policy set them)
_NOT_RESENT = frozenset(
    {"model", "messages", "stream", "stream_options", "metadata", "user", "litellm_session_id", "litellm_trace_id"}
)


@dataclass(frozen=True, slots=True)
class Pending:
    """An escalation decided when the answer arrived, issued in the proxy's success hook."""

    from_model: str
    to_model: str
    cause: EscalationCause
    estimate_usd: float


def pending_escalation(rt: Any, ctx: RequestContext, response: Any, thinking: int) -> Pending | None:
    """The escalation this answer calls for, or None (off, not routed, answered, nothing larger)."""
    route = ctx.route
    if not rt.settings.routing.escalate or route is None or not route.routed or ctx.stream:
        return None
    if ctx.lifecycle.escalation_call_id is not None or ctx.escalation is not None:
        return None  # at most once
    if ctx.decision.session_cap is not None:
        return None  # its session reserved one budget for it; a retry would think past the session's cap
    budget = ctx.decision.budget
    answer, finish = answer_and_finish(response)
    cut = budget > 0 and thinking >= budget - 1  # the engine stopped the thinking at the budget
    cause = escalation_cause(answer, finish, thinking_cut=cut)
    if cause is None:
        return None
    router = rt.router()
    pools = complexity_router_pools(router, route.requested)
    if not pools:
        return None

    def deployments_of(group: str) -> list[tuple[str | None, Mapping[str, Any]]]:
        return group_deployments(router, group)

    groups = sorted({g for pool in pools.values() for g in pool})
    candidates = {g: rt.routing.candidate(deployments_of, g, rt.deployment_settings) for g in groups}
    target = next_tier_model(route.ask.tier, route.model, pools, {g: c.quality for g, c in candidates.items()})
    if target is None or not rt.group_enforcements(target.model) <= _ESCALATES_TO:
        return None
    ask = route.ask
    cost = estimate_usd(candidates[target.model], ask.prompt_tokens, budget, ask.answer_tokens)
    return Pending(route.model, target.model, cause, cost)


def escalation_request(ctx: RequestContext, data: Mapping[str, Any], model: str, call_id: str) -> dict[str, Any]:
    """Router kwargs for the retry: the client's request on ``model``, non-streamed, under our id."""
    resent = {k: v for k, v in client_body(data).items() if k not in _NOT_RESENT and not k.startswith("thinkbudget")}
    kwargs: dict[str, Any] = {
        **resent,
        "model": model,
        "messages": data.get("messages"),
        "metadata": continuation_metadata(data, {ESCALATION_MARK: ctx.call_id}),
        "litellm_call_id": call_id,
    }
    for passthrough in ("user", "litellm_session_id", "litellm_trace_id"):
        if data.get(passthrough) is not None:
            kwargs[passthrough] = data[passthrough]
    return kwargs


async def escalate(rt: Any, ctx: RequestContext, data: Mapping[str, Any]) -> Any | None:
    """Issue the pending retry and return its response (None: the client gets the first answer)."""
    pending, ctx.pending_escalation = ctx.pending_escalation, None
    lc = ctx.lifecycle
    if pending is None or lc.phase is not Phase.AWAITING_ESCALATION or ctx.route is None:
        return None
    if not escalation_fits(pending.estimate_usd, ctx.route.choice.remaining, lc.bill_so_far().cost_usd):
        ctx.escalation = Escalation(
            pending.from_model, pending.to_model, pending.cause, "", pending.estimate_usd, refused=True
        )
        rt.completed(ctx, await lc.escalation_ended(False))
        return None
    call_id = str(uuid.uuid4())
    kwargs = escalation_request(ctx, data, pending.to_model, call_id)
    ctx.escalation = Escalation(pending.from_model, pending.to_model, pending.cause, call_id, pending.estimate_usd)
    first_route = ctx.route
    ctx.route = first_route.escalated(pending.to_model, ctx.escalation.reason(), pending.estimate_usd)
    lc.escalation_issued(call_id)
    rt.states.alias(call_id, ctx)
    try:
        response = await rt.router().acompletion(**kwargs)
    except Exception:
        log.warning("thinkbudget: the escalation of %s failed", ctx.call_id, exc_info=True)
        ctx.escalation = dataclasses.replace(ctx.escalation, failed=True)
        ctx.route = first_route
        rt.completed(ctx, await lc.escalation_ended(False))
        return None
    if lc.outcome is None:  # no deployment hook completed it (a cache hit of the retry)
        rt.completed(ctx, await lc.escalation_ended(True))
    return response

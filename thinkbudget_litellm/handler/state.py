"""Per-request context shared between LiteLLM's hooks, keyed by the LiteLLM call ids we know it by.

The request's lifecycle (phase, attempts, counts, bill, outcome) is the LiteLLM-free
``lifecycle.RequestLifecycle``; the context adds only what the shell needs beside it: who the caller
is, which deployment the last attempt went to, and the typed hand-off of a two-step request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from thinkbudget_litellm.enforce.client_budget_fields import FieldChange
from thinkbudget_litellm.enforce.context_fit import Fit
from thinkbudget_litellm.enforce.engine_client import EngineEndpoint
from thinkbudget_litellm.handler.cache_hits import CacheSaving
from thinkbudget_litellm.handler.litellm_io import Caller
from thinkbudget_litellm.lifecycle import RequestLifecycle
from thinkbudget_litellm.policy.budget import BudgetDecision
from thinkbudget_litellm.settings import DeploymentSettings, Enforcement, Engine
from thinkbudget_litellm.tiers import Task

if TYPE_CHECKING:
    from thinkbudget_litellm.handler.escalation_step import Pending
    from thinkbudget_litellm.handler.stream_enforcer import FirstCall
    from thinkbudget_litellm.routing.escalation import Escalation
    from thinkbudget_litellm.routing.service import RoutePlan


@dataclass(frozen=True, slots=True)
class Adjustments:
    """What the deployment hook changed in the client's request to keep it within the budget."""

    fit: Fit | None = None  # the budget or max_tokens was cut to the deployment's context window
    client_fields: tuple[FieldChange, ...] = ()  # the client's own budget fields clamped or removed


@dataclass(slots=True, eq=False)
class RequestContext:
    caller: Caller
    lifecycle: RequestLifecycle
    deployment: DeploymentSettings | None = None  # the last attempt's deployment settings
    deployment_id: str | None = None
    engine: Engine = Engine.OTHER
    endpoint: EngineEndpoint | None = None  # where the last attempt's engine listens
    first_call: FirstCall | None = None  # a two-step request's capped first call, for the continuation
    adjustments: Adjustments = Adjustments()
    ending: asyncio.Future[None] | None = None  # a terminal event being delivered (Runtime.end)
    grace_tokens: int = 0  # thinking let past the budget to finish a sentence before a stream cut
    route: RoutePlan | None = None  # where the request is routed and what the guard decided
    session_reserved: int = 0  # thinking tokens reserved in the session ledger at admission
    cache_saving: CacheSaving | None = None  # a cache hit: what the response it was cached from cost
    pending_escalation: Pending | None = None  # the answer calls for a retry on a larger model
    escalation: Escalation | None = None  # the retry issued (or refused) for it

    @property
    def call_id(self) -> str:
        return self.lifecycle.admission.call_id

    @property
    def decision(self) -> BudgetDecision:
        return self.lifecycle.admission.decision

    @property
    def task(self) -> Task:
        return self.lifecycle.admission.task

    @property
    def stream(self) -> bool:
        return self.lifecycle.admission.stream

    @property
    def model_group(self) -> str | None:
        return self.lifecycle.admission.model_group

    @property
    def enforcement(self) -> Enforcement:
        return self.lifecycle.enforcement

    async def ended(self) -> None:
        """Wait for a terminal event being delivered (a client that left), never cancelling it."""
        if self.ending is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.ending)

    def is_continuation(self, call_id: str | None) -> bool:
        """``call_id`` is the continuation call we issued for this request (never a client field)."""
        return call_id is not None and call_id == self.lifecycle.continuation_call_id

    def is_escalation(self, call_id: str | None) -> bool:
        """``call_id`` is the escalation call we issued for this request (never a client field)."""
        return call_id is not None and call_id == self.lifecycle.escalation_call_id


class ContextStore:
    """In-process map of live requests, by the client's call id and by the continuation ids we issued.

    A completed request moves to a small bounded "recent" map, so hooks LiteLLM runs after its
    logging event (response headers, the cost of a late success event) still find it.
    """

    def __init__(self, recent_max: int = 4096, sweep_interval_s: float = 5.0) -> None:
        self._live: dict[str, RequestContext] = {}
        self._ids: dict[str, RequestContext] = {}  # every live call id -> its request (aliases included)
        self._recent: OrderedDict[str, RequestContext] = OrderedDict()
        self._recent_max = recent_max
        self._sweep_interval_s = sweep_interval_s
        self._next_sweep = 0.0

    def put(self, ctx: RequestContext) -> bool:
        """Track ``ctx``; False (and nothing changes) when a live request already has its id."""
        if ctx.call_id in self._ids:
            return False
        self._recent.pop(ctx.call_id, None)
        self._live[ctx.call_id] = ctx
        self._ids[ctx.call_id] = ctx
        return True

    def alias(self, call_id: str, ctx: RequestContext) -> None:
        """``call_id`` (a continuation we issued) belongs to ``ctx``."""
        self._ids[call_id] = ctx

    def live(self, call_id: str | None) -> RequestContext | None:
        return self._ids.get(call_id) if call_id else None

    def get(self, call_id: str | None) -> RequestContext | None:
        """A live request, else a recently completed one."""
        if not call_id:
            return None
        ctx = self._ids.get(call_id)
        return ctx if ctx is not None else self._recent.get(call_id)

    def done(self, ctx: RequestContext) -> None:
        """Stop tracking a completed request (it stays findable among the recent ones)."""
        if self._live.pop(ctx.call_id, None) is None:
            return
        for call_id in (ctx.call_id, ctx.lifecycle.continuation_call_id, ctx.lifecycle.escalation_call_id):
            if call_id is not None and self._ids.get(call_id) is ctx:
                del self._ids[call_id]
                self._recent[call_id] = ctx
        while len(self._recent) > self._recent_max:
            self._recent.popitem(last=False)

    def sweep_due(self, now: float) -> bool:
        if now < self._next_sweep:
            return False
        self._next_sweep = now + self._sweep_interval_s
        return True

    def __iter__(self) -> Iterator[RequestContext]:
        return iter(list(self._live.values()))

    def __len__(self) -> int:
        return len(self._live)

"""Process-wide services the handler uses: settings, live request states, session ledger,
deployment settings, meter hub and record writer. Created lazily on the first request."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Coroutine, Mapping
from typing import Any

from fastapi import HTTPException

from thinkbudget_litellm import metrics
from thinkbudget_litellm.calibrate.budgets import AdaptivePolicy
from thinkbudget_litellm.calibrate.refresher import AdaptiveRefresher
from thinkbudget_litellm.enforce.engine_registry import infer_engine
from thinkbudget_litellm.handler.cache_hits import CacheSaving, CacheSavings, SavingSource
from thinkbudget_litellm.handler.engine_service import EngineService
from thinkbudget_litellm.handler.litellm_io import (
    Caller,
    coordination_redis,
    deployment_info,
    discovered_model_info,
    engine_endpoint,
    litellm_config_path,
    llm_router,
    set_logged_cost,
)
from thinkbudget_litellm.handler.records import build_record, spend_log_figures
from thinkbudget_litellm.handler.session_ledger import SessionLedger
from thinkbudget_litellm.handler.state import ContextStore, RequestContext
from thinkbudget_litellm.lifecycle import Admission, RequestLifecycle, Step
from thinkbudget_litellm.meter.books_metrics import METER_BOOKS
from thinkbudget_litellm.meter.carbon import CarbonIntensity, grams_co2e
from thinkbudget_litellm.meter.hub import MeterHub
from thinkbudget_litellm.meter.provenance import EnergyLabel
from thinkbudget_litellm.meter.window_store import RedisWindowStore
from thinkbudget_litellm.policy.config_file import load_settings
from thinkbudget_litellm.record.database_url import resolve_database_target
from thinkbudget_litellm.record.request_record import RequestStatus
from thinkbudget_litellm.record.writer import RecordWriter
from thinkbudget_litellm.routing.service import RouteService
from thinkbudget_litellm.settings import (
    DeploymentSettings,
    Enforcement,
    SettingsError,
    ThinkBudgetSettings,
    parse_settings,
)

log = logging.getLogger("thinkbudget_litellm")


class Runtime:
    def __init__(self, settings: ThinkBudgetSettings | None = None) -> None:
        self._settings = settings
        self.states = ContextStore()
        self.ttl_s = 7200.0  # no event for this long: closed (longer than LiteLLM's 6000 s default timeout)
        self.failure_grace_s = 300.0  # an attempt failed this long ago and nobody retried: closed
        metrics.IN_FLIGHT.set_function(lambda: len(self.states))  # a leak shows here
        self.sessions = SessionLedger()
        self._deployments: dict[str, DeploymentSettings] = {}
        self._bad_deployments: set[str] = set()
        self._started = False
        self._deployments_seen = False  # every deployment validated and its meter's first reading taken
        self._start_lock = asyncio.Lock()
        self._tasks: set[asyncio.Future[Any]] = set()
        self.meter = MeterHub()
        self.carbon = CarbonIntensity()
        self.cache_savings = CacheSavings()
        METER_BOOKS.bind(self.meter.snapshot)  # the meter's books on /metrics
        self.writer: RecordWriter | None = None
        self._adaptive: AdaptivePolicy | None = None
        self.routing = RouteService()  # strategies, budget guard, measured prices per deployment
        self.engines = EngineService()  # what the proxy learns from engines' tokenizer endpoints

    # ------------------------------------------------------------------ settings
    @property
    def settings(self) -> ThinkBudgetSettings:
        if self._settings is None:
            try:
                self._settings = load_settings(litellm_config_path())
            except SettingsError:
                log.error("thinkbudget: invalid configuration; using defaults", exc_info=True)
                self._settings = ThinkBudgetSettings()
        return self._settings

    @property
    def adaptive(self) -> AdaptivePolicy:
        """The adaptive budgets in force (none until the first refresh, or when disabled)."""
        if self._adaptive is None:
            self._adaptive = AdaptivePolicy(self.settings.adaptive)
        return self._adaptive

    def start_in_background(self) -> bool:
        """Start the meter and the record writer now when an event loop is serving (LiteLLM loads its
        callbacks inside the proxy's startup), so a restarted proxy replays its predecessor's spool
        at once instead of at the first request. False outside a serving proxy (a tool or a test)."""
        if not self._in_loop() or litellm_config_path() is None:  # not inside a serving proxy
            return False
        self.background(self.ensure_started(None))
        return True

    async def ensure_started(self, cache: Any) -> None:
        """Idempotent; the proxy's ``DualCache`` (for the session ledger) is bound when first given."""
        if cache is not None and not self.sessions.bound:
            self.sessions.bind(cache, self.settings.session_ttl_s, redis=coordination_redis())
        if not self.meter.window_store_bound:  # shared engines' windows summed over the instances
            redis = coordination_redis()
            if redis is not None:
                self.meter.bind_window_store(RedisWindowStore(redis))
        if self._started:
            if not self._deployments_seen:  # started before LiteLLM's router existed
                async with self._start_lock:
                    if not self._deployments_seen:
                        await self._configure_deployments()
            return
        async with self._start_lock:
            if self._started:
                return
            settings = self.settings
            try:
                await self.meter.start()
                await self._configure_deployments()
            except Exception:
                log.exception("thinkbudget: the energy meter failed to start; requests are not metered")
            try:
                target = resolve_database_target(os.environ, settings.database_url)
                self.writer = RecordWriter(target, auto_upgrade=True)
                await self.writer.start()
                log.info("thinkbudget: writing request records to %s", target.display)
            except Exception:
                self.writer = None
                log.exception("thinkbudget: the record writer failed to start; no request records are written")
            if settings.adaptive.enabled:
                try:
                    target = resolve_database_target(os.environ, settings.database_url)
                    self.background(AdaptiveRefresher(self.adaptive, settings.budgets, target).run())
                except Exception:
                    log.exception("thinkbudget: adaptive budgets cannot start; the configured budgets apply")
            self._started = True

    async def _configure_deployments(self) -> None:
        """Validate every deployment's thinkbudget block now (misconfiguration is reported at start,
        not per request) and take each meter's first reading."""
        try:
            model_list = self.router().get_model_list() or []
        except Exception:
            return
        if not model_list:  # the router exists but has not loaded the config's model_list yet
            return
        self._deployments_seen = True
        ids = []
        for deployment in model_list:
            info = deployment.get("model_info") or {}
            if info.get("id") is not None:
                self.deployment_settings(str(info["id"]), info)
                ids.append(str(info["id"]))
        if ids:
            await asyncio.wait(
                [asyncio.ensure_future(self.meter.tick(i)) for i in ids if self.meter.configured(i)]
                or [asyncio.ensure_future(asyncio.sleep(0))],
                timeout=2.0,
            )

    @staticmethod
    def _in_loop() -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    def group_enforcements(self, model_group: Any) -> set[Enforcement]:
        """The enforcement modes of a model group's deployments (empty when the router does not know it)."""
        try:
            deployments = self.router().get_model_list(model_name=str(model_group)) or []
        except Exception:
            return set()
        out = set()
        for d in deployments:
            info = d.get("model_info") or {}
            dep_id = str(info["id"]) if info.get("id") is not None else None
            out.add(self.deployment_settings(dep_id, info).enforcement)
        return out

    def deployment_settings(self, deployment_id: str | None, model_info: Mapping[str, Any]) -> DeploymentSettings:
        key = deployment_id or "?"
        cached = self._deployments.get(key)
        if cached is not None:
            return cached
        try:
            dep = parse_settings(
                DeploymentSettings,
                model_info.get("thinkbudget"),
                f"deployment {key} model_info.thinkbudget",
                operator_config=True,
            )
            dep = (
                dep
                if "thinkbudget" in model_info
                else dep.model_copy(update={"enforcement": self.settings.default_enforcement})
            )
        except SettingsError:
            if key not in self._bad_deployments:
                self._bad_deployments.add(key)
                log.error("thinkbudget: invalid deployment settings, enforcement off for it", exc_info=True)
            dep = DeploymentSettings(enforcement=Enforcement.OFF)
        if deployment_id is not None:
            self.carbon.configure(deployment_id, dep.carbon)
            try:
                self.meter.configure(deployment_id, dep)
                if self.meter.configured(deployment_id) and self._in_loop():
                    # its first reading is only a baseline: take it now, not when a request ends
                    self.background(self.meter.tick(deployment_id))
            except Exception:
                log.error("thinkbudget: deployment %s energy settings unusable; not metered", key, exc_info=True)
        self._deployments[key] = dep
        return dep

    # ------------------------------------------------------------------ failure policy
    def internal_error(self, hook: str, call_id: Any, *, may_refuse: bool = False) -> None:
        """Our own bug in ``hook``: logged with the call id and counted; the request goes on. Only an
        admission hook (``may_refuse``: no response has started) refuses it, and only when the
        operator set ``fail_closed``: a started stream is never broken by our bug."""
        metrics.ERRORS.labels(hook=hook).inc()
        log.exception("thinkbudget internal error in %s (litellm_call_id=%s)", hook, call_id)
        if may_refuse and self.settings.fail_closed:
            raise HTTPException(status_code=500, detail={"error": f"thinkbudget failed in {hook} (fail_closed)"})

    def background(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Future[Any]:
        """Run ``coro`` as a task of its own (outside the request's cancel scope), kept until done."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------------ requests
    def admit(self, caller: Caller, admission: Admission) -> RequestContext:
        """Track a new request; its lifecycle alone opens and closes its meter entries."""
        ctx = RequestContext(caller=caller, lifecycle=RequestLifecycle(admission, self.meter, time.monotonic))
        if admission.call_id and not self.states.put(ctx):
            metrics.ERRORS.labels(hook="duplicate_call_id").inc()
            log.warning(
                "thinkbudget: the client reused litellm_call_id %s while it is in flight; LiteLLM's hooks "
                "for that id follow the first request",
                admission.call_id,
            )
        return ctx

    def use_deployment(self, ctx: RequestContext, kwargs: Mapping[str, Any]) -> DeploymentSettings:
        """The deployment the router picked for the attempt about to start."""
        dep_id, model, info = deployment_info(kwargs)
        dep = self.deployment_settings(dep_id, info)
        ctx.deployment_id, ctx.deployment = dep_id, dep
        ctx.engine = dep.engine or infer_engine(model)
        ctx.endpoint = engine_endpoint(kwargs)
        return dep

    def deployment_limits(self, deployment_id: str | None, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """The deployment's ``model_info`` over what LiteLLM discovered from the engine (as LiteLLM
        itself merges them), for its context window."""
        _, _, info = deployment_info(kwargs)
        try:
            discovered = discovered_model_info(self.router(), deployment_id)
        except Exception:
            discovered = {}
        return {**discovered, **info}

    def completed(self, ctx: RequestContext, step: Step) -> None:
        """Everything a completed request leaves behind, from its one outcome: metrics, the session's
        thinking, the record. Called with every ``Step``; only the one that completed it carries it."""
        outcome = step.outcome
        if outcome is None:
            return
        self.states.done(ctx)
        labels = {"team": ctx.caller.team_id or "", "tier": outcome.tier.value, "model": ctx.model_group or ""}
        metrics.THINKING_TOKENS.labels(**labels).inc(outcome.thinking_tokens)
        metrics.ANSWER_TOKENS.labels(**labels).inc(outcome.answer_tokens)
        if outcome.cut:
            metrics.CUTS.labels(**labels).inc()
        bill = outcome.bill
        g_per_kwh = self.carbon.g_per_kwh(outcome.deployment_id)
        if bill.joules:
            metrics.ENERGY_JOULES.labels(**labels, source=_provenance(bill.energy_source)).inc(bill.joules)
            co2e = grams_co2e(bill.joules, g_per_kwh)
            if co2e:
                metrics.CO2E_GRAMS.labels(**labels).inc(co2e)
        if bill.cost_usd:
            metrics.COST_USD.labels(**labels).inc(bill.cost_usd)
        if outcome.deployment_id is not None and outcome.escalation_call_id is None:  # its tokens' price
            self.routing.prices.observe(
                outcome.deployment_id,
                bill.cost_usd,
                outcome.prompt_tokens,
                outcome.thinking_tokens + outcome.answer_tokens,
            )
        if outcome.status is RequestStatus.CACHE_HIT:
            metrics.CACHE_HITS.labels(**labels).inc()
            saved = ctx.cache_saving.cost_usd if ctx.cache_saving is not None else None
            if saved:
                metrics.CACHE_SAVED_USD.labels(**labels).inc(saved)
        session = ctx.caller.session_ledger_key
        if session and (outcome.thinking_tokens or ctx.session_reserved):  # commit it, release the rest
            self.background(self.sessions.settle(session, outcome.thinking_tokens, ctx.session_reserved))
        if self.writer is not None:
            self.writer.submit(
                build_record(
                    outcome,
                    ctx.caller,
                    self.settings,
                    ctx.adjustments,
                    route=ctx.route,
                    grace_tokens=ctx.grace_tokens,
                    g_per_kwh=g_per_kwh,
                    cache_saving=ctx.cache_saving,
                    escalation=ctx.escalation,
                )
            )

    def end(self, ctx: RequestContext, event: Coroutine[Any, Any, Step]) -> None:
        """Deliver a terminal event from a task of its own: a client that left cancels the caller's
        scope, and the completion (meter closes, the record) must not depend on it. Hooks that run
        after it (LiteLLM's disconnect billing) await ``ctx.ending`` first, so it is what decides."""

        async def deliver() -> None:
            try:
                self.completed(ctx, await event)
            except Exception:
                self.internal_error("lifecycle", ctx.call_id)

        ctx.ending = self.background(deliver())

    async def apply_cost(self, ctx: RequestContext, kwargs: dict, call_id: str) -> None:
        """LiteLLM logs a success for ``call_id`` (the client's or our continuation's): its attempt is
        complete if nothing ended it yet; make its GPU-derived cost LiteLLM's recorded cost
        (SpendLogs, key/team/user spend, budgets) and put our figures into ``spend_logs_metadata``."""
        lc = ctx.lifecycle
        await ctx.ended()
        current = lc.current_attempt
        if current is not None and current.llm_call_id == call_id:
            self.completed(ctx, await lc.attempt_succeeded(call_id=call_id))
        await lc.settled()
        bill = lc.bill_for(call_id)
        figures = spend_log_figures(
            ctx.decision,
            ctx.task,
            ctx.enforcement,
            lc.thinking_tokens,
            lc.cut_at_budget,
            bill,
            continuation_of=ctx.call_id if ctx.is_continuation(call_id) else None,
            co2e_g=grams_co2e(bill.joules, self.carbon.g_per_kwh(ctx.deployment_id)),
        )
        set_logged_cost(kwargs, bill.cost_usd, figures)

    # ------------------------------------------------------------------ LiteLLM's response cache
    async def cache_hit(self, ctx: RequestContext, response_id: str | None, litellm_saved: float | None = None) -> None:
        """LiteLLM answered ``ctx`` from its cache: it completes as ``cache_hit`` (0 J, $0, no share
        of any meter tick), saving what the response it was cached from cost. Idempotent."""
        if ctx.lifecycle.outcome is not None:
            return
        if ctx.cache_saving is None:
            ctx.cache_saving = self.cache_savings.saving_for(response_id, litellm_saved)
        await ctx.ended()
        self.completed(ctx, await ctx.lifecycle.cache_hit())

    def remember_original(self, ctx: RequestContext, response_id: str | None) -> None:
        """A request answered under ``response_id`` (which LiteLLM may cache): keep its bill for the
        cache hits it will serve."""
        outcome = ctx.lifecycle.outcome
        if outcome is None or outcome.status not in (RequestStatus.SUCCESS, RequestStatus.CUT):
            return
        bill = outcome.bill
        self.cache_savings.remember(
            response_id,
            CacheSaving(
                SavingSource.ORIGINAL,
                bill.cost_usd,
                bill.joules,
                grams_co2e(bill.joules, self.carbon.g_per_kwh(outcome.deployment_id)),
                outcome.thinking_tokens,
                outcome.call_id,
            ),
        )

    def sweep(self) -> None:
        """Close, with a record, live requests that will get no further event (cheap when not due)."""
        now = time.monotonic()
        if not self.states.sweep_due(now):
            return
        for ctx in self.states:
            reason = ctx.lifecycle.stale(now, self.ttl_s, self.failure_grace_s)
            if reason is not None:
                log.warning("thinkbudget: closing request %s (%s)", ctx.call_id, reason.value)
                self.end(ctx, ctx.lifecycle.swept(reason))

    # ------------------------------------------------------------------ LiteLLM's router
    def router(self) -> Any:
        return llm_router()


def _provenance(source: str | None) -> str:
    """A metric label with few values: the provenance, not the whole source text with its reason."""
    try:
        return EnergyLabel.parse(source or "").provenance.value
    except Exception:
        return "unknown"

"""The LiteLLM callback: each hook becomes one event on the request's lifecycle, and nothing else.

LiteLLM finds ``async_pre_call_hook``, the streaming iterator hook and the response-headers hook only
when they are defined on the registered instance's own class (research notes §1.3, §10.1), so every
hook is defined here, on the leaf class.

One failure policy (``Runtime.internal_error``): our own bug is logged with the call id, counted in
``thinkbudget_errors_total{hook=...}`` and the request goes on; only admission may refuse it, and only
when the operator set ``thinkbudget.fail_closed: true``. Observation hooks never raise.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import AsyncGenerator
from typing import Any

from fastapi import HTTPException
from litellm.integrations.custom_logger import CustomLogger

from thinkbudget_litellm import metrics
from thinkbudget_litellm.classify import classify
from thinkbudget_litellm.enforce.client_budget_fields import neutralise_client_budget_fields
from thinkbudget_litellm.enforce.context_fit import (
    ContextLimits,
    Fit,
    context_limits,
    fit_engine_budget,
    fit_to_context,
)
from thinkbudget_litellm.enforce.engine_tokens import fit_prompt_tokens
from thinkbudget_litellm.handler.cache_hits import cache_hit_headers
from thinkbudget_litellm.handler.escalation_step import escalate, pending_escalation
from thinkbudget_litellm.handler.litellm_io import (
    BUDGETED_CALL_TYPES,
    CHAT_CALL_TYPES,
    Caller,
    add_spend_log_metadata,
    caller_from,
    client_answer_room,
    client_output_limits,
    client_reasoning_fields,
    drop_internal_markers,
    endpoint_refusal,
    forbid_cache_store,
    litellm_saved_cache_cost,
    logged_cache_hit,
    pop_request_cap,
    prompt_messages,
    response_id,
    response_token_ids,
    scope_layers,
    served_from_cache,
    set_response_cost,
)
from thinkbudget_litellm.handler.records import admission_figures, energy_headers
from thinkbudget_litellm.handler.routing_step import BudgetRefused, route_admission
from thinkbudget_litellm.handler.runtime import Runtime
from thinkbudget_litellm.handler.state import Adjustments, RequestContext
from thinkbudget_litellm.handler.stream_enforcer import (
    StreamEnforcer,
    count_full_response,
    enforce_nonstream,
    engine_id_counts,
    read_first_call,
)
from thinkbudget_litellm.lifecycle import Admission
from thinkbudget_litellm.policy.budget import BudgetScope, resolve_budget
from thinkbudget_litellm.policy.client_controls import DEFAULT_EFFORT_BUDGETS, client_caps, tightest
from thinkbudget_litellm.settings import DeploymentSettings, Enforcement, SettingsError

log = logging.getLogger("thinkbudget_litellm")


class ThinkBudgetHandler(CustomLogger):
    """Registered as ``litellm_settings.callbacks: ["thinkbudget_litellm.proxy_handler"]``."""

    def __init__(self, runtime: Runtime | None = None) -> None:
        super().__init__()
        self.rt = runtime or Runtime()

    # ------------------------------------------------------------------ admission
    async def async_pre_call_hook(
        self, user_api_key_dict: Any, cache: Any, data: dict, call_type: Any
    ) -> dict | str | Exception | None:
        # Our own continuations are router calls: they never come through this proxy hook, so nothing
        # in a request that does may mark it as one (internal markers are dropped, not trusted).
        kind = _call_type(call_type)
        try:
            drop_internal_markers(data)  # whatever the call type: our routing plugins read our markers too
            if kind not in BUDGETED_CALL_TYPES:
                return data
            await self.rt.ensure_started(cache)
            self.rt.sweep()
            if kind not in CHAT_CALL_TYPES:  # other endpoints cannot carry every enforcement mode
                refusal = endpoint_refusal(kind, data.get("model"), self.rt.group_enforcements(data.get("model")))
                if refusal is not None:
                    raise SettingsError(refusal)
            caller = caller_from(user_api_key_dict, data)
            ledger_key = caller.session_ledger_key
            used = await self.rt.sessions.used(ledger_key) if ledger_key else None
            await self._admit(caller, data, used, kind)
        except SettingsError as exc:
            raise HTTPException(status_code=400, detail={"error": f"thinkbudget: {exc}"}) from None
        except BudgetRefused as exc:
            raise HTTPException(status_code=429, detail={"error": str(exc)}) from None
        except Exception:
            self.rt.internal_error("pre_call", data.get("litellm_call_id"), may_refuse=True)
        return data

    async def _admit(self, caller: Caller, data: dict, session_used: int | None, call_type: str) -> RequestContext:
        settings = self.rt.settings
        request_cap = pop_request_cap(data)
        client_cap = tightest(
            client_caps(
                client_reasoning_fields(data),
                settings.answer_reserve_tokens,
                settings.client_effort_budgets or DEFAULT_EFFORT_BUDGETS,
            )
        )
        layers = scope_layers(caller, settings)
        t0 = time.perf_counter()
        result = classify(prompt_messages(data, call_type), risk=settings.classifier_risk)
        metrics.CLASSIFY_SECONDS.observe(time.perf_counter() - t0)
        call_id = str(data.get("litellm_call_id") or "")
        adaptive = self.rt.adaptive
        base = adaptive.start(data.get("model"), result.tier, result.task, settings.budgets[result.tier])
        decision = resolve_budget(
            result.tier,
            settings.budgets,
            layers,
            request_cap=request_cap,
            session_used=session_used,
            default_session_cap=settings.session_max_thinking_tokens,
            client_cap=client_cap,
            base=base,
            explore_to=adaptive.explore_to(call_id, base[0]),
        )
        prompt_tokens = _approx_prompt_tokens(prompt_messages(data, call_type))
        decision, route = route_admission(self.rt, caller, layers, data, decision, result.task, prompt_tokens)
        reserved = 0
        ledger_key = caller.session_ledger_key
        if ledger_key and decision.session_cap is not None:  # reserve the budget: atomic across instances
            reserved = await self.rt.sessions.reserve(ledger_key, decision.budget, decision.session_cap)
            if reserved < decision.budget:  # concurrent requests of the session took the allowance meanwhile
                decision = dataclasses.replace(decision, budget=reserved, scope=BudgetScope.SESSION)
        admission = Admission(
            call_id=call_id,
            decision=decision,
            task=result.task,
            score=result.score,
            model_group=data.get("model"),
            stream=bool(data.get("stream")),
        )
        metrics.BUDGET_TOKENS.labels(tier=decision.tier.value).observe(decision.budget)
        add_spend_log_metadata(data, admission_figures(decision, result.task))
        ctx = self.rt.admit(caller, admission)
        ctx.route = route
        ctx.session_reserved = reserved
        return ctx

    # ------------------------------------------------------------------ one deployment call starts
    async def async_pre_call_deployment_hook(self, kwargs: dict, call_type: Any) -> dict | None:
        call_id = kwargs.get("litellm_call_id")
        ctx = self.rt.states.live(call_id)
        if ctx is None:
            return None
        try:
            dep = self.rt.use_deployment(ctx, kwargs)
            messages = prompt_messages(kwargs, _call_type(call_type))
            prompt_tokens = _approx_prompt_tokens(messages)
            priced, simulated = _priced(dep), dep.energy.simulated
            lc = ctx.lifecycle
            if ctx.is_continuation(call_id):  # ours: meter it, inject nothing
                await lc.continuation_started(
                    str(call_id), ctx.deployment_id, prompt_tokens, priced=priced, simulated=simulated
                )
                return None
            kwargs = await self._budget_params(ctx, dep, kwargs, messages, prompt_tokens)
            if ctx.is_escalation(call_id):  # ours: the retry on a larger model, within the same budget
                await lc.escalation_started(
                    str(call_id),
                    ctx.deployment_id,
                    prompt_tokens,
                    priced=priced,
                    simulated=simulated,
                    enforcement=dep.enforcement,
                )
                return kwargs
            await lc.attempt_started(
                ctx.deployment_id, prompt_tokens, priced=priced, simulated=simulated, enforcement=dep.enforcement
            )
            metrics.REQUESTS.labels(
                team=ctx.caller.team_id or "",
                tier=ctx.decision.tier.value,
                model=ctx.model_group or "",
                enforcement=dep.enforcement.value,
            ).inc()
            return kwargs
        except Exception:
            self.rt.internal_error("pre_call_deployment", ctx.call_id)
            return None

    async def _budget_params(
        self, ctx: RequestContext, dep: DeploymentSettings, kwargs: dict, messages: list[dict[str, Any]], approx: int
    ) -> dict[str, Any]:
        """The request as this deployment must get it to keep to the budget: every budget field the
        client sent (any engine's, top level or ``extra_body``) within the policy, the engine's own
        cap under native enforcement, and ``max_tokens`` within the deployment's context window.

        The prompt is measured by our approximation with a margin; only when that would cut the
        budget or ``max_tokens`` is the engine asked for its exact count (where it has a tokenizer
        endpoint; cached, bounded, never failing the request)."""
        if dep.enforcement is Enforcement.OFF:
            return kwargs
        budget, tier = ctx.decision.budget, ctx.decision.tier
        room = client_answer_room(kwargs, budget) or self.rt.settings.answer_reserve_tokens
        limits = context_limits(self.rt.deployment_limits(ctx.deployment_id, kwargs))
        fit = self._fit(ctx, dep, limits, fit_prompt_tokens(None, approx), room)
        if fit.clamped:
            exact = await self.rt.engines.prompt_tokens(ctx, messages)
            if exact is not None:
                fit = self._fit(ctx, dep, limits, exact, room)
        neutralised = neutralise_client_budget_fields(
            kwargs, fit.budget, tier, dep.no_thinking_tiers, ctx.engine, dep.enforcement
        )
        ctx.adjustments = Adjustments(fit=fit if fit.clamped else None, client_fields=neutralised.changes)
        out = neutralised.request
        if dep.enforcement is Enforcement.STREAM and not ctx.stream:
            out.pop("max_completion_tokens", None)
            out["max_tokens"] = fit.max_tokens
        else:
            for field in client_output_limits(out) or ["max_tokens"]:
                out[field] = fit.max_tokens
        return out

    @staticmethod
    def _fit(ctx: RequestContext, dep: DeploymentSettings, limits: ContextLimits, prompt_tokens: int, room: int) -> Fit:
        budget = ctx.decision.budget
        if dep.enforcement is Enforcement.NATIVE:
            fit = fit_engine_budget(ctx.engine, limits, prompt_tokens, budget, room)
        elif ctx.stream:  # cut at the budget; the engine may overshoot by the slack before the cut
            fit = fit_to_context(
                limits.context_tokens,
                prompt_tokens,
                budget + dep.slack_tokens,
                room,
                max_output_tokens=limits.max_output_tokens,
            )
            fit = Fit(min(budget, fit.budget), fit.max_tokens, fit.clamped)
        else:  # two-step: the first call is capped at the budget, the continuation answers
            fit = fit_to_context(
                limits.context_tokens, prompt_tokens, budget, 0, max_output_tokens=limits.max_output_tokens
            )
            fit = Fit(fit.budget, max(fit.max_tokens, 1), fit.clamped)
        return fit

    # ------------------------------------------------------------------ streaming
    async def async_post_call_streaming_iterator_hook(
        self, user_api_key_dict: Any, response: Any, request_data: dict
    ) -> AsyncGenerator[Any, None]:
        ctx = self.rt.states.live(request_data.get("litellm_call_id"))
        if ctx is not None and served_from_cache(response):  # a replayed cache entry: nothing to enforce
            async for chunk in self._cached_stream(ctx, response):
                yield chunk
            return
        enforcer = None
        if ctx is not None:
            try:
                enforcer = StreamEnforcer(self.rt, ctx, request_data)
            except Exception:
                self.rt.internal_error("stream_enforcer", ctx.call_id)
        if enforcer is None:
            async for chunk in response:
                yield chunk
            return
        async for chunk in enforcer.run(response):
            yield chunk

    async def _cached_stream(self, ctx: RequestContext, response: Any) -> AsyncGenerator[Any, None]:
        """A stream LiteLLM replays from its cache: passed through untouched; the request completes as
        a cache hit once its first chunk names the response it was cached from."""
        first = True
        async for chunk in response:
            if first:
                first = False
                try:
                    await self.rt.cache_hit(ctx, response_id(chunk))
                except Exception:
                    self.rt.internal_error("cache_hit", ctx.call_id)
            yield chunk
        if first:  # an empty replay
            try:
                await self.rt.cache_hit(ctx, None)
            except Exception:
                self.rt.internal_error("cache_hit", ctx.call_id)

    # ------------------------------------------------------------------ non-streaming results
    async def async_post_call_success_deployment_hook(self, request_data: dict, response: Any, call_type: Any) -> Any:
        """A non-streamed response arrived, before LiteLLM schedules its success event: its attempt
        ends here (a two-step first call is decided here too, so that event cannot complete it)."""
        call_id = request_data.get("litellm_call_id")
        ctx = self.rt.states.live(call_id)
        if ctx is None or ctx.stream:
            return None
        try:
            lc = ctx.lifecycle
            if ctx.is_escalation(call_id):
                counts = await self._engine_id_counts(ctx, response)
                if counts is None:
                    counts = count_full_response(response, trust_engine=_engine_counts(ctx))
                step = await lc.attempt_succeeded(*counts, call_id=str(call_id))
            elif ctx.is_continuation(call_id):
                answer = lc.answer_tokens + sum(count_full_response(response, trust_engine=_engine_counts(ctx)))
                step = await lc.attempt_succeeded(answer=answer, call_id=str(call_id))
            elif ctx.enforcement is Enforcement.STREAM:
                first = ctx.first_call = read_first_call(ctx, response)
                thinking, answer = first.ts.thinking_tokens, first.ts.answer_tokens
                step = await lc.attempt_succeeded(
                    thinking, answer, continues=first.needs_continuation, cut=first.thinking_open
                )
                if first.needs_continuation:  # a capped first call is no answer to cache
                    forbid_cache_store(request_data)
            else:
                counts = await self._engine_id_counts(ctx, response)
                if counts is None:
                    counts = count_full_response(response, trust_engine=_engine_counts(ctx))
                pending = pending_escalation(self.rt, ctx, response, counts[0])
                step = await lc.attempt_succeeded(*counts, escalates=pending is not None)
                ctx.pending_escalation = pending
            self.rt.completed(ctx, step)
            set_response_cost(response, lc.bill_for(str(call_id)).cost_usd)
        except Exception:
            self.rt.internal_error("post_call_success_deployment", ctx.call_id)
        return None

    async def _engine_id_counts(self, ctx: RequestContext, response: Any) -> tuple[int, int] | None:
        """(thinking, answer) from the token ids the engine returned with the response (exact), when
        it returned them and its thinking tags are single tokens; else None."""
        ids = response_token_ids(response)
        if not ids:
            return None
        tags = await self.rt.engines.tags(ctx)
        return engine_id_counts(response, ids, tags) if tags is not None else None

    async def async_post_call_success_hook(self, data: dict, user_api_key_dict: Any, response: Any) -> Any:
        """The proxy is about to answer: a two-step request whose first call was capped continues."""
        ctx = self.rt.states.live(data.get("litellm_call_id"))
        if ctx is not None and ctx.pending_escalation is not None:
            try:
                return await escalate(self.rt, ctx, data)
            except Exception:
                self.rt.end(ctx, ctx.lifecycle.escalation_ended(False))  # our bug: the first answer stands
                self.rt.internal_error("escalate", ctx.call_id)
                return None
        if ctx is None or ctx.stream or ctx.first_call is None or not ctx.first_call.needs_continuation:
            return None
        try:
            return await enforce_nonstream(self.rt, ctx, data, response)
        except Exception:
            self.rt.end(ctx, ctx.lifecycle.continuation_ended(False))  # our bug: record it as failed
            self.rt.internal_error("nonstream_enforce", ctx.call_id)
            return None

    # ------------------------------------------------------------------ headers
    async def async_post_call_response_headers_hook(
        self,
        data: dict,
        user_api_key_dict: Any,
        response: Any,
        request_headers: dict[str, str] | None = None,
        litellm_call_info: dict[str, Any] | None = None,
    ) -> dict[str, str] | None:
        ctx = self.rt.states.get(data.get("litellm_call_id"))
        if ctx is None:
            return None
        try:
            if response is not None and served_from_cache(response):
                if not ctx.stream:
                    await self.rt.cache_hit(ctx, response_id(response))
                return {
                    "X-ThinkBudget-Tier": ctx.decision.tier.value,
                    "X-ThinkBudget-Budget": str(ctx.decision.budget),
                    **cache_hit_headers(ctx.cache_saving),
                }
            headers = {
                "X-ThinkBudget-Tier": ctx.decision.tier.value,
                "X-ThinkBudget-Task": ctx.task.value,
                "X-ThinkBudget-Budget": str(ctx.decision.budget),
                "X-ThinkBudget-Budget-Scope": ctx.decision.scope.value,
                "X-ThinkBudget-Enforcement": ctx.enforcement.value,
            }
            if ctx.decision.client_control is not None:
                headers["X-ThinkBudget-Client-Control"] = ctx.decision.client_control.value
            if ctx.decision.exploration:
                headers["X-ThinkBudget-Exploration"] = "true"
            if ctx.route is not None:
                headers.update(ctx.route.headers())
            if ctx.escalation is not None and ctx.escalation.served:
                headers["X-ThinkBudget-Escalated"] = ctx.escalation.header()
            if not ctx.stream and response is not None:
                lc = ctx.lifecycle
                headers["X-ThinkBudget-Thinking-Tokens"] = str(lc.thinking_tokens)
                headers.update(energy_headers(lc.bill_so_far(), self.rt.carbon.g_per_kwh(ctx.deployment_id)))
            return headers
        except Exception:
            self.rt.internal_error("response_headers", ctx.call_id)
            return None

    # ------------------------------------------------------------------ cost and completion
    async def async_logging_hook(self, kwargs: dict, result: Any, call_type: str) -> tuple[dict, Any]:
        call_id = kwargs.get("litellm_call_id")
        ctx = self.rt.states.get(call_id)
        if ctx is not None:
            try:
                if logged_cache_hit(kwargs) and call_id == ctx.call_id:
                    await self.rt.cache_hit(ctx, response_id(result), litellm_saved_cache_cost(kwargs))
                await self.rt.apply_cost(ctx, kwargs, str(call_id))
                if call_id == ctx.call_id and not logged_cache_hit(kwargs):
                    self.rt.remember_original(ctx, response_id(result))
            except Exception:
                self.rt.internal_error("logging_hook", ctx.call_id)
        return kwargs, result

    async def async_log_success_event(self, kwargs: dict, response_obj: Any, start_time: Any, end_time: Any) -> None:
        """A success no other hook saw completes the request (a cache hit as one)."""
        call_id = kwargs.get("litellm_call_id")
        ctx = self.rt.states.live(call_id)
        if ctx is None:
            return
        try:
            if logged_cache_hit(kwargs):
                await self.rt.cache_hit(ctx, response_id(response_obj), litellm_saved_cache_cost(kwargs))
                return
            await ctx.ended()
            self.rt.completed(ctx, await ctx.lifecycle.attempt_succeeded(call_id=str(call_id)))
        except Exception:
            self.rt.internal_error("log_event", call_id)

    # No async_log_failure_event: LiteLLM sends it once per request, not per attempt, sometimes only
    # after a fallback started; attempts end in the deployment failure hook, requests in the proxy's.

    async def async_post_call_failure_deployment_hook(
        self, request_data: Any, exception: Exception, call_type: Any, fallback_depth: int | None = None
    ) -> None:
        """One deployment attempt failed (LiteLLM calls this for every attempt, before any retry)."""
        call_id = request_data.get("litellm_call_id")
        ctx = self.rt.states.live(call_id)
        if ctx is None:
            return
        try:
            await ctx.lifecycle.attempt_failed(str(call_id))
        except Exception:
            self.rt.internal_error("post_call_failure_deployment", ctx.call_id)

    async def async_post_call_failure_hook(
        self,
        request_data: dict,
        original_exception: Exception,
        user_api_key_dict: Any,
        traceback_str: str | None = None,
    ) -> Any:
        """The proxy is answering the client with an error: the request's record is final."""
        ctx = self.rt.states.live(request_data.get("litellm_call_id"))
        if ctx is not None:
            try:
                self.rt.end(ctx, ctx.lifecycle.request_failed())
            except Exception:
                self.rt.internal_error("post_call_failure", ctx.call_id)
        return None


def _call_type(call_type: Any) -> str:
    return str(getattr(call_type, "value", call_type))


def _engine_counts(ctx: RequestContext) -> bool:
    """The engine's own reasoning count is right unless the template pre-opens ``<think>``."""
    return not (ctx.deployment is not None and ctx.deployment.template_preopens_think)


def _priced(dep: DeploymentSettings) -> bool:
    return dep.gpu.cost_per_hour > 0 or dep.energy.price_per_kwh > 0


def _approx_prompt_tokens(messages: list[dict[str, Any]]) -> int:
    """A cheap prompt-size estimate for prefill weighting (about 4 characters per token)."""
    chars = 0
    for m in messages:
        content = m.get("content") if isinstance(m, dict) else None
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            chars += sum(len(p.get("text") or "") for p in content if isinstance(p, dict))
    return chars // 4 + 4 * len(messages)

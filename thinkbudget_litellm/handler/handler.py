"""The LiteLLM callback: wires classify -> policy -> enforce -> meter -> record, and nothing else.

LiteLLM finds ``async_pre_call_hook``, the streaming iterator hook and the response-headers hook only
when they are defined on the registered instance's own class (research notes §1.3, §10.1), so every
hook is defined here, on the leaf class. Every hook is fail-open: our own bug is logged with the call
id, counted in ``thinkbudget_errors_total`` and the request goes through unbudgeted, unless the
operator set ``thinkbudget.fail_closed: true``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from fastapi import HTTPException
from litellm.integrations.custom_logger import CustomLogger

from thinkbudget_litellm import metrics
from thinkbudget_litellm.classify import classify
from thinkbudget_litellm.enforce.native import (
    effective_thinking_budget,
    infer_engine,
    native_params,
    sane_max_tokens,
)
from thinkbudget_litellm.handler.records import gpu_cost
from thinkbudget_litellm.handler.request_view import (
    BUDGETED_CALL_TYPES,
    Caller,
    caller_from,
    deployment_info,
    drop_internal_markers,
    endpoint_refusal,
    pop_request_cap,
    prompt_messages,
    scope_layers,
)
from thinkbudget_litellm.handler.runtime import Runtime
from thinkbudget_litellm.handler.state import RequestState
from thinkbudget_litellm.handler.stream_enforcer import (
    StreamEnforcer,
    enforce_nonstream,
    read_first_call,
)
from thinkbudget_litellm.policy.budget import resolve_budget
from thinkbudget_litellm.settings import Enforcement, SettingsError

log = logging.getLogger("thinkbudget_litellm")


class ThinkBudgetHandler(CustomLogger):
    """Registered as ``litellm_settings.callbacks: ["thinkbudget_litellm.proxy_handler"]``."""

    def __init__(self, runtime: Runtime | None = None) -> None:
        super().__init__()
        self.rt = runtime or Runtime()

    # ------------------------------------------------------------------ request admission
    async def async_pre_call_hook(
        self, user_api_key_dict: Any, cache: Any, data: dict, call_type: Any
    ) -> dict | str | Exception | None:
        # Our own continuations are router calls: they never come through this proxy hook, so nothing
        # in a request that does may mark it as one (internal markers are dropped, not trusted).
        call_type = getattr(call_type, "value", call_type)
        if str(call_type) not in BUDGETED_CALL_TYPES:
            return data
        call_id = data.get("litellm_call_id")
        try:
            drop_internal_markers(data)
            await self.rt.ensure_started(cache)
            self.rt.sweep()
            caller = caller_from(user_api_key_dict, data)
            ledger_key = caller.session_ledger_key
            used = await self.rt.sessions.used(ledger_key) if ledger_key else None
            refusal = endpoint_refusal(str(call_type), data.get("model"), self.rt.group_enforcements(data.get("model")))
            if refusal is not None:
                raise SettingsError(refusal)
            self._admit(caller, data, used, str(call_type))
        except SettingsError as exc:
            raise HTTPException(status_code=400, detail={"error": f"thinkbudget: {exc}"}) from None
        except Exception:
            self._internal_error("pre_call", call_id)
        return data

    def _admit(self, caller: Caller, data: dict, session_used: int | None, call_type: str) -> RequestState:
        settings = self.rt.settings
        request_cap = pop_request_cap(data)
        layers = scope_layers(caller, settings)
        t0 = time.perf_counter()
        result = classify(prompt_messages(data, call_type))
        metrics.CLASSIFY_SECONDS.observe(time.perf_counter() - t0)
        decision = resolve_budget(
            result.tier,
            settings.budgets,
            layers,
            request_cap=request_cap,
            session_used=session_used,
            default_session_cap=settings.session_max_thinking_tokens,
        )
        state = RequestState(
            call_id=str(data.get("litellm_call_id") or ""),
            caller=caller,
            decision=decision,
            task=result.task,
            score=result.score,
            model_group=data.get("model"),
            stream=bool(data.get("stream")),
            started_monotonic=time.monotonic(),
        )
        if state.call_id and not self.rt.states.put(state):
            metrics.ERRORS.labels(hook="duplicate_call_id").inc()
            log.warning(
                "thinkbudget: the client reused litellm_call_id %s while it is in flight; LiteLLM's hooks "
                "for that id follow the first request",
                state.call_id,
            )
        metrics.BUDGET_TOKENS.labels(tier=decision.tier.value).observe(decision.budget)
        md = data.setdefault("metadata", {})
        if isinstance(md, dict):
            slm = md.get("spend_logs_metadata")
            slm = dict(slm) if isinstance(slm, Mapping) else {}
            slm.update(
                {
                    "thinkbudget_tier": decision.tier.value,
                    "thinkbudget_task": result.task.value,
                    "thinkbudget_budget": decision.budget,
                    "thinkbudget_budget_scope": decision.scope,
                }
            )
            md["spend_logs_metadata"] = slm
        return state

    # ------------------------------------------------------------------ per-deployment injection
    async def async_pre_call_deployment_hook(self, kwargs: dict, call_type: Any) -> dict | None:
        state = self.rt.states.live(kwargs.get("litellm_call_id"))
        if state is None:
            return None
        try:
            await self.rt.end_open_attempt(state)
        except Exception:
            self._internal_error("pre_call_deployment", state.call_id)
        if state.parent is not None:  # our own continuation call: meter it, inject nothing
            try:
                dep_id, model, info = deployment_info(kwargs)
                state.deployment_id, state.deployment_model = dep_id, model
                state.deployment = self.rt.deployment_settings(dep_id, info)
                state.prompt_tokens = _approx_prompt_tokens(prompt_messages(kwargs, _call_type(call_type)))
                self.rt.attempt_started(state)
            except Exception:
                self._internal_error("pre_call_deployment", state.call_id)
            return None
        try:
            dep_id, model, info = deployment_info(kwargs)
            dep = self.rt.deployment_settings(dep_id, info)
            state.deployment_id, state.deployment_model, state.deployment = dep_id, model, dep
            state.engine = dep.engine or infer_engine(model)
            state.enforcement = dep.enforcement
            budget = state.decision.budget
            reserve = self.rt.settings.answer_reserve_tokens
            if dep.enforcement is Enforcement.NATIVE:
                kwargs.update(
                    native_params(state.engine, budget, state.decision.tier, kwargs, frozenset(dep.no_thinking_tiers))
                )
                kwargs.update(sane_max_tokens(kwargs, effective_thinking_budget(state.engine, budget), reserve))
            elif dep.enforcement is Enforcement.STREAM and state.stream:
                kwargs.update(sane_max_tokens(kwargs, budget + dep.slack_tokens, reserve))
            elif dep.enforcement is Enforcement.STREAM:  # two-step: first call capped at the budget
                kwargs.pop("max_completion_tokens", None)
                kwargs["max_tokens"] = max(budget, 1)
            state.prompt_tokens = _approx_prompt_tokens(prompt_messages(kwargs, _call_type(call_type)))
            self.rt.attempt_started(state)
            metrics.REQUESTS.labels(
                team=state.caller.team_id or "",
                tier=state.decision.tier.value,
                model=state.model_group or "",
                enforcement=state.enforcement.value,
            ).inc()
            return kwargs
        except Exception:
            self._internal_error("pre_call_deployment", state.call_id)
            return None

    # ------------------------------------------------------------------ streaming
    async def async_post_call_streaming_iterator_hook(
        self, user_api_key_dict: Any, response: Any, request_data: dict
    ) -> AsyncGenerator[Any, None]:
        state = self.rt.states.live(request_data.get("litellm_call_id"))
        if state is None:
            async for chunk in response:
                yield chunk
            return
        try:
            enforcer = StreamEnforcer(self.rt, state, request_data)
        except Exception:
            self._internal_error("stream_enforcer", state.call_id)
            async for chunk in response:
                yield chunk
            return
        async for chunk in enforcer.run(response):
            yield chunk

    # ------------------------------------------------------------------ non-streaming two-step enforcement
    async def async_post_call_success_hook(self, data: dict, user_api_key_dict: Any, response: Any) -> Any:
        # live only: a request already complete (e.g. a cache hit, which skips the deployment hooks)
        # is not continued after its record was written
        state = self.rt.states.live(data.get("litellm_call_id"))
        if state is None or state.stream or state.enforcement is not Enforcement.STREAM:
            return None
        try:
            merged = await enforce_nonstream(self.rt, state, data, response)
            self.rt.settle(state)
            return merged
        except Exception:
            if state.awaiting_continuation and state.continuation_call_id is None:
                self.rt.continuation_failed(state, None)  # our bug before the continuation: record it
            self._internal_error("nonstream_enforce", state.call_id)
            return None

    # ------------------------------------------------------------------ non-streaming result
    async def async_post_call_success_deployment_hook(self, request_data: dict, response: Any, call_type: Any) -> Any:
        state = self.rt.states.live(request_data.get("litellm_call_id"))
        if state is None or state.stream:
            return None
        try:
            self.rt.observe_full_response(state, response)
            if state.enforcement is not Enforcement.STREAM:
                self.rt.settle(state)
            elif state.parent is None:
                # Decided here, before LiteLLM schedules its success event, so that event does not
                # complete the request while async_post_call_success_hook is about to continue it.
                first = read_first_call(state, response)
                state.extra["first_call"] = first
                state.awaiting_continuation = first.needs_continuation
            state.energy = await self.rt.meter_finished(state)
            cost = gpu_cost(state.energy, state.deployment)
            if cost is not None and hasattr(response, "_hidden_params"):
                response._hidden_params["response_cost"] = cost
        except Exception:
            self._internal_error("post_call_success_deployment", state.call_id)
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
        state = self.rt.states.get(data.get("litellm_call_id"))
        if state is None:
            return None
        try:
            headers = {
                "X-ThinkBudget-Tier": state.decision.tier.value,
                "X-ThinkBudget-Task": state.task.value,
                "X-ThinkBudget-Budget": str(state.decision.budget),
                "X-ThinkBudget-Budget-Scope": state.decision.scope,
                "X-ThinkBudget-Enforcement": state.enforcement.value,
            }
            if not state.stream and response is not None:
                headers["X-ThinkBudget-Thinking-Tokens"] = str(state.thinking_tokens)
                if state.energy is not None:
                    headers.update(self.rt.energy_headers(state.energy))
            return headers
        except Exception:
            self._internal_error("response_headers", state.call_id)
            return None

    # ------------------------------------------------------------------ cost and records
    async def async_logging_hook(self, kwargs: dict, result: Any, call_type: str) -> tuple[dict, Any]:
        state = self.rt.states.get(kwargs.get("litellm_call_id"))
        if state is None:
            return kwargs, result
        try:
            await self.rt.apply_cost(state, kwargs, result)
        except Exception:
            self._internal_error("logging_hook", state.call_id)
        return kwargs, result

    async def async_log_success_event(self, kwargs: dict, response_obj: Any, start_time: Any, end_time: Any) -> None:
        call_id = kwargs.get("litellm_call_id")
        state = self.rt.states.get(call_id)
        if state is None:
            return
        try:
            await self.rt.finish(state, kwargs, "success")
        except Exception:
            self._internal_error("log_event", call_id)

    # No async_log_failure_event: LiteLLM sends it once per request, not per attempt (see Runtime.finish);
    # attempts end in the deployment failure hook and requests in the proxy failure hook below.

    async def async_post_call_failure_deployment_hook(
        self, request_data: Any, exception: Exception, call_type: Any, fallback_depth: int | None = None
    ) -> None:
        """One deployment attempt failed (LiteLLM calls this for every attempt, before any retry)."""
        state = self.rt.states.live(request_data.get("litellm_call_id"))
        if state is None:
            return
        try:
            await self.rt.attempt_failed(state)
        except Exception:
            log.exception("thinkbudget internal error in post_call_failure_deployment (%s)", state.call_id)

    async def async_post_call_failure_hook(
        self,
        request_data: dict,
        original_exception: Exception,
        user_api_key_dict: Any,
        traceback_str: str | None = None,
    ) -> Any:
        """The proxy is answering the client with an error: the request's record is final."""
        state = self.rt.states.live(request_data.get("litellm_call_id"))
        if state is None:
            return None
        try:
            await self.rt.request_failed(state)
        except Exception:
            log.exception("thinkbudget internal error in post_call_failure (litellm_call_id=%s)", state.call_id)
        return None

    # ------------------------------------------------------------------ failure policy
    def _internal_error(self, hook: str, call_id: Any) -> None:
        self.rt.internal_error(hook, call_id)


def _call_type(call_type: Any) -> str:
    return str(getattr(call_type, "value", call_type))


def _approx_prompt_tokens(messages: Any) -> int:
    """A cheap prompt-size estimate for prefill weighting (about 4 characters per token)."""
    if not isinstance(messages, list):
        return 0
    chars = 0
    for m in messages:
        content = m.get("content") if isinstance(m, Mapping) else None
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            chars += sum(len(p.get("text") or "") for p in content if isinstance(p, Mapping))
    return chars // 4 + 4 * len(messages)

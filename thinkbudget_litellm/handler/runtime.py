"""Process-wide services the handler uses: settings, live request states, session ledger,
deployment settings, meter hub and record writer. Created lazily on the first request."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from fastapi import HTTPException

from thinkbudget_litellm import metrics
from thinkbudget_litellm.enforce.thinking_stream import ThinkingStream
from thinkbudget_litellm.enforce.token_count import count_tokens
from thinkbudget_litellm.handler.records import build_record, gpu_cost, spend_log_figures
from thinkbudget_litellm.handler.session_ledger import SessionLedger
from thinkbudget_litellm.handler.state import RequestState, StateStore
from thinkbudget_litellm.meter.hub import MeterHub, RequestEnergy
from thinkbudget_litellm.policy.config_file import load_settings
from thinkbudget_litellm.record.database_url import resolve_database_target
from thinkbudget_litellm.record.writer import RecordWriter
from thinkbudget_litellm.settings import (
    DeploymentSettings,
    Enforcement,
    SettingsError,
    ThinkBudgetSettings,
    parse_settings,
)

log = logging.getLogger("thinkbudget_litellm")


def _litellm_config_path() -> str | None:
    try:
        from litellm.proxy import proxy_server

        path = getattr(proxy_server, "user_config_file_path", None)
        return str(path) if path else None
    except Exception:  # pragma: no cover - proxy not importable
        return None


class Runtime:
    def __init__(self, settings: ThinkBudgetSettings | None = None) -> None:
        self._settings = settings
        self.states = StateStore()
        metrics.IN_FLIGHT.set_function(lambda: len(self.states))  # a leak shows here
        self.sessions = SessionLedger()
        self._deployments: dict[str, DeploymentSettings] = {}
        self._bad_deployments: set[str] = set()
        self._started = False
        self._start_lock = asyncio.Lock()
        self._tasks: set[asyncio.Future[Any]] = set()
        self.meter = MeterHub()
        self.writer: RecordWriter | None = None

    # ------------------------------------------------------------------ settings
    @property
    def settings(self) -> ThinkBudgetSettings:
        if self._settings is None:
            try:
                self._settings = load_settings(_litellm_config_path())
            except SettingsError:
                log.error("thinkbudget: invalid configuration; using defaults", exc_info=True)
                self._settings = ThinkBudgetSettings()
        return self._settings

    async def ensure_started(self, cache: Any) -> None:
        if self._started:
            return
        async with self._start_lock:
            if self._started:
                return
            settings = self.settings
            self.sessions.bind(cache, settings.session_ttl_s)
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
            self._started = True

    async def _configure_deployments(self) -> None:
        """Validate every deployment's thinkbudget block now (misconfiguration is reported at start,
        not per request) and take each meter's first reading."""
        try:
            model_list = self.router().get_model_list() or []
        except Exception:
            return
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
            try:
                self.meter.configure(deployment_id, dep)
            except Exception:
                log.error("thinkbudget: deployment %s energy settings unusable; not metered", key, exc_info=True)
        self._deployments[key] = dep
        return dep

    # ------------------------------------------------------------------ failure policy
    def internal_error(self, hook: str, call_id: Any) -> None:
        """Our own bug in ``hook``: logged and counted; the request goes on unless fail_closed is set."""
        metrics.ERRORS.labels(hook=hook).inc()
        log.exception("thinkbudget internal error in %s (litellm_call_id=%s)", hook, call_id)
        if self.settings.fail_closed:
            raise HTTPException(status_code=500, detail={"error": f"thinkbudget failed in {hook} (fail_closed)"})

    # ------------------------------------------------------------------ metering
    async def end_open_attempt(self, state: RequestState) -> None:
        """Before a new attempt: an entry still open belongs to an attempt that failed without a
        deployment failure hook (a stream that broke before its first chunk and went to a fallback)."""
        if state.attempt_open:
            await self.attempt_failed(state)

    def attempt_started(self, state: RequestState) -> None:
        """A deployment call of ``state`` starts (the first, a retry or a fallback)."""
        state.attempts += 1
        state.last_activity = time.monotonic()
        state.failed_at = None
        if state.deployment_id is not None:
            self.meter.request_started(state.call_id, state.deployment_id, state.prompt_tokens, streaming=state.stream)
            state.attempt_open = True

    def meter_tokens(self, state: RequestState, n: int) -> None:
        if n:
            self.meter.tokens_generated(state.call_id, n)

    async def meter_finished(self, state: RequestState) -> RequestEnergy | None:
        """Close the current attempt's meter entry. Concurrent callers share one result; None when no
        entry is open."""
        if state.closing is not None:
            result: RequestEnergy | None = await asyncio.shield(state.closing)
            return result
        if state.deployment_id is None or not state.attempt_open:
            return None
        state.attempt_open = False
        closing: asyncio.Future[RequestEnergy | None] = asyncio.get_running_loop().create_future()
        state.closing = closing
        energy: RequestEnergy | None = None
        try:
            completion = None if state.stream else state.thinking_tokens + state.answer_tokens
            energy = await self.meter.request_finished(state.call_id, completion_tokens=completion)
            dep = state.deployment
            if dep is not None and dep.energy.simulated and energy.joules is not None:
                energy = dataclasses.replace(energy, source=f"simulated({energy.source})")
            return energy
        finally:
            closing.set_result(energy)
            state.closing = None

    @staticmethod
    def energy_headers(energy: RequestEnergy) -> dict[str, str]:
        headers = {"X-ThinkBudget-Energy-Source": energy.source}
        if energy.joules is not None:
            headers["X-ThinkBudget-Energy-J"] = f"{energy.joules:.6g}"
        cost = energy.total_cost_usd
        if cost is not None:
            headers["X-ThinkBudget-Cost"] = f"{cost:.8g}"
        return headers

    # ------------------------------------------------------------------ observation
    def observe_full_response(self, state: RequestState, response: Any) -> None:
        """Thinking and answer tokens of a non-streamed response (engine usage, else counted)."""
        usage = getattr(response, "usage", None)
        details = getattr(usage, "completion_tokens_details", None)
        reasoning_tokens = getattr(details, "reasoning_tokens", None)
        completion = int(getattr(usage, "completion_tokens", None) or 0)
        choices = getattr(response, "choices", None) or []
        message = getattr(choices[0], "message", None) if choices else None
        reasoning = getattr(message, "reasoning_content", None) or ""
        # a text completion has no message: its thinking is inline in ``text``
        content = getattr(message, "content", None) or (getattr(choices[0], "text", None) if choices else None) or ""
        if reasoning_tokens is not None:
            state.thinking_tokens = int(reasoning_tokens)
            state.answer_tokens = max(completion - int(reasoning_tokens), 0)
            return
        ts = ThinkingStream(budget=10**9, counter=count_tokens)
        ts.feed(reasoning or None, content or None)
        ts.finish()
        state.thinking_tokens, state.answer_tokens = ts.thinking_tokens, ts.answer_tokens

    def settle(self, state: RequestState) -> None:
        """Count the request's thinking into its session once its thinking is final."""
        if state.settled:
            return
        state.settled = True
        session = state.caller.session_ledger_key
        if session and state.thinking_tokens:
            self.background(self.sessions.add(session, state.thinking_tokens))

    def background(self, coro: Any) -> None:
        """Run ``coro`` as a task of its own (outside the request's cancel scope), kept until done."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ continuations
    def router(self) -> Any:
        from litellm.proxy.proxy_server import llm_router

        if llm_router is None:
            raise RuntimeError("LiteLLM router is not initialised")
        return llm_router

    def begin_continuation(self, parent: RequestState, call_id: str) -> RequestState:
        child = RequestState(
            call_id=call_id,
            caller=parent.caller,
            decision=parent.decision,
            task=parent.task,
            score=parent.score,
            model_group=parent.model_group,
            stream=parent.stream,
            started_monotonic=time.monotonic(),
            enforcement=parent.enforcement,
            engine=parent.engine,
            parent=parent,
        )
        parent.continuation_call_id = call_id
        parent.continuation = child
        self.states.put(child)
        return child

    def continuation_failed(self, parent: RequestState, child: RequestState | None, status: str = "failure") -> None:
        """The continuation could not run or did not finish (``child`` None: it never started): the
        parent's record is written with ``status``, with whatever the continuation generated."""
        if child is not None and child.finished:
            return  # its own success event completed the parent
        parent.status = status
        parent.awaiting_continuation = False
        if child is not None:
            child.finished = True
            self.states.pop(child.call_id)
        self.background(self._complete(parent))  # which folds in what the continuation generated

    # ------------------------------------------------------------------ cost and finish
    async def apply_cost(self, state: RequestState, kwargs: dict, result: Any) -> None:
        """Make the GPU-derived cost LiteLLM's recorded cost (SpendLogs, key/team/user spend, budgets)
        and put our figures into ``spend_logs_metadata`` (the admin UI's request logs)."""
        if state.energy is None:
            state.energy = await self.meter_finished(state)
        energy: RequestEnergy | None = state.energy
        cost = gpu_cost(energy, state.deployment)
        if cost is not None:
            kwargs["response_cost"] = cost
            slo = kwargs.get("standard_logging_object")
            if isinstance(slo, dict):
                slo["response_cost"] = cost
        figures = spend_log_figures(state, energy, cost)
        for md in (
            (kwargs.get("litellm_params") or {}).get("metadata"),
            (kwargs.get("standard_logging_object") or {}).get("metadata"),
        ):
            if isinstance(md, dict):
                slm = md.get("spend_logs_metadata")
                slm = dict(slm) if isinstance(slm, Mapping) else {}
                slm.update(figures)
                md["spend_logs_metadata"] = slm

    async def finish(self, state: RequestState, kwargs: dict, status: str) -> None:
        """A LiteLLM success/failure event for one attempt of ``state``'s call.

        A failure event is not final and not per attempt: the router retries and falls back under
        the same call id, and LiteLLM sends the failure event once per request, for its first failed
        attempt, sometimes only after a fallback has started. Attempts end in the deployment failure
        hook (``attempt_failed``); the request ends on a success, the proxy's failure hook
        (``request_failed``) or the sweep. A cut request is complete once its continuation is; a
        continuation completes its parent."""
        if state.finished or status != "success":
            return
        if state.parent is not None:
            self.states.pop(state.call_id)
            state.finished = True
            parent = state.parent
            parent.answer_tokens = max(parent.answer_tokens, state.answer_tokens)
            parent.awaiting_continuation = False
            await self._complete(parent)
            return
        if state.awaiting_continuation:
            return  # the partial upstream was billed; wait for the continuation's event
        await self._complete(state)

    async def attempt_failed(self, state: RequestState) -> None:
        """The current attempt failed (LiteLLM's deployment failure hook; once per attempt)."""
        if state.last_failed_attempt == state.attempts:
            return
        state.last_failed_attempt = state.attempts
        now = time.monotonic()
        state.failed_attempts += 1
        state.failed_at = state.last_activity = now
        energy = await self.meter_finished(state)
        if energy is not None:
            state.attempt_energies.append(energy)

    def client_left(self, state: RequestState, grace_s: float = 10.0) -> None:
        """The client disconnected from a stream before any cut. LiteLLM bills what was generated with a
        success event when there was anything; otherwise no event comes, so close it after ``grace_s``."""
        if state.finished:
            return
        state.status = "cancelled"
        self.background(self._close_if_silent(state, grace_s))

    async def _close_if_silent(self, state: RequestState, grace_s: float) -> None:
        await asyncio.sleep(grace_s)
        if not state.finished and not state.awaiting_continuation:
            await self._complete(state)

    async def request_failed(self, state: RequestState) -> None:
        """The proxy gave the client an error for this request: that is final."""
        if state.finished:
            return
        state.status = "failure"
        state.awaiting_continuation = False
        await self.end_open_attempt(state)  # a stream that failed mid-way: unbilled, like other failures
        await self._complete(state)

    def sweep(self) -> None:
        """Close, with a record, live requests that will get no further event (cheap when not due)."""
        now = time.monotonic()
        if not self.states.sweep_due(now):
            return
        for state in self.states.stale(now):
            reason = "failed, no retry" if state.failed_at is not None and not state.attempt_open else "idle timeout"
            log.warning("thinkbudget: closing request %s (%s)", state.call_id, reason)
            state.extra["closed_by"] = reason
            if state.parent is not None:
                self.continuation_failed(state.parent, state)
            else:
                state.status = "failure"
                self.background(self._complete(state))

    async def _complete(self, state: RequestState) -> None:
        if state.finished:
            return
        state.finished = True
        self.states.pop(state.call_id)
        if state.energy is None and (state.attempt_open or state.closing is not None):
            state.energy = await self.meter_finished(state)  # every path closes the meter entry
        child = state.continuation
        if child is not None:  # fold in the continuation, however it ended
            if child.energy is None and (child.attempt_open or child.closing is not None):
                child.energy = await self.meter_finished(child)
            if child.energy is not None:
                state.extra["continuation_energy"] = child.energy
            state.attempt_energies.extend(child.attempt_energies)
            state.failed_attempts += child.failed_attempts
        self.settle(state)
        state.extra.setdefault("latency_ms", (time.monotonic() - state.started_monotonic) * 1000.0)
        labels = {
            "team": state.caller.team_id or "",
            "tier": state.decision.tier.value,
            "model": state.model_group or "",
        }
        metrics.THINKING_TOKENS.labels(**labels).inc(state.thinking_tokens)
        metrics.ANSWER_TOKENS.labels(**labels).inc(state.answer_tokens)
        if state.cut:
            metrics.CUTS.labels(**labels).inc()
        energies = [e for e in (state.energy, state.extra.get("continuation_energy")) if e is not None]
        if state.failed_attempts:
            # Failed attempts are not billed (LiteLLM records no spend for failures), but what the
            # meter attributed to them is kept in the record.
            state.extra["failed_attempts"] = state.failed_attempts
            failed_j = [e.joules for e in state.attempt_energies if e.joules is not None]
            failed_cost = [c for c in (gpu_cost(e, state.deployment) for e in state.attempt_energies) if c is not None]
            if failed_j:
                state.extra["failed_attempt_joules"] = sum(failed_j)
            if failed_cost:
                state.extra["failed_attempt_cost_usd"] = sum(failed_cost)
        joules = sum(e.joules for e in energies if e.joules is not None) if energies else None
        cost = sum(c for c in (gpu_cost(e, state.deployment) for e in energies) if c is not None) if energies else None
        if joules:
            metrics.ENERGY_JOULES.labels(**labels, source=energies[0].source).inc(joules)
        if cost:
            metrics.COST_USD.labels(**labels).inc(cost)
        if self.writer is not None:
            self.writer.submit(build_record(state, energies, self.settings))

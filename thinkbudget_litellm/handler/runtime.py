"""Process-wide services the handler uses: settings, live request states, session ledger,
deployment settings, meter hub and record writer. Created lazily on the first request."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from thinkbudget_litellm import metrics
from thinkbudget_litellm.enforce.thinking_stream import ThinkingStream
from thinkbudget_litellm.enforce.token_count import count_tokens
from thinkbudget_litellm.handler.session_ledger import SessionLedger
from thinkbudget_litellm.handler.state import RequestState, StateStore
from thinkbudget_litellm.policy.config_file import load_settings
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
        self.sessions = SessionLedger()
        self._deployments: dict[str, DeploymentSettings] = {}
        self._bad_deployments: set[str] = set()
        self._started = False
        self._start_lock = asyncio.Lock()
        self._tasks: set[asyncio.Future[Any]] = set()

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
            _ = self.settings
            self.sessions.bind(cache, self.settings.session_ttl_s)
            self._started = True

    def deployment_settings(
        self, deployment_id: str | None, model_info: Mapping[str, Any]
    ) -> DeploymentSettings:
        key = deployment_id or "?"
        cached = self._deployments.get(key)
        if cached is not None:
            return cached
        try:
            dep = parse_settings(
                DeploymentSettings, model_info.get("thinkbudget"), f"deployment {key} model_info.thinkbudget"
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
        self._deployments[key] = dep
        return dep

    # ------------------------------------------------------------------ metering
    def meter_started(self, state: RequestState) -> None:
        return None

    def meter_tokens(self, state: RequestState, n: int) -> None:
        return None

    async def meter_finished(self, state: RequestState) -> Any:
        return None

    def energy_headers(self, energy: Any) -> dict[str, str]:
        return {}

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
        content = getattr(message, "content", None) or ""
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
        session = state.caller.session_id
        if session and state.thinking_tokens:
            self._background(self.sessions.add(session, state.thinking_tokens))

    def _background(self, coro: Any) -> None:
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
        self.states.put(child)
        return child

    def continuation_failed(self, parent: RequestState, child: RequestState) -> None:
        """The continuation could not run: the parent's record is written with status failure."""
        parent.status = "failure"
        parent.awaiting_continuation = False
        if self.states.get(child.call_id) is child and child.energy is None:
            self.states.pop(child.call_id)
            self._background(self._complete(parent))

    # ------------------------------------------------------------------ cost and finish
    async def apply_cost(self, state: RequestState, kwargs: dict, result: Any) -> None:
        if state.energy is None and (state.stream or state.parent is not None):
            state.energy = await self.meter_finished(state)
        md = (kwargs.get("litellm_params") or {}).get("metadata")
        if isinstance(md, dict):
            slm = md.get("spend_logs_metadata")
            slm = dict(slm) if isinstance(slm, Mapping) else {}
            slm.update(
                {
                    "thinkbudget_tier": state.decision.tier.value,
                    "thinkbudget_budget": state.decision.budget,
                    "thinkbudget_thinking_tokens": state.thinking_tokens,
                    "thinkbudget_cut": state.cut,
                }
            )
            md["spend_logs_metadata"] = slm

    async def finish(self, state: RequestState, kwargs: dict, status: str) -> None:
        """A LiteLLM success/failure event for ``state``'s call. A cut request is complete once its
        continuation is; a continuation completes its parent."""
        if state.finished:
            return
        if status != "success":
            state.status = "failure"
        if state.parent is not None:
            self.states.pop(state.call_id)
            state.finished = True
            parent = state.parent
            parent.answer_tokens = max(parent.answer_tokens, state.answer_tokens)
            parent.awaiting_continuation = False
            parent.extra["continuation_energy"] = state.energy
            if status != "success":
                parent.status = "failure"
            await self._complete(parent)
            return
        if state.awaiting_continuation:
            return  # the partial upstream was billed; wait for the continuation's event
        await self._complete(state)

    async def _complete(self, state: RequestState) -> None:
        if state.finished:
            return
        state.finished = True
        self.states.pop(state.call_id)
        self.settle(state)
        labels = {
            "team": state.caller.team_id or "",
            "tier": state.decision.tier.value,
            "model": state.model_group or "",
        }
        metrics.THINKING_TOKENS.labels(**labels).inc(state.thinking_tokens)
        metrics.ANSWER_TOKENS.labels(**labels).inc(state.answer_tokens)
        if state.cut:
            metrics.CUTS.labels(**labels).inc()

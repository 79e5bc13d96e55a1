"""Process-wide services the handler uses: settings, live request states, session ledger,
deployment settings, meter hub and record writer. Created lazily on the first request."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from thinkbudget_litellm import metrics
from thinkbudget_litellm.handler.session_ledger import SessionLedger
from thinkbudget_litellm.handler.state import RequestState, StateStore
from thinkbudget_litellm.policy.config_file import load_settings
from thinkbudget_litellm.settings import (
    DeploymentSettings,
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

    def deployment_settings(self, deployment_id: str | None, model_info: Mapping[str, Any]) -> DeploymentSettings:
        key = deployment_id or "?"
        cached = self._deployments.get(key)
        if cached is not None:
            return cached
        try:
            dep = parse_settings(DeploymentSettings, model_info.get("thinkbudget"), f"deployment {key} model_info.thinkbudget")
            dep = dep if "thinkbudget" in model_info else dep.model_copy(
                update={"enforcement": self.settings.default_enforcement}
            )
        except SettingsError:
            if key not in self._bad_deployments:
                self._bad_deployments.add(key)
                log.error("thinkbudget: invalid deployment settings, enforcement off for it", exc_info=True)
            dep = DeploymentSettings(enforcement=_off())
        self._deployments[key] = dep
        return dep

    # ------------------------------------------------------------------ metering
    def meter_started(self, state: RequestState) -> None:
        return None

    async def meter_finished(self, state: RequestState) -> Any:
        return None

    def energy_headers(self, energy: Any) -> dict[str, str]:
        return {}

    # ------------------------------------------------------------------ observation
    def stream_observer(self, state: RequestState) -> Any:
        return _CountingObserver(state)

    def observe_full_response(self, state: RequestState, response: Any) -> None:
        usage = getattr(response, "usage", None)
        details = getattr(usage, "completion_tokens_details", None)
        reasoning = getattr(details, "reasoning_tokens", None)
        completion = getattr(usage, "completion_tokens", None) or 0
        if reasoning is not None:
            state.thinking_tokens = int(reasoning)
            state.answer_tokens = max(int(completion) - int(reasoning), 0)

    # ------------------------------------------------------------------ cost and finish
    async def apply_cost(self, state: RequestState, kwargs: dict, result: Any) -> None:
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
        labels = {"team": state.caller.team_id or "", "tier": state.decision.tier.value, "model": state.model_group or ""}
        metrics.THINKING_TOKENS.labels(**labels).inc(state.thinking_tokens)
        metrics.ANSWER_TOKENS.labels(**labels).inc(state.answer_tokens)
        if state.caller.session_id and state.thinking_tokens:
            await self.sessions.add(state.caller.session_id, state.thinking_tokens)
        state.finished = True
        _ = time.monotonic()


def _off() -> Any:
    from thinkbudget_litellm.settings import Enforcement

    return Enforcement.OFF


class _CountingObserver:
    def __init__(self, state: RequestState) -> None:
        self.state = state

    def observe(self, chunk: Any) -> None:
        for choice in getattr(chunk, "choices", None) or []:
            delta = getattr(choice, "delta", None)
            if delta is None:
                continue
            if getattr(delta, "reasoning_content", None):
                self.state.thinking_tokens += 1
            elif getattr(delta, "content", None):
                self.state.answer_tokens += 1

"""Put the dashboard on the running LiteLLM proxy (called when LiteLLM loads our callback)."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from thinkbudget_litellm.dashboard.access import Viewer, viewer_for
from thinkbudget_litellm.dashboard.routes import UI_PATH, DashboardServices, build_router
from thinkbudget_litellm.handler import litellm_io
from thinkbudget_litellm.handler.runtime import Runtime
from thinkbudget_litellm.record.database_url import resolve_database_target
from thinkbudget_litellm.record.engine import create_engine

log = logging.getLogger("thinkbudget_litellm")


def viewer_of(auth: Any) -> Viewer | None:
    is_admin, team_id = litellm_io.auth_scope(auth)
    return viewer_for(is_admin, team_id)


def services_for(rt: Runtime) -> DashboardServices:
    """The dashboard's view of the proxy: its records database (an engine of its own, made on first
    use), the runtime's meters and settings."""
    engine: list[AsyncEngine] = []
    lock = asyncio.Lock()

    def target_display() -> str:
        return resolve_database_target(os.environ, rt.settings.database_url).display

    async def get_engine() -> AsyncEngine:
        async with lock:
            if not engine:
                engine.append(create_engine(resolve_database_target(os.environ, rt.settings.database_url)))
            return engine[0]

    return DashboardServices(
        engine=get_engine,
        meter_snapshot=rt.meter.snapshot,
        deployment_names=litellm_io.deployment_names,
        budgets=lambda: rt.settings.budgets,
        database_label=target_display,
    )


def install_dashboard(rt: Runtime) -> bool:
    """Mount the dashboard on the LiteLLM proxy this process is (False elsewhere, or when mounted)."""
    if not litellm_io.proxy_app_loaded():
        return False
    try:
        router = build_router(services_for(rt), litellm_io.proxy_auth_dependency(), viewer_of)
        mounted = litellm_io.mount_router(router, UI_PATH)
    except Exception:
        log.exception("thinkbudget: the dashboard could not be mounted; the proxy runs without it")
        return False
    if mounted:
        log.info("thinkbudget: dashboard at %s", UI_PATH)
    return mounted

"""The dashboard's FastAPI router: the page under ``/thinkbudget/ui``, JSON under ``/thinkbudget/api``.

The page and its scripts carry no data and need no key (a browser cannot send a bearer token when it
opens a URL); every ``/thinkbudget/api`` endpoint runs behind the auth dependency it is given, which
in the proxy is LiteLLM's own ``user_api_key_auth`` (virtual keys, the master key, custom_auth,
JWT: whatever the proxy is set up with). Charts use the plotly.js that the ``plotly`` wheel ships
(the ``dashboard`` extra): served from here, never from a CDN; without it the page says how to
install it and shows everything but the charts.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from thinkbudget_litellm.classify import classify
from thinkbudget_litellm.dashboard import queries
from thinkbudget_litellm.dashboard.access import Viewer, team_filter
from thinkbudget_litellm.dashboard.power import PowerTracker
from thinkbudget_litellm.dashboard.store import fetch_rows
from thinkbudget_litellm.meter.hub import DeploymentMeterSnapshot
from thinkbudget_litellm.record.period import parse_since
from thinkbudget_litellm.tiers import Tier

PREFIX = "/thinkbudget"
UI_PATH = f"{PREFIX}/ui"
INSTALL_PLOTLY = "pip install 'thinkbudget-litellm[dashboard]'"
MAX_CLASSIFY_CHARS = 100_000


def plotly_js_path() -> Path | None:
    """``plotly.min.js`` inside the installed plotly wheel (None without plotly); plotly is not imported."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


def _static(name: str) -> str:
    return resources.files("thinkbudget_litellm.dashboard").joinpath("static", name).read_text(encoding="utf-8")


def page_html(plotly_available: bool) -> str:
    """The page, with plotly's script when it is installed, else the line that installs it."""
    script, notice = "", ""
    if plotly_available:
        script = f'<script src="{UI_PATH}/plotly.min.js"></script>'
    else:
        notice = (
            '<p class="notice" id="no-plotly">Charts need plotly: install it where the proxy runs with '
            f"<code>{INSTALL_PLOTLY}</code> and restart the proxy.</p>"
        )
    return _static("index.html").replace("<!--CHARTS-->", script).replace("<!--NOTICE-->", notice)


@dataclass
class DashboardServices:
    """What the router reads: the records database, this instance's meters, the tier budgets."""

    engine: Callable[[], Awaitable[AsyncEngine]]
    meter_snapshot: Callable[[], Mapping[str, DeploymentMeterSnapshot]]
    deployment_names: Callable[[], Mapping[str, str]]
    budgets: Callable[[], Mapping[Tier, int]]
    database_label: Callable[[], str]
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    monotonic: Callable[[], float] = time.monotonic
    power: PowerTracker = field(default_factory=PowerTracker)


@dataclass(frozen=True, slots=True)
class _Window:
    since: datetime
    until: datetime
    team: str | None
    key: str | None
    model: str | None


def build_router(
    services: DashboardServices,
    auth: Callable[..., Any],
    viewer_of: Callable[[Any], Viewer | None],
) -> APIRouter:
    """``auth``: the FastAPI dependency that authenticates a request; ``viewer_of``: its result's scope."""
    router = APIRouter(prefix=PREFIX, tags=["thinkbudget"])

    async def viewer(identity: Any = Depends(auth)) -> Viewer:  # noqa: B008 - FastAPI's way
        found = viewer_of(identity)
        if found is None:
            raise HTTPException(
                status_code=401,
                detail={"error": "thinkbudget dashboard: use the master key (or an admin's) or a team's key"},
            )
        return found

    def window(who: Viewer, since: str, team: str | None, key: str | None, model: str | None) -> _Window:
        now = services.now()
        try:
            start = parse_since(since, now)
        except ValueError as exc:
            raise HTTPException(status_code=400, detail={"error": f"since: {exc}"}) from None
        try:
            scoped_team = team_filter(who, team or None)
        except PermissionError as exc:
            raise HTTPException(status_code=403, detail={"error": str(exc)}) from None
        return _Window(start, now, scoped_team, key or None, model or None)

    async def rows(w: _Window) -> list[queries.Row]:
        engine = await services.engine()
        return await fetch_rows(engine, w.since, w.until, team=w.team, key=w.key, model=w.model)

    # ------------------------------------------------------------------ the page (no data, no key)
    @router.get("/ui", include_in_schema=False)
    async def ui() -> HTMLResponse:
        return HTMLResponse(page_html(plotly_js_path() is not None), headers={"Cache-Control": "no-store"})

    @router.get("/ui/dashboard.js", include_in_schema=False)
    async def ui_script() -> Response:
        return Response(_static("dashboard.js"), media_type="text/javascript")

    @router.get("/ui/dashboard.css", include_in_schema=False)
    async def ui_style() -> Response:
        return Response(_static("dashboard.css"), media_type="text/css")

    @router.get("/ui/plotly.min.js", include_in_schema=False)
    async def ui_plotly() -> Response:
        path = plotly_js_path()
        if path is None:
            return JSONResponse({"error": f"plotly is not installed: {INSTALL_PLOTLY}"}, status_code=404)
        return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    # ------------------------------------------------------------------ JSON (behind the proxy's auth)
    @router.get("/api/whoami")
    async def whoami(who: Viewer = Depends(viewer)) -> dict[str, Any]:  # noqa: B008
        return {"scope": who.label, "team": who.team_id, "all_teams": who.sees_all}

    @router.get("/api/stats")
    async def stats(
        who: Viewer = Depends(viewer),  # noqa: B008
        since: str = Query("24h"),
        team: str | None = None,
        key: str | None = None,
        model: str | None = None,
    ) -> dict[str, Any]:
        w = window(who, since, team, key, model)
        found = await rows(w)
        # the filter menus list what the viewer may pick in the period, whatever is selected now
        options = await rows(_Window(w.since, w.until, w.team if not who.sees_all else None, None, None))
        return {
            "scope": who.label,
            "since": w.since.isoformat(),
            "until": w.until.isoformat(),
            "database": services.database_label(),
            "summary": queries.summary(found),
            "options": queries.filter_options(options),
            "key_labels": queries.key_labels(options),
        }

    @router.get("/api/history")
    async def history(
        who: Viewer = Depends(viewer),  # noqa: B008
        since: str = Query("24h"),
        by: queries.GroupBy = queries.GroupBy.TEAM,
        team: str | None = None,
        key: str | None = None,
        model: str | None = None,
    ) -> dict[str, Any]:
        w = window(who, since, team, key, model)
        return queries.history(await rows(w), by, w.since, w.until)

    @router.get("/api/requests")
    async def recent(
        who: Viewer = Depends(viewer),  # noqa: B008
        since: str = Query("24h"),
        team: str | None = None,
        key: str | None = None,
        model: str | None = None,
        limit: int = Query(50, ge=1, le=500),
    ) -> dict[str, Any]:
        w = window(who, since, team, key, model)
        return {"requests": queries.feed(await rows(w), limit)}

    @router.get("/api/gpu")
    async def gpu(who: Viewer = Depends(viewer)) -> dict[str, Any]:  # noqa: B008
        return {
            "time": services.now().isoformat(),
            "deployments": services.power.update(
                services.monotonic(), services.meter_snapshot(), services.deployment_names()
            ),
            "note": "this proxy instance's meters; energy is metered per deployment (GPU), not per team",
        }

    @router.post("/api/classify")
    async def classify_prompt(request: Request, who: Viewer = Depends(viewer)) -> dict[str, Any]:  # noqa: B008
        try:
            body = await request.json()
        except ValueError:
            raise HTTPException(status_code=400, detail={"error": "body: expected JSON"}) from None
        text = body.get("text") if isinstance(body, dict) else None
        messages = body.get("messages") if isinstance(body, dict) else None
        if isinstance(text, str) and text.strip():
            prompt: Any = text
        elif isinstance(messages, list) and messages:
            prompt = messages
        else:
            raise HTTPException(status_code=400, detail={"error": "body: give text (a string) or messages (a list)"})
        if len(str(prompt)) > MAX_CLASSIFY_CHARS:
            raise HTTPException(status_code=413, detail={"error": f"prompt over {MAX_CLASSIFY_CHARS} characters"})
        started = time.perf_counter()
        result = await asyncio.to_thread(classify, prompt)  # pure and local: no model is called
        elapsed_us = (time.perf_counter() - started) * 1e6
        return {
            "tier": result.tier.value,
            "task": result.task.value,
            "budget": services.budgets().get(result.tier),
            "score": result.score,
            "reasons": list(result.reasons),
            "features": dict(result.features),
            "elapsed_us": elapsed_us,
            "note": "the proxy's tier budget; a key's or team's metadata may lower or raise it",
        }

    return router

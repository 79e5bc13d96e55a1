"""The dashboard's router in-process (FastAPI's TestClient, an SQLite records database written by
the real writer): scope per caller, filters, bad input, classify, the page with and without plotly.
Auth is a stand-in dependency here; the proxy tests use LiteLLM's own (tests/dashboard/test_dashboard_proxy.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Header, HTTPException
from fastapi.testclient import TestClient

from tests.record.record_builders import make_record
from thinkbudget_litellm.dashboard import routes
from thinkbudget_litellm.dashboard.access import Viewer, viewer_for
from thinkbudget_litellm.dashboard.routes import DashboardServices, build_router
from thinkbudget_litellm.meter.hub import MeterHub
from thinkbudget_litellm.record.database_url import clean_database_url
from thinkbudget_litellm.record.engine import create_engine
from thinkbudget_litellm.record.migrate import upgrade_database
from thinkbudget_litellm.record.writer import RecordWriter
from thinkbudget_litellm.tiers import DEFAULT_BUDGETS

KEYS = {"admin": (True, None), "team-a": (False, "team-a"), "team-b": (False, "team-b"), "loner": (False, None)}


async def fake_auth(authorization: str | None = Header(default=None)) -> tuple[bool, str | None]:
    token = (authorization or "").removeprefix("Bearer ").strip()
    if token not in KEYS:
        raise HTTPException(status_code=401, detail={"error": "no such key"})
    return KEYS[token]


def fake_viewer(auth: tuple[bool, str | None]) -> Viewer | None:
    return viewer_for(*auth)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    target = clean_database_url(f"sqlite:///{tmp_path / 'records.sqlite'}")
    now = datetime.now(UTC)

    async def fill() -> None:
        await upgrade_database(target)
        writer = RecordWriter(target, spool_dir=tmp_path / "spool")
        await writer.start()
        for n in range(6):
            writer.submit(
                make_record(
                    n,
                    created_at=now - timedelta(minutes=n),
                    team_id="team-a" if n % 2 == 0 else "team-b",
                    model_group="r1" if n < 3 else "r2",
                    api_key_hash=f"hash-{n % 2}",
                )
            )
        writer.submit(make_record(99, created_at=now - timedelta(days=3), team_id="team-a"))
        assert await writer.wait_idle(30)
        await writer.stop()

    asyncio.run(fill())
    engine_holder: list[Any] = []

    async def engine() -> Any:
        if not engine_holder:
            engine_holder.append(create_engine(target))
        return engine_holder[0]

    services = DashboardServices(
        engine=engine,
        meter_snapshot=MeterHub().snapshot,
        deployment_names=dict,
        budgets=lambda: DEFAULT_BUDGETS,
        database_label=lambda: target.display,
    )
    app = FastAPI()
    app.include_router(build_router(services, fake_auth, fake_viewer))
    with TestClient(app) as test_client:
        yield test_client


def get(client: TestClient, path: str, key: str | None) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.get(path, headers=headers)


@pytest.mark.parametrize("path", ["/thinkbudget/api/stats", "/thinkbudget/api/requests", "/thinkbudget/api/gpu"])
@pytest.mark.parametrize("key", [None, "nope", "loner"])
def test_no_key_a_wrong_key_or_a_teamless_key_is_401(client: TestClient, path: str, key: str | None) -> None:
    assert get(client, path, key).status_code == 401


def test_the_admin_sees_every_team_and_a_team_key_only_its_own(client: TestClient) -> None:
    admin = get(client, "/thinkbudget/api/requests?since=1h", "admin").json()["requests"]
    assert {r["team"] for r in admin} == {"team-a", "team-b"} and len(admin) == 6
    team_a = get(client, "/thinkbudget/api/requests?since=1h", "team-a").json()["requests"]
    assert {r["team"] for r in team_a} == {"team-a"} and len(team_a) == 3
    stats = get(client, "/thinkbudget/api/stats?since=1h", "team-b").json()
    assert stats["summary"]["requests"] == 3 and stats["options"]["teams"] == ["team-b"]
    assert get(client, "/thinkbudget/api/stats?team=team-a", "team-b").status_code == 403


def test_filters_and_period(client: TestClient) -> None:
    assert get(client, "/thinkbudget/api/stats?since=1h&model=r2", "admin").json()["summary"]["requests"] == 3
    assert get(client, "/thinkbudget/api/stats?since=1h&key=hash-0", "admin").json()["summary"]["requests"] == 3
    assert get(client, "/thinkbudget/api/stats?since=7d", "admin").json()["summary"]["requests"] == 7
    history = get(client, "/thinkbudget/api/history?since=1h&by=model", "admin").json()
    assert set(history["groups"]) == {"r1", "r2"}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/thinkbudget/api/stats?since=yesterday", 400),
        ("/thinkbudget/api/history?by=colour", 422),
        ("/thinkbudget/api/requests?limit=0", 422),
    ],
)
def test_bad_input_is_a_4xx_naming_it(client: TestClient, path: str, status: int) -> None:
    response = get(client, path, "admin")
    assert response.status_code == status
    assert response.json()["detail"]


def test_classify_shows_tier_task_budget_and_features(client: TestClient) -> None:
    response = client.post(
        "/thinkbudget/api/classify",
        json={"text": "Prove that there are infinitely many primes of the form 4k+3."},
        headers={"Authorization": "Bearer team-a"},
    )
    body = response.json()
    assert response.status_code == 200, body
    assert body["tier"] in {t.value for t in DEFAULT_BUDGETS}
    assert body["budget"] == DEFAULT_BUDGETS[next(t for t in DEFAULT_BUDGETS if t.value == body["tier"])]
    assert body["features"] and body["reasons"]
    bad = client.post("/thinkbudget/api/classify", json={"text": ""}, headers={"Authorization": "Bearer team-a"})
    assert bad.status_code == 400
    assert client.post("/thinkbudget/api/classify", json={"text": "hi"}).status_code == 401


def test_the_page_needs_no_key_and_serves_plotly_from_its_wheel(client: TestClient) -> None:
    page = client.get("/thinkbudget/ui")
    assert page.status_code == 200 and "/thinkbudget/ui/dashboard.js" in page.text
    assert client.get("/thinkbudget/ui/dashboard.js").status_code == 200
    if routes.plotly_js_path() is None:
        pytest.skip("plotly is not installed here (the dashboard extra)")
    assert "/thinkbudget/ui/plotly.min.js" in page.text
    script = client.get("/thinkbudget/ui/plotly.min.js")
    assert script.status_code == 200 and len(script.content) > 1_000_000


def test_without_plotly_the_page_says_how_to_install_it(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routes, "plotly_js_path", lambda: None)
    page = client.get("/thinkbudget/ui").text
    assert "plotly.min.js" not in page and routes.INSTALL_PLOTLY in page
    assert client.get("/thinkbudget/ui/plotly.min.js").status_code == 404

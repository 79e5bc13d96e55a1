"""Calibration over a real records database (SQLite): the `calibrate` command and a proxy's refresh
read the same rows and agree; censored rows, exploration rows and the window are read as intended."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.record.record_builders import write_sqlite_records
from thinkbudget_litellm.calibrate.budgets import AdaptivePolicy
from thinkbudget_litellm.calibrate.proposal import CellKey
from thinkbudget_litellm.calibrate.refresher import AdaptiveRefresher, aligned_window
from thinkbudget_litellm.cli.app import app
from thinkbudget_litellm.policy.budget import BudgetScope
from thinkbudget_litellm.record import RequestRecord
from thinkbudget_litellm.record.database_url import clean_database_url
from thinkbudget_litellm.settings import AdaptiveSettings
from thinkbudget_litellm.tiers import DEFAULT_BUDGETS, Task, Tier

NOW = datetime.now(UTC)


def record(n: int, thinking: int, *, cut: bool = False, exploration: bool = False, age_h: float = 1.0, **kw):
    fields = dict(
        litellm_call_id=f"c-{n}",
        created_at=NOW - timedelta(hours=age_h),
        model_group="m",
        tier="moderate",
        task="math",
        budget=400 if not exploration else 800,
        budget_scope="tier",
        enforcement="stream",
        status="cut" if cut else "success",
        thinking_tokens=thinking,
        cut=cut,
        exploration=exploration,
        cost_usd=0.01,
    )
    fields.update(kw)
    return RequestRecord(**fields)


def records() -> list[RequestRecord]:
    out = [record(i, 100 + 10 * i) for i in range(20)]  # 100..290 finished
    out += [record(100 + i, 400, cut=True) for i in range(5)]  # 5 cut at the budget
    out += [record(200, 650, exploration=True), record(201, 800, cut=True, exploration=True)]
    out += [record(300 + i, 5000, age_h=24 * 30) for i in range(50)]  # outside the window
    out += [record(400 + i, 50, status="failure") for i in range(50)]  # says nothing
    return out


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "records.sqlite"
    write_sqlite_records(path, records(), tmp_path / "spool")
    return path


def test_calibrate_json_reads_censoring_exploration_and_the_window(db: Path) -> None:
    result = CliRunner().invoke(
        app, ["calibrate", "--url", f"sqlite:///{db}", "--since", "7d", "--min-samples", "10", "--json"]
    )
    assert result.exit_code == 0, (result.output, result.exception)
    out = json.loads(result.output)
    cells = {c["cell"]: c for c in out["cells"]}
    cell = cells["m/moderate/math"]
    assert cell["samples"] == 27 and cell["censored_share"] == pytest.approx(6 / 27)
    assert cell["current_budget"] == 400  # the latest non-exploration record's
    assert cell["explorations"] == 2 and cell["exploration_extra_tokens"] == 250 + 400
    assert cell["exploration_cost_usd"] == pytest.approx(0.02)
    # KM: S = 7/27 after 290, halved at 650 (2 at risk: the exploration requests): 0.13 > 0.1, so the
    # 0.9 quantile lies beyond the data: growth past 650, at most 800 (largest censoring point) x 2
    assert cell["source"] == "growth" and 650 < cell["proposed_budget"] <= 1600
    assert cell["over_budget_now"] == pytest.approx(7 / 27)
    assert cells["m/moderate/*"]["proposed_budget"] == cell["proposed_budget"]


def test_calibrate_table_and_png(db: Path, tmp_path: Path) -> None:
    png = tmp_path / "cal.png"
    result = CliRunner().invoke(
        app, ["calibrate", "--url", f"sqlite:///{db}", "--min-samples", "10", "--png", str(png)]
    )
    assert result.exit_code == 0, (result.output, result.exception)
    assert "m/moderate/math" in result.output and png.read_bytes().startswith(b"\x89PNG")


def test_calibrate_refuses_a_bad_since(db: Path) -> None:
    result = CliRunner().invoke(app, ["calibrate", "--url", f"sqlite:///{db}", "--since", "soon"])
    assert result.exit_code != 0 and "--since" in result.output


def test_two_refreshers_on_the_same_rows_agree_and_match_the_cli(db: Path) -> None:
    settings = AdaptiveSettings(enabled=True, min_samples=10, refresh_s=60, window_s=7 * 86400, explore_seed="x")
    target = clean_database_url(f"sqlite:///{db}")
    a, b = AdaptivePolicy(settings), AdaptivePolicy(settings)
    clock_a = lambda: NOW  # noqa: E731
    clock_b = lambda: NOW + timedelta(seconds=59 - NOW.second % 60)  # noqa: E731  same period, later
    assert aligned_window(clock_a(), 60, 1)[1] == aligned_window(clock_b(), 60, 1)[1]
    asyncio.run(AdaptiveRefresher(a, DEFAULT_BUDGETS, target, clock_a).refresh_once())
    asyncio.run(AdaptiveRefresher(b, DEFAULT_BUDGETS, target, clock_b).refresh_once())
    assert a.table.budgets == b.table.budgets and a.table.budgets
    budget, scope = a.start("m", Tier.MODERATE, Task.MATH, 512)
    assert scope is BudgetScope.ADAPTIVE and 650 < budget <= 1600
    assert a.table.budgets[CellKey("m", Tier.MODERATE)] == budget

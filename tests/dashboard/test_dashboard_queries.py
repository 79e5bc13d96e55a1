"""The dashboard's figures out of record rows (pure): feed, history buckets, savings, tier mix, scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from thinkbudget_litellm.dashboard.access import team_filter, viewer_for
from thinkbudget_litellm.dashboard.queries import GroupBy, Row, bucket_size, feed, filter_options, history, summary

T0 = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)


def row(n: int, **kw: object) -> Row:
    values: dict[str, object] = {"litellm_call_id": f"c{n}", "created_at": T0 + timedelta(minutes=n)}
    values.update(kw)
    return Row(**values)  # type: ignore[arg-type]


ROWS = [
    row(
        0,
        team_id="a",
        tier="trivial",
        thinking_tokens=30,
        baseline_thinking_tokens=400,
        energy_j=10.0,
        cost_usd=0.001,
        co2e_g=0.001,
        model_group="r1",
    ),
    row(
        1,
        team_id="a",
        tier="deep",
        thinking_tokens=2000,
        baseline_thinking_tokens=5000,
        cut=True,
        status="cut",
        energy_j=300.0,
        cost_usd=0.02,
        model_group="r1",
    ),
    row(2, team_id="b", tier="simple", thinking_tokens=100, energy_j=None, cost_usd=None, model_group="r2"),
    row(
        3,
        team_id="b",
        tier="simple",
        status="cache_hit",
        energy_j=0.0,
        cost_usd=0.0,
        co2e_g=0.0,
        extra={"cache_saving": {"source": "original_request", "cost_usd": 0.004}},
        model_group="r2",
    ),
    row(4, team_id=None, tier="simple", status="failure", model_group="r2"),
]


def test_summary_counts_saving_against_the_baseline_only_where_there_is_one() -> None:
    s = summary(ROWS)
    assert s["requests"] == 5 and s["thinking_tokens"] == 2130
    assert s["baseline_thinking_tokens"] == 5400 and s["tokens_saved"] == 5400 - 2030
    assert s["saved_fraction"] == pytest.approx(3370 / 5400)
    assert s["energy_j"] == pytest.approx(310.0) and s["cost_usd"] == pytest.approx(0.021)
    assert s["co2e_g"] == pytest.approx(0.001)
    assert s["cut_requests"] == 1 and s["cut_rate"] == pytest.approx(1 / 4)  # failures are not answers
    assert s["cache_hits"] == 1 and s["cache_saved_usd"] == pytest.approx(0.004)
    assert s["tier_mix"] == {"deep": 1, "simple": 3, "trivial": 1}
    last = s["cumulative_saving"][-1]
    assert last["tokens_saved"] == 3370 and last["cache_saved_usd"] == pytest.approx(0.004)


def test_summary_of_nothing_is_unknown_not_zero() -> None:
    s = summary([])
    assert s["requests"] == 0 and s["tokens_saved"] is None and s["cost_usd"] is None and s["cut_rate"] is None


def test_feed_is_newest_first_and_limited() -> None:
    out = feed(ROWS, limit=3)
    assert [r["call_id"] for r in out] == ["c4", "c3", "c2"]
    assert out[1]["status"] == "cache_hit" and out[1]["cache_saved_usd"] == 0.004
    assert out[0]["time"].endswith("Z")


@pytest.mark.parametrize(
    ("span", "width"),
    [
        (timedelta(minutes=15), timedelta(minutes=1)),
        (timedelta(hours=24), timedelta(minutes=15)),
        (timedelta(days=7), timedelta(hours=2)),
        (timedelta(days=30), timedelta(days=1)),
    ],
)
def test_bucket_size(span: timedelta, width: timedelta) -> None:
    assert bucket_size(T0, T0 + span) == width


def test_history_sums_each_metric_per_bucket_and_group() -> None:
    h = history(ROWS, GroupBy.TEAM, T0, T0 + timedelta(minutes=10))
    assert h["bucket_s"] == 60 and len(h["buckets"]) == 11
    a = h["groups"]["a"]
    assert a["thinking_tokens"][:3] == [30.0, 2000.0, None]
    assert h["groups"]["b"]["energy_j"][2] is None  # unknown, not zero
    assert h["groups"]["b"]["energy_j"][3] == 0.0  # a cache hit: known zero
    assert set(h["groups"]) == {"a", "b", "(no team)"}
    by_tier = history(ROWS, GroupBy.TIER, T0, T0 + timedelta(minutes=10))
    assert by_tier["groups"]["simple"]["thinking_tokens"][2] == 100.0


def test_rows_outside_the_period_are_left_out() -> None:
    h = history(ROWS, GroupBy.MODEL, T0 + timedelta(minutes=2), T0 + timedelta(minutes=3))
    assert set(h["groups"]) == {"r2"}


def test_row_from_a_database_mapping() -> None:
    r = Row.from_mapping(
        {
            "litellm_call_id": "x",
            "created_at": "2027-01-10 12:00:00",
            "thinking_tokens": None,
            "cut": None,
            "status": None,
            "extra": None,
        }
    )
    assert r.created_at.tzinfo is UTC and r.thinking_tokens == 0 and r.cut is False and r.status == "success"


def test_filter_options() -> None:
    assert filter_options(ROWS) == {"teams": ["a", "b"], "keys": [], "models": ["r1", "r2"]}


@pytest.mark.parametrize(
    ("admin", "team", "requested", "allowed"),
    [
        (True, None, None, None),
        (True, None, "b", "b"),
        (False, "a", None, "a"),
        (False, "a", "a", "a"),
        (True, "a", None, None),
    ],
)
def test_scope(admin: bool, team: str | None, requested: str | None, allowed: str | None) -> None:
    viewer = viewer_for(admin, team)
    assert viewer is not None and team_filter(viewer, requested) == allowed


def test_a_team_cannot_ask_for_another_team_and_a_keyless_caller_sees_nothing() -> None:
    viewer = viewer_for(False, "a")
    assert viewer is not None
    with pytest.raises(PermissionError, match="team 'a' only"):
        team_filter(viewer, "b")
    assert viewer_for(False, None) is None

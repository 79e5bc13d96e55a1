"""Issues: GPU cost as LiteLLM's own spend, and records in LiteLLM's Postgres, end to end."""

from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa

from tests.e2e.test_stream_enforcement import _post

pytestmark = pytest.mark.proxy


def _records(e2e, call_ids, wait_s=10.0):
    """Our rows for ``call_ids`` (the proxy writes them in the background)."""
    url = e2e.database_url.replace("+asyncpg", "+psycopg").replace("+aiosqlite", "")
    table = "thinkbudget.request_records" if url.startswith("postgresql") else "request_records"
    engine = sa.create_engine(url)
    deadline = time.monotonic() + wait_s
    try:
        while True:
            with engine.connect() as conn:
                rows = (
                    conn.execute(
                        sa.text(f"SELECT * FROM {table} WHERE litellm_call_id IN :ids").bindparams(
                            sa.bindparam("ids", expanding=True)
                        ),
                        {"ids": list(call_ids)},
                    )
                    .mappings()
                    .all()
                )
            if len(rows) >= len(call_ids) or time.monotonic() > deadline:
                return {r["litellm_call_id"]: dict(r) for r in rows}
            time.sleep(0.1)
    finally:
        engine.dispose()


def test_nonstream_gpu_cost_is_litellms_cost(e2e):
    r = _post(e2e, "r1-native", False, natural=400)
    assert r.status_code == 200, r.text
    cost = float(r.headers["x-thinkbudget-cost"])
    assert "x-thinkbudget-energy-j" in r.headers, str({k: v for k, v in r.headers.items() if "thinkbudget" in k})
    energy = float(r.headers["x-thinkbudget-energy-j"])
    assert cost > 0 and energy > 0
    assert r.headers["x-thinkbudget-energy-source"].startswith("simulated(measured:dcgm")
    assert float(r.headers["x-litellm-response-cost"]) == pytest.approx(cost)
    [ev] = e2e.events(r.headers["x-litellm-call-id"])
    assert ev["response_cost"] == pytest.approx(cost) and ev["slo_response_cost"] == pytest.approx(cost)
    payload = ev["spend_log_payload"]
    assert payload["spend"] == pytest.approx(cost), payload  # what LiteLLM writes to LiteLLM_SpendLogs.spend
    md = payload["metadata"] if isinstance(payload["metadata"], dict) else json.loads(payload["metadata"])
    slm = md.get("spend_logs_metadata") or {}
    assert slm["thinkbudget_energy_j"] == pytest.approx(energy, rel=1e-3)
    assert slm["thinkbudget_tier"] == r.headers["x-thinkbudget-tier"]


def test_stream_gpu_cost_reaches_litellm_and_records(e2e):
    r = _post(e2e, "r1-native", True, natural=400)
    assert r.status_code == 200
    call_id = r.headers["x-litellm-call-id"]
    [ev] = e2e.events(call_id)
    rows = _records(e2e, [call_id])
    row = rows[call_id]
    assert row["cost_usd"] == pytest.approx(ev["response_cost"])
    assert ev["spend_log_payload"]["spend"] == pytest.approx(row["cost_usd"])
    assert (row["energy_j"] or 0) > 0 and row["energy_source"].startswith("simulated("), row
    assert row["thinking_tokens"] > 0 and row["tier"] == r.headers["x-thinkbudget-tier"]


def test_gpu_cost_exhausts_key_budget(e2e):
    """A key whose max_budget our GPU cost exhausts is refused, as LiteLLM refuses DB-backed keys.

    LiteLLM's own token-price estimate for these requests (~1e-4 USD each) would need ~200 requests.
    """
    statuses, costs = [], []
    for _ in range(12):
        r = _post(e2e, "r1-pricey", False, key="sk-tiny-budget", natural=300)
        statuses.append(r.status_code)
        if r.status_code != 200:
            assert "budget" in r.text.lower(), r.text
            break
        costs.append(float(r.headers["x-thinkbudget-cost"]))
        time.sleep(0.3)  # LiteLLM's success logging (which accumulates spend) runs after the response
    assert statuses[-1] != 200, (statuses, costs)
    assert sum(costs) >= 0.02 and len(costs) < 12


def test_cut_request_is_one_record_linked_to_its_continuation(e2e):
    r = _post(e2e, "r1-inline-stream", True, key="sk-team-a", natural=2000)
    assert r.status_code == 200
    call_id = r.headers["x-litellm-call-id"]
    row = _records(e2e, [call_id])[call_id]
    assert row["cut"] is True or row["cut"] == 1
    assert row["continuation_call_id"]
    assert row["team_id"] == "team-a" and row["key_alias"] == "team-a-key"
    assert row["thinking_tokens"] <= row["budget"] and row["answer_tokens"] > 0
    assert row["status"] == "cut" and row["enforcement"] == "stream"
    assert row["energy_j"] > 0


def test_records_join_litellm_keys_teams_and_spend(e2e):
    if e2e.pg is None:
        pytest.skip("no PostgreSQL server binaries here: records went to SQLite, LiteLLM's tables are absent")
    calls = []
    for key in ("sk-team-a", "sk-plain"):
        r = _post(e2e, "r1-native", False, key=key, natural=300)
        calls.append(r.headers["x-litellm-call-id"])
    r = _post(e2e, "r1-inline-stream", True, key="sk-team-a", natural=2000)
    calls.append(r.headers["x-litellm-call-id"])
    rows = _records(e2e, calls)
    assert set(rows) == set(calls)
    # emulate LiteLLM's spend writer: insert the payloads LiteLLM built into its own SpendLogs table
    events = [ev for ev in e2e.events(wait_s=2) if ev["status"] == "success"]
    for ev in events:
        p = ev["spend_log_payload"]
        if p.get("request_id") is None:
            continue
        e2e.pg.run_sql(
            'INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, "startTime", "endTime", '
            f"team_id, litellm_call_id) VALUES ('{p['request_id']}-{p['litellm_call_id']}', '{p['call_type']}', "
            f"'{p['api_key']}', {p['spend']}, '{p['startTime']}', '{p['endTime']}', "
            f"'{p.get('team_id') or ''}', '{p['litellm_call_id']}') ON CONFLICT DO NOTHING;",
            e2e.pg_db,
        )
    out = e2e.pg.run_sql(
        "SELECT litellm_call_id, team_alias, key_alias, cut, cost_usd, litellm_spend_usd "
        "FROM thinkbudget.request_records_enriched WHERE litellm_call_id IN "
        f"({', '.join(repr(c) for c in calls)}) ORDER BY created_at",
        e2e.pg_db,
    )
    lines = [ln.split("|") for ln in out.strip().splitlines()]
    assert len(lines) == 3, out
    by_id = {ln[0]: ln for ln in lines}
    assert by_id[calls[0]][1] == "Team A" and by_id[calls[0]][2] == "team-a-key"
    assert by_id[calls[1]][2] == "plain"
    cut = by_id[calls[2]]
    assert cut[3] == "t"
    # LiteLLM's spend for the cut request covers both calls (the partial and the continuation)
    assert float(cut[5]) > 0 and float(cut[5]) == pytest.approx(float(cut[4]), rel=0.05)
    daily = e2e.pg.run_sql(
        "SELECT team_alias, requests, thinking_tokens, energy_j > 0, cost_usd > 0 FROM thinkbudget.usage_daily "
        "WHERE team_id = 'team-a'",
        e2e.pg_db,
    )
    assert daily.startswith("Team A|"), daily

"""Reporting views that join our records with LiteLLM's keys, teams and spend (Postgres only).

LiteLLM's tables are reached through small ``LANGUAGE sql`` set-returning functions instead of
directly. Postgres inlines them into the calling query (so LiteLLM's indexes are used), but does not
record a dependency on LiteLLM's tables: LiteLLM's own migrations may alter, rename or rebuild
``"LiteLLM_SpendLogs"`` (e.g. to partition it) without being blocked by our views, and the views
follow the rebuilt table. A view then fails at query time if a column it reads disappeared.

Objects (all in schema ``thinkbudget``):

* ``litellm_keys()``, ``litellm_teams()``, ``litellm_spend_logs()``: the LiteLLM columns we read.
* ``request_records_enriched``: one row per record, with ``team_alias``, ``key_alias`` (LiteLLM's,
  else ours), the resolved ``team_id``, ``tokens_saved`` and LiteLLM's ``litellm_spend_usd``.
* ``usage_daily``: per UTC day, team and key: requests, thinking/answer/prompt tokens, baseline
  thinking tokens and tokens saved (over requests with a known baseline), energy (J and kWh), grams
  CO2e, cache hits, our cost and LiteLLM's spend.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from thinkbudget_litellm.record.models import SCHEMA, TABLE

LITELLM_TABLES: tuple[str, ...] = ("LiteLLM_SpendLogs", "LiteLLM_VerificationToken", "LiteLLM_TeamTable")
VIEW_NAMES: tuple[str, ...] = ("usage_daily", "request_records_enriched")
FUNCTION_NAMES: tuple[str, ...] = ("litellm_keys", "litellm_teams", "litellm_spend_logs")


@dataclass(frozen=True, slots=True)
class ViewsOutcome:
    created: bool
    message: str


def quote_ident(name: str) -> str:
    """A Postgres identifier, double-quoted (handles embedded quotes)."""
    return '"' + name.replace('"', '""') + '"'


def view_statements(litellm_schema: str = "public") -> list[str]:
    """The DDL that (re)creates our functions and views, in order. Pure."""
    ls = quote_ident(litellm_schema)
    s = quote_ident(SCHEMA)
    drops = [f"DROP VIEW IF EXISTS {s}.{quote_ident(v)}" for v in VIEW_NAMES]
    drops += [f"DROP FUNCTION IF EXISTS {s}.{quote_ident(f)}()" for f in FUNCTION_NAMES]
    functions = [
        f"""CREATE FUNCTION {s}.litellm_keys()
RETURNS TABLE (token text, key_alias text, team_id text)
LANGUAGE sql STABLE AS $fn$
  SELECT token::text, key_alias::text, team_id::text FROM {ls}."LiteLLM_VerificationToken"
$fn$""",
        f"""CREATE FUNCTION {s}.litellm_teams()
RETURNS TABLE (team_id text, team_alias text)
LANGUAGE sql STABLE AS $fn$
  SELECT team_id::text, team_alias::text FROM {ls}."LiteLLM_TeamTable"
$fn$""",
        f"""CREATE FUNCTION {s}.litellm_spend_logs()
RETURNS TABLE (litellm_call_id text, spend double precision)
LANGUAGE sql STABLE AS $fn$
  SELECT litellm_call_id::text, spend::double precision FROM {ls}."LiteLLM_SpendLogs"
$fn$""",
    ]
    enriched = f"""CREATE VIEW {s}.request_records_enriched AS
SELECT
  r.id, r.litellm_call_id, r.created_at, r.recorded_at,
  r.api_key_hash,
  COALESCE(k.key_alias, r.key_alias) AS key_alias,
  COALESCE(r.team_id, k.team_id) AS team_id,
  t.team_alias,
  r.user_id, r.end_user, r.session_id, r.model_group, r.deployment,
  r.tier, r.task, r.budget, r.budget_scope, r.enforcement, r.status,
  r.thinking_tokens, r.answer_tokens, r.prompt_tokens, r.cut, r.continuation_call_id,
  r.baseline_thinking_tokens,
  r.baseline_thinking_tokens - r.thinking_tokens AS tokens_saved,
  r.energy_j, r.energy_source, r.co2e_g, r.gpu_seconds, r.cost_usd, r.latency_ms,
  r.route, r.route_reason, r.estimated_cost_usd, r.budget_remaining_usd, r.baseline_cost_usd,
  sl.spend AS litellm_spend_usd,
  r.extra
FROM {s}.{quote_ident(TABLE)} r
LEFT JOIN {s}.litellm_keys() k ON k.token = r.api_key_hash
LEFT JOIN {s}.litellm_teams() t ON t.team_id = COALESCE(r.team_id, k.team_id)
LEFT JOIN LATERAL (
  SELECT sum(x.spend) AS spend FROM {s}.litellm_spend_logs() x
  WHERE x.litellm_call_id = r.litellm_call_id OR x.litellm_call_id = r.continuation_call_id
) sl ON true"""
    daily = f"""CREATE VIEW {s}.usage_daily AS
SELECT
  (e.created_at AT TIME ZONE 'UTC')::date AS day,
  e.team_id,
  max(e.team_alias) AS team_alias,
  e.api_key_hash,
  max(e.key_alias) AS key_alias,
  count(*) AS requests,
  sum(e.thinking_tokens) AS thinking_tokens,
  sum(e.answer_tokens) AS answer_tokens,
  sum(e.prompt_tokens) AS prompt_tokens,
  count(e.baseline_thinking_tokens) AS requests_with_baseline,
  sum(e.baseline_thinking_tokens) AS baseline_thinking_tokens,
  sum(e.tokens_saved) AS tokens_saved,
  count(*) FILTER (WHERE e.cut) AS cut_requests,
  sum(e.energy_j) AS energy_j,
  sum(e.energy_j) / 3600000.0 AS energy_kwh,
  sum(e.co2e_g) AS co2e_g,
  count(*) FILTER (WHERE e.status = 'cache_hit') AS cache_hits,
  sum(e.cost_usd) AS cost_usd,
  sum(e.litellm_spend_usd) AS litellm_spend_usd
FROM {s}.request_records_enriched e
GROUP BY 1, e.team_id, e.api_key_hash"""
    return [*drops, *functions, enriched, daily]


async def missing_litellm_tables(conn: AsyncConnection, litellm_schema: str = "public") -> list[str]:
    """LiteLLM tables the views need that do not exist (yet) in ``litellm_schema``."""
    missing = []
    for table in LITELLM_TABLES:
        qualified = f"{quote_ident(litellm_schema)}.{quote_ident(table)}"
        found = (await conn.execute(text("SELECT to_regclass(:name)"), {"name": qualified})).scalar()
        if found is None:
            missing.append(table)
    return missing


async def install_views(conn: AsyncConnection, litellm_schema: str = "public") -> ViewsOutcome:
    """(Re)create the views inside the caller's transaction, if LiteLLM's tables are there."""
    if conn.dialect.name != "postgresql":
        return ViewsOutcome(False, f"views skipped: {conn.dialect.name} has no LiteLLM tables (Postgres only)")
    missing = await missing_litellm_tables(conn, litellm_schema)
    if missing:
        return ViewsOutcome(
            False,
            f"views skipped: LiteLLM tables not found in schema {litellm_schema!r} ({', '.join(missing)}); "
            "start the LiteLLM proxy with this database once, "
            "then run `thinkbudget-litellm db upgrade` again",
        )
    for statement in view_statements(litellm_schema):
        await conn.execute(text(statement))
    return ViewsOutcome(
        True,
        f"views {SCHEMA}.request_records_enriched and {SCHEMA}.usage_daily joined with LiteLLM's tables "
        f"in schema {litellm_schema!r}",
    )

"""Emulated LiteLLM virtual keys and teams for a proxy running without LiteLLM's database.

LiteLLM's DB mode needs Prisma engine binaries, so demos and tests run the proxy DB-less and plug
this module in as ``general_settings.custom_auth``. Keys come from a YAML/JSON file named by
``$THINKBUDGET_EMULATED_KEYS``::

    sk-team-a-key:
      key_alias: team-a-key
      team_id: team-a
      team_alias: Team A
      metadata: {thinkbudget: {max_thinking_tokens: 512}}
      team_metadata: {thinkbudget: {budgets: {deep: 4096}}}
      max_budget: 1.0          # USD
      user_id: alice

Without a DB, ``custom_auth_run_common_checks`` never compares a key's spend with its
``max_budget`` (research notes §10.6). So, as LiteLLM does for DB-backed keys, the auth function
runs LiteLLM's own ``virtual_key_max_budget_check`` on the spend accumulated from the cost LiteLLM
recorded: ``spend_tracker`` (register it under ``litellm_settings.callbacks``) adds each success
event's ``standard_logging_object.response_cost`` to the key's spend. The master key is the
proxy admin, as with LiteLLM's own auth.
"""

from __future__ import annotations

import json
import os
import secrets
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml
from fastapi import HTTPException, Request
from litellm.integrations.custom_logger import CustomLogger
from litellm.proxy._types import LitellmUserRoles, UserAPIKeyAuth, hash_token

KEYS_ENV = "THINKBUDGET_EMULATED_KEYS"

_FIELDS = (
    "key_alias",
    "team_id",
    "team_alias",
    "user_id",
    "metadata",
    "team_metadata",
    "max_budget",
    "team_max_budget",
    "end_user_id",
)


class _KeyFile:
    def __init__(self) -> None:
        self._path: Path | None = None
        self._mtime = -1.0
        self._keys: dict[str, dict[str, Any]] = {}

    def get(self, raw_key: str) -> dict[str, Any] | None:
        path = os.environ.get(KEYS_ENV)
        if not path:
            return None
        p = Path(path)
        mtime = p.stat().st_mtime
        if p != self._path or mtime != self._mtime:
            text = p.read_text(encoding="utf-8")
            doc = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
            self._keys = {str(k): dict(v or {}) for k, v in (doc or {}).items()}
            self._path, self._mtime = p, mtime
        return self._keys.get(raw_key)


_key_file = _KeyFile()
key_spend: defaultdict[str, float] = defaultdict(float)  # hashed token -> USD recorded by LiteLLM
team_spend: defaultdict[str, float] = defaultdict(float)


def _is_master_key(api_key: str) -> bool:
    from litellm.proxy import proxy_server

    master = proxy_server.master_key
    return bool(master) and secrets.compare_digest(str(master), api_key)


async def user_api_key_auth(request: Request, api_key: str | None) -> UserAPIKeyAuth:
    if not api_key:
        raise HTTPException(status_code=401, detail={"error": "no API key"})
    if _is_master_key(api_key):
        # As LiteLLM's own auth does: the master key is the proxy admin.
        return UserAPIKeyAuth(api_key=hash_token(api_key), user_role=LitellmUserRoles.PROXY_ADMIN)
    entry = _key_file.get(api_key)
    if entry is None:
        raise HTTPException(status_code=401, detail={"error": "unknown API key"})
    token = hash_token(api_key)
    fields = {k: entry[k] for k in _FIELDS if k in entry}
    team_id = fields.get("team_id")
    obj = UserAPIKeyAuth(
        api_key=token,
        token=token,
        spend=float(entry.get("spend", 0.0)) + key_spend[token],
        team_spend=float(entry.get("team_spend", 0.0)) + (team_spend[team_id] if team_id else 0.0),
        **fields,
    )
    from litellm.proxy.auth.auth_checks import virtual_key_max_budget_check
    from litellm.proxy.proxy_server import proxy_logging_obj

    await virtual_key_max_budget_check(valid_token=obj, proxy_logging_obj=proxy_logging_obj)
    return obj


class SpendTracker(CustomLogger):
    """Accumulates the cost LiteLLM recorded per emulated key and team."""

    async def async_log_success_event(self, kwargs: dict, response_obj: Any, start_time: Any, end_time: Any) -> None:
        slo = kwargs.get("standard_logging_object") or {}
        cost = slo.get("response_cost") or 0.0
        md = slo.get("metadata") or {}
        token = md.get("user_api_key_hash")
        if token:
            key_spend[token] += float(cost)
        team = md.get("user_api_key_team_id")
        if team:
            team_spend[team] += float(cost)


spend_tracker = SpendTracker()

"""Read plain values out of LiteLLM's request objects (``UserAPIKeyAuth``, request ``data``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from thinkbudget_litellm.settings import (
    RequestOverrides,
    ScopeOverrides,
    SettingsError,
    ThinkBudgetSettings,
    parse_settings,
)

NAMESPACE = "thinkbudget"
REQUEST_CAP_HEADER = "x-thinkbudget-max-thinking-tokens"


@dataclass(frozen=True, slots=True)
class Caller:
    api_key_hash: str | None
    key_alias: str | None
    team_id: str | None
    user_id: str | None
    end_user: str | None
    session_id: str | None
    key_metadata: Mapping[str, Any]
    team_metadata: Mapping[str, Any]


def caller_from(auth: Any, data: Mapping[str, Any]) -> Caller:
    """The caller as LiteLLM authenticated it (``auth`` is a ``UserAPIKeyAuth``)."""
    metadata = data.get("metadata") if isinstance(data.get("metadata"), Mapping) else {}
    assert isinstance(metadata, Mapping)
    end_user = getattr(auth, "end_user_id", None) or data.get("user")
    session = data.get("litellm_session_id") or metadata.get("session_id")
    return Caller(
        api_key_hash=getattr(auth, "api_key", None) or getattr(auth, "token", None),
        key_alias=getattr(auth, "key_alias", None),
        team_id=getattr(auth, "team_id", None),
        user_id=getattr(auth, "user_id", None),
        end_user=str(end_user) if end_user is not None else None,
        session_id=str(session) if session else None,
        key_metadata=_mapping(getattr(auth, "metadata", None)),
        team_metadata=_mapping(getattr(auth, "team_metadata", None)),
    )


def scope_layers(caller: Caller, settings: ThinkBudgetSettings) -> list[tuple[str, ScopeOverrides]]:
    """Override layers from broadest (team) to narrowest (end user). Raises SettingsError naming the field."""
    layers: list[tuple[str, ScopeOverrides]] = []
    if NAMESPACE in caller.team_metadata:
        where = f"team {caller.team_id or '?'} metadata.{NAMESPACE}"
        layers.append(("team", parse_settings(ScopeOverrides, caller.team_metadata[NAMESPACE], where)))
    if NAMESPACE in caller.key_metadata:
        where = f"key {caller.key_alias or '?'} metadata.{NAMESPACE}"
        layers.append(("key", parse_settings(ScopeOverrides, caller.key_metadata[NAMESPACE], where)))
    if caller.user_id is not None and caller.user_id in settings.users:
        layers.append(("user", settings.users[caller.user_id]))
    if caller.end_user is not None and caller.end_user in settings.end_users:
        layers.append(("end_user", settings.end_users[caller.end_user]))
    return layers


def pop_request_cap(data: dict[str, Any]) -> int | None:
    """The caller's own per-request cap: body ``thinkbudget.max_thinking_tokens`` or the header.

    The body field is removed so it never reaches the engine. Raises SettingsError on a bad value.
    """
    caps: list[int] = []
    body = data.pop(NAMESPACE, None)
    if body is not None:
        parsed = parse_settings(RequestOverrides, body, f"request {NAMESPACE}")
        if parsed.max_thinking_tokens is not None:
            caps.append(parsed.max_thinking_tokens)
    headers = _mapping(_mapping(data.get("proxy_server_request")).get("headers"))
    for name, value in headers.items():
        if str(name).lower() == REQUEST_CAP_HEADER:
            try:
                n = int(str(value).strip())
            except ValueError:
                raise SettingsError(f"header {REQUEST_CAP_HEADER}: expected an integer, got {value!r}") from None
            if n < 0:
                raise SettingsError(f"header {REQUEST_CAP_HEADER}: must be >= 0, got {n}")
            caps.append(n)
    return min(caps) if caps else None


def deployment_info(kwargs: Mapping[str, Any]) -> tuple[str | None, str | None, Mapping[str, Any]]:
    """(deployment id, litellm model, model_info) of the deployment the router picked."""
    for bucket in ("metadata", "litellm_metadata"):
        md = kwargs.get(bucket)
        if isinstance(md, Mapping) and isinstance(md.get("model_info"), Mapping):
            info = md["model_info"]
            return (
                str(info["id"]) if info.get("id") is not None else None,
                md.get("deployment") or kwargs.get("model"),
                info,
            )
    info = _mapping(kwargs.get("model_info"))
    return (str(info["id"]) if info.get("id") is not None else None, kwargs.get("model"), info)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}

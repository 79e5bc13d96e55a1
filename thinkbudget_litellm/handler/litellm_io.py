"""The one module that reads and writes LiteLLM's raw structures: ``UserAPIKeyAuth``, request
``data`` (``proxy_server_request``, ``metadata``/``litellm_metadata``), deployment kwargs, logging
kwargs (``response_cost``, ``standard_logging_object``), a response's ``_hidden_params``, the
proxy's router and config path. Everything else in the package sees plain values."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litellm.types.utils import Usage

from thinkbudget_litellm.enforce.engine_client import EngineEndpoint
from thinkbudget_litellm.policy.budget import BudgetScope, Layers
from thinkbudget_litellm.policy.client_controls import CONTROL_FIELDS
from thinkbudget_litellm.routing.budget_left import BudgetLimit, LimitScope
from thinkbudget_litellm.settings import (
    Enforcement,
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
    budget_limits: tuple[BudgetLimit, ...] = ()  # LiteLLM's max/soft budgets and spend, for the guard

    @property
    def session_ledger_key(self) -> str | None:
        """The session's key in the cumulative ledger, namespaced by the authenticated team (else
        key): a session id is the client's word, so another team's caller naming it can neither use
        up this team's allowance nor be limited by it."""
        if not self.session_id:
            return None
        owner = f"team:{self.team_id}" if self.team_id else f"key:{self.api_key_hash or '-'}"
        digest = hashlib.sha256(f"{owner}\x00{self.session_id}".encode("utf-8", "surrogatepass")).hexdigest()
        return digest[:40]


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
        budget_limits=budget_limits(auth),
    )


# (scope, limit field, spend field, soft) on UserAPIKeyAuth; LiteLLM carries no end user's spend there
_BUDGET_FIELDS = (
    (LimitScope.KEY, "max_budget", "spend", False),
    (LimitScope.KEY, "soft_budget", "spend", True),
    (LimitScope.TEAM, "team_max_budget", "team_spend", False),
    (LimitScope.TEAM, "team_soft_budget", "team_spend", True),
    (LimitScope.USER, "user_max_budget", "user_spend", False),
    (LimitScope.END_USER, "end_user_max_budget", None, False),
)


def budget_limits(auth: Any) -> tuple[BudgetLimit, ...]:
    """The caller's LiteLLM budgets (``max_budget``, soft budgets) with what each has spent."""
    out = []
    for scope, limit_field, spend_field, soft in _BUDGET_FIELDS:
        limit = _number(getattr(auth, limit_field, None))
        if limit is None:
            continue
        spend = _number(getattr(auth, spend_field, None)) if spend_field else None
        out.append(BudgetLimit(scope, limit, spend or 0.0, soft))
    return tuple(out)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if value == value and value not in (float("inf"), float("-inf")) else None


def scope_layers(caller: Caller, settings: ThinkBudgetSettings) -> Layers:
    """Override layers from broadest (team) to narrowest (end user). Raises SettingsError naming the field.

    The end user is named by the client (``user``, ``x-litellm-end-user-id``): ``resolve_budget`` lets
    that layer narrow the budget only."""
    layers: list[tuple[BudgetScope, ScopeOverrides]] = []
    if NAMESPACE in caller.team_metadata:
        where = f"team {caller.team_id or '?'} metadata.{NAMESPACE}"
        layers.append((BudgetScope.TEAM, parse_settings(ScopeOverrides, caller.team_metadata[NAMESPACE], where)))
    if NAMESPACE in caller.key_metadata:
        where = f"key {caller.key_alias or '?'} metadata.{NAMESPACE}"
        layers.append((BudgetScope.KEY, parse_settings(ScopeOverrides, caller.key_metadata[NAMESPACE], where)))
    if caller.user_id is not None and caller.user_id in settings.users:
        layers.append((BudgetScope.USER, settings.users[caller.user_id]))
    if caller.end_user is not None and caller.end_user in settings.end_users:
        layers.append((BudgetScope.END_USER, settings.end_users[caller.end_user]))
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


def client_reasoning_fields(data: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    """The client's reasoning controls (``client_controls.CONTROL_FIELDS``) as the request carries
    them: at the top level and inside ``extra_body`` (which LiteLLM merges into the upstream body)."""
    places = (data, _mapping(data.get("extra_body")))
    return tuple({k: place[k] for k in CONTROL_FIELDS if k in place} for place in places)


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


# LiteLLM call types whose requests reach a reasoning deployment, and where their prompt lives.
CHAT_CALL_TYPES = frozenset({"acompletion", "completion"})
TEXT_CALL_TYPES = frozenset({"atext_completion", "text_completion"})
RESPONSES_CALL_TYPES = frozenset({"aresponses", "responses"})
BUDGETED_CALL_TYPES = CHAT_CALL_TYPES | TEXT_CALL_TYPES | RESPONSES_CALL_TYPES


def prompt_messages(data: Mapping[str, Any], call_type: str) -> list[dict[str, Any]]:
    """The request's prompt as chat messages, whichever endpoint it came through, for the classifier."""
    if call_type in TEXT_CALL_TYPES:
        prompt = data.get("prompt")
        parts = prompt if isinstance(prompt, list) else [prompt]
        text = "\n".join(p for p in parts if isinstance(p, str))
        return [{"role": "user", "content": text}] if text else []
    if call_type in RESPONSES_CALL_TYPES:
        return _responses_messages(data)
    messages = data.get("messages")
    return messages if isinstance(messages, list) else []


def _responses_messages(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(data.get("instructions"), str):
        out.append({"role": "system", "content": data["instructions"]})
    items = data.get("input")
    if isinstance(items, str):
        return [*out, {"role": "user", "content": items}]
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping) or item.get("role") not in ("user", "assistant", "system", "developer"):
            continue
        content = item.get("content")
        if isinstance(content, list):
            content = "\n".join(str(p.get("text") or "") for p in content if isinstance(p, Mapping))
        if isinstance(content, str):
            out.append({"role": "user" if item["role"] == "developer" else item["role"], "content": content})
    return out


def drop_internal_markers(data: dict[str, Any]) -> None:
    """Remove ``thinkbudget*`` keys a client put into its metadata (and its spend-log metadata):
    our own markers never travel in fields a client controls, so none it sends may pose as one."""
    for bucket in ("metadata", "litellm_metadata"):
        md = data.get(bucket)
        if not isinstance(md, dict):
            continue
        for key in [k for k in md if isinstance(k, str) and k.startswith(NAMESPACE)]:
            del md[key]
        slm = md.get("spend_logs_metadata")
        if isinstance(slm, dict):
            for key in [k for k in slm if isinstance(k, str) and k.startswith(NAMESPACE)]:
                del slm[key]


def endpoint_refusal(call_type: str, model_group: str | None, enforcements: set[Enforcement]) -> str | None:
    """Why a budgeted model group cannot serve this endpoint (an HTTP 400), or None when it can.

    A cut-and-continue needs chat messages, so ``enforcement: stream`` works on chat completions only;
    on the Responses API we cannot verify that any engine's native cap is honoured, so only
    ``enforcement: off`` passes there. Anything else would let a capped key think without limit.
    """
    where = f"model group {model_group!r}"
    if call_type in TEXT_CALL_TYPES and Enforcement.STREAM in enforcements:
        return (
            f"{where} enforces thinking budgets by cutting chat streams (enforcement: stream), which "
            "/v1/completions cannot do; use /v1/chat/completions"
        )
    budgeted = enforcements - {Enforcement.OFF}
    if call_type in RESPONSES_CALL_TYPES and budgeted:
        modes = ", ".join(sorted(e.value for e in budgeted))
        return (
            f"{where} enforces thinking budgets (enforcement: {modes}), which the Responses API cannot "
            "carry; use /v1/chat/completions"
        )
    return None


def add_spend_log_metadata(data: dict[str, Any], figures: Mapping[str, Any]) -> None:
    """Put ``figures`` into the request's ``metadata.spend_logs_metadata`` (the admin UI's logs)."""
    md = data.setdefault("metadata", {})
    if isinstance(md, dict):
        slm = md.get("spend_logs_metadata")
        md["spend_logs_metadata"] = {**(slm if isinstance(slm, Mapping) else {}), **figures}


def set_logged_cost(kwargs: dict[str, Any], cost: float | None, figures: Mapping[str, Any]) -> None:
    """In a logging event's kwargs: ``cost`` (when known) becomes LiteLLM's recorded ``response_cost``
    and ``figures`` join its ``spend_logs_metadata``."""
    slo = kwargs.get("standard_logging_object")
    if cost is not None:
        kwargs["response_cost"] = cost
        if isinstance(slo, dict):
            slo["response_cost"] = cost
    litellm_params = kwargs.get("litellm_params")
    for md in (
        litellm_params.get("metadata") if isinstance(litellm_params, Mapping) else None,
        slo.get("metadata") if isinstance(slo, dict) else None,
    ):
        if isinstance(md, dict):
            slm = md.get("spend_logs_metadata")
            md["spend_logs_metadata"] = {**(slm if isinstance(slm, Mapping) else {}), **figures}


def set_response_cost(response: Any, cost: float | None) -> None:
    """The cost LiteLLM reads from a response's ``_hidden_params`` before its success event."""
    hidden = getattr(response, "_hidden_params", None)
    if cost is not None and isinstance(hidden, dict):
        hidden["response_cost"] = cost


def llm_router() -> Any:
    from litellm.proxy.proxy_server import llm_router as router

    if router is None:
        raise RuntimeError("LiteLLM router is not initialised")
    return router


def coordination_redis() -> Any:
    """The Redis LiteLLM coordinates its instances through (``general_settings.coordination_redis``,
    a Redis ``litellm_settings.cache_params`` or ``REDIS_*``: rate limits, spend counters), or None.
    The ``cache`` handed to ``async_pre_call_hook`` has it only with ``enable_redis_auth_cache``."""
    try:
        from litellm.proxy import proxy_server

        return getattr(proxy_server, "redis_usage_cache", None)
    except Exception:
        return None


def litellm_config_path() -> str | None:
    try:
        from litellm.proxy import proxy_server

        path = getattr(proxy_server, "user_config_file_path", None)
        return str(path) if path else None
    except Exception:  # pragma: no cover - proxy not importable
        return None


OUTPUT_LIMIT_FIELDS = ("max_completion_tokens", "max_tokens")


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def client_output_limits(request: Mapping[str, Any]) -> list[str]:
    """The output-limit fields the client set (``OUTPUT_LIMIT_FIELDS``)."""
    return [f for f in OUTPUT_LIMIT_FIELDS if _positive_int(request.get(f)) is not None]


def client_answer_room(request: Mapping[str, Any], thinking_tokens: int) -> int | None:
    """The room the client left for its answer after ``thinking_tokens`` of thinking, as OpenAI
    defines its two fields: ``max_completion_tokens`` bounds thinking and answer together (the room
    is what the thinking leaves, at least 1), the older ``max_tokens`` the visible answer alone."""
    total = _positive_int(request.get("max_completion_tokens"))
    if total is not None:
        return max(total - thinking_tokens, 1)
    return _positive_int(request.get("max_tokens"))


def discovered_model_info(router: Any, deployment_id: str | None) -> Mapping[str, Any]:
    """The limits LiteLLM discovered from the engine (``/v1/models``), under the configured ones."""
    try:
        found = router.get_discovered_model_info(deployment_id)
    except Exception:
        return {}
    return found if isinstance(found, Mapping) else {}


def client_body(request_data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The JSON body exactly as the client sent it."""
    return _mapping(_mapping(request_data.get("proxy_server_request")).get("body"))


def continuation_metadata(request_data: Mapping[str, Any], marks: Mapping[str, Any]) -> dict[str, Any]:
    """Metadata for our continuation call: the request's (so LiteLLM bills the same key, team and user),
    with ``marks`` in its spend-log metadata, less what routing put there for the first call."""
    metadata = dict(_mapping(request_data.get("metadata")))
    metadata["spend_logs_metadata"] = {**_mapping(metadata.get("spend_logs_metadata")), **marks}
    for routed in ("model_info", "deployment", "api_base", "deployment_model_name"):
        metadata.pop(routed, None)
    return metadata


def request_logging_obj(request_data: Mapping[str, Any]) -> Any:
    return request_data.get("litellm_logging_obj")


def stream_logging_obj(stream: Any) -> Any:
    return getattr(stream, "logging_obj", None)


async def close_stream(stream: Any) -> None:
    """Close an upstream stream at once (engines abort the request on disconnect)."""
    closer = getattr(stream, "aclose", None)
    if closer is not None:
        with contextlib.suppress(Exception):
            await closer()


async def bill_partial_stream(stream: Any, logging_obj: Any, messages: Any) -> Usage | None:
    """Dispatch LiteLLM's success logging for what a stopped stream generated (what LiteLLM itself
    does on a client disconnect; it de-duplicates the dispatch); returns its usage."""
    chunks = getattr(stream, "chunks", None)
    if logging_obj is None or not isinstance(chunks, list) or not chunks:
        return None
    import litellm

    partial = litellm.stream_chunk_builder(
        chunks=chunks, messages=messages if isinstance(messages, list) else None, logging_obj=logging_obj
    )
    if partial is None:
        return None
    await logging_obj.dispatch_success_handlers(
        partial, cache_hit=False, start_time=None, end_time=None, prefer_async_handlers=True
    )
    usage = getattr(partial, "usage", None)
    return usage if isinstance(usage, Usage) else None


# ---------------------------------------------------------------------------- routing
ROUTE_MARKER = "thinkbudget_route_call"  # metadata key: our call id, written after the client's metadata
COMPLEXITY_ROUTER_PREFIX = "auto_router/complexity_router"


def mark_route(data: dict[str, Any], call_id: str) -> None:
    """Name the request to our routing plugin. Written by the pre-call hook after it dropped every
    ``thinkbudget*`` key the client sent (``drop_internal_markers``), so only we set it."""
    md = data.setdefault("metadata", {})
    if isinstance(md, dict):
        md[ROUTE_MARKER] = call_id


def route_marker(metadata: Mapping[str, Any]) -> str | None:
    value = metadata.get(ROUTE_MARKER)
    return value if isinstance(value, str) and value else None


def complexity_router_pools(router: Any, model_group: Any) -> dict[str, list[str]] | None:
    """The tier pools (rung name -> model groups) of ``model_group`` when it is a complexity router."""
    try:
        deployments = router.get_model_list(model_name=str(model_group)) or []
    except Exception:
        return None
    for d in deployments:
        params = _mapping(d.get("litellm_params"))
        if not str(params.get("model") or "").startswith(COMPLEXITY_ROUTER_PREFIX):
            continue
        config = params.get("complexity_router_config")
        tiers = _mapping(config.get("tiers") if isinstance(config, Mapping) else getattr(config, "tiers", None))
        return {str(k): [v] if isinstance(v, str) else [str(m) for m in v] for k, v in tiers.items()}
    return None


def group_deployments(router: Any, model_group: str) -> list[tuple[str | None, Mapping[str, Any]]]:
    """(deployment id, model_info) of each deployment of a model group."""
    try:
        deployments = router.get_model_list(model_name=model_group) or []
    except Exception:
        return []
    out = []
    for d in deployments:
        info = _mapping(d.get("model_info"))
        out.append((str(info["id"]) if info.get("id") is not None else None, info))
    return out


def routed_model_group(kwargs: Mapping[str, Any]) -> str | None:
    """The model group the router sent a deployment call to."""
    for bucket in ("metadata", "litellm_metadata"):
        md = kwargs.get(bucket)
        if isinstance(md, Mapping) and isinstance(md.get("model_group"), str):
            return str(md["model_group"])
    return None


def routing_context_parts(context: Any) -> tuple[list[str], Mapping[str, Any], list[Any]]:
    """(candidate models, metadata, structured messages) of a LiteLLM ``RoutingContext``."""
    candidates = [str(m) for m in getattr(context, "candidate_models", None) or []]
    messages = list(getattr(context, "structured_messages", None) or [])
    return candidates, _mapping(getattr(context, "metadata", None)), messages


def narrow_candidates(context: Any, models: list[str]) -> Any:
    context.candidate_models = list(models)
    return context


# ---------------------------------------------------------------------- LiteLLM's response cache
def served_from_cache(response: Any) -> bool:
    """Whether LiteLLM served ``response`` (a response, or a stream it replays) from its cache: its
    caching handler marks ``_hidden_params["cache_hit"]`` and replays streams as provider
    ``cached_response`` (a router's stream wrapper copies both)."""
    hidden = getattr(response, "_hidden_params", None)
    if isinstance(hidden, Mapping) and hidden.get("cache_hit") is True:
        return True
    return getattr(response, "custom_llm_provider", None) == "cached_response"


def logged_cache_hit(kwargs: Mapping[str, Any]) -> bool:
    """Whether a logging event's kwargs are those of a cache hit (LiteLLM sets ``cache_hit``)."""
    return kwargs.get("cache_hit") is True


def litellm_saved_cache_cost(kwargs: Mapping[str, Any]) -> float | None:
    """LiteLLM's own price of a cache hit's tokens (``standard_logging_object.saved_cache_cost``)."""
    slo = kwargs.get("standard_logging_object")
    value = slo.get("saved_cache_cost") if isinstance(slo, Mapping) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else None


def response_id(response: Any) -> str | None:
    """The ``id`` of a response or stream chunk (a cached response keeps its original's)."""
    value = getattr(response, "id", None)
    if value is None and isinstance(response, Mapping):
        value = response.get("id")
    return str(value) if value else None


def forbid_cache_store(request_data: dict[str, Any]) -> None:
    """Keep LiteLLM from caching this call's response (``cache: {no-store: true}``): a two-step
    request's capped first call is not an answer anyone should be served again."""
    cache = request_data.get("cache")
    request_data["cache"] = {**(cache if isinstance(cache, Mapping) else {}), "no-store": True}


# ---------------------------------------------------------------------- the proxy's web app and auth
_ADMIN_ROLES = frozenset({"proxy_admin", "proxy_admin_viewer"})


def proxy_app_loaded() -> bool:
    """Whether this process is a LiteLLM proxy (its server module is loaded): only then is there an
    app to mount on. Never imports it (a tool or a test importing the handler must not start one)."""
    import sys

    return "litellm.proxy.proxy_server" in sys.modules


def mount_router(router: Any, marker_path: str) -> bool:
    """Add ``router``'s routes to the LiteLLM proxy's FastAPI app (once: False when a route at
    ``marker_path`` is there already). Routes added after start-up are matched like the others."""
    from litellm.proxy.proxy_server import app

    if any(getattr(route, "path", None) == marker_path for route in app.router.routes):
        return False
    app.include_router(router)
    return True


def proxy_auth_dependency() -> Any:
    """LiteLLM's own request authentication (virtual keys, master key, custom_auth, JWT) as a FastAPI
    dependency returning a ``UserAPIKeyAuth``. A request without a key is a 401 here; a key LiteLLM
    refuses keeps LiteLLM's answer, except that where LiteLLM's error path itself breaks (1.106.2
    imports ``prisma`` while answering any refused key, which DB-less installs lack: a 500) the
    caller gets the 401 it was owed and the break is logged."""
    import logging

    from fastapi import HTTPException, Request
    from litellm.proxy._types import ProxyException
    from litellm.proxy.auth.user_api_key_auth import user_api_key_auth

    log = logging.getLogger("thinkbudget_litellm")

    async def authenticate(request: Request) -> Any:
        header = request.headers.get("authorization") or request.headers.get("x-litellm-api-key")
        if not header or not header.strip() or header.strip().lower() == "bearer":
            raise HTTPException(status_code=401, detail={"error": "no API key: send Authorization: Bearer <key>"})
        try:
            return await user_api_key_auth(
                request=request,
                api_key=header,
                azure_api_key_header=None,
                anthropic_api_key_header=None,
                google_ai_studio_api_key_header=None,
                azure_apim_header=None,
                custom_litellm_key_header=None,
            )
        except (HTTPException, ProxyException):
            raise
        except Exception:
            log.warning(
                "thinkbudget dashboard: LiteLLM's auth failed while refusing a key; answering 401", exc_info=True
            )
            raise HTTPException(status_code=401, detail={"error": "API key refused"}) from None

    # FastAPI reads the annotations to inject the request: give it the class, not the postponed name
    authenticate.__annotations__ = {"request": Request, "return": Any}
    return authenticate


def auth_scope(auth: Any) -> tuple[bool, str | None]:
    """(is the proxy admin, team id) of a ``UserAPIKeyAuth``."""
    role = getattr(auth, "user_role", None)
    role_name = str(getattr(role, "value", role) or "")
    team = getattr(auth, "team_id", None)
    return role_name in _ADMIN_ROLES, str(team) if team else None


def deployment_names() -> dict[str, str]:
    """Deployment id -> model name (the model group), from the proxy's router."""
    try:
        model_list = llm_router().get_model_list() or []
    except Exception:
        return {}
    out = {}
    for deployment in model_list:
        info = deployment.get("model_info") or {}
        if info.get("id") is not None:
            out[str(info["id"])] = str(deployment.get("model_name") or "")
    return out


# ---------------------------------------------------------------------- the engine behind a deployment


def engine_endpoint(kwargs: Mapping[str, Any]) -> EngineEndpoint | None:
    """Where the deployment the router picked listens (its resolved ``api_base``, ``api_key`` and
    served model name), from a deployment call's kwargs; None without an ``api_base``."""
    api_base = kwargs.get("api_base")
    model = kwargs.get("model")
    if not isinstance(api_base, str) or not api_base or not isinstance(model, str):
        return None
    try:
        import litellm

        served = litellm.get_llm_provider(model=model, api_base=api_base)[0]
    except Exception:
        served = model.split("/", 1)[1] if "/" in model else model
    key = kwargs.get("api_key")
    _, _, info = deployment_info(kwargs)
    return EngineEndpoint(api_base, key if isinstance(key, str) else None, served, dict(info))


# LiteLLM's provider for an OpenAI-compatible /v1/completions; it sends a prompt given as a list of
# token ids as that list (litellm.llms.openai.completion.utils.transform_prompt).
TEXT_COMPLETION_PROVIDER = "text-completion-openai"
_COMPLETION_FIELDS = frozenset(
    {
        "temperature",
        "top_p",
        "seed",
        "stop",
        "logit_bias",
        "presence_penalty",
        "frequency_penalty",
        "logprobs",
        "user",
        "stream",
        "stream_options",
        "max_tokens",
        "metadata",
        "litellm_call_id",
        "litellm_session_id",
        "litellm_trace_id",
    }
)
# chat-only fields, and the ones that would reopen a thinking the prompt already closed
_NOT_FOR_TOKEN_PROMPTS = frozenset(
    {
        "model",
        "messages",
        "extra_body",
        "continue_final_message",
        "add_generation_prompt",
        "chat_template_kwargs",
        "thinking_token_budget",
        "reasoning_effort",
        "thinking",
        "max_completion_tokens",
    }
)
_PRICE_FIELDS = ("input_cost_per_token", "output_cost_per_token")


def token_prompt_kwargs(endpoint: EngineEndpoint, chat_kwargs: Mapping[str, Any], ids: list[int]) -> dict[str, Any]:
    """LiteLLM kwargs that send the continuation ``chat_kwargs`` describes as a ``/v1/completions``
    request whose prompt is ``ids``, straight to ``endpoint`` (the router cannot: its deployment
    speaks chat). The deployment's ``model_info`` goes in the metadata (its hooks attribute the call
    to the same deployment) and its prices become the call's own; fields the completions API does
    not name go in ``extra_body``, which LiteLLM forwards as they are."""
    out: dict[str, Any] = {}
    extra = dict(_mapping(chat_kwargs.get("extra_body")))
    for key, value in chat_kwargs.items():
        if key in _NOT_FOR_TOKEN_PROMPTS:
            continue
        if key in _COMPLETION_FIELDS:
            out[key] = value
        else:
            extra[key] = value
    for key in _NOT_FOR_TOKEN_PROMPTS:
        extra.pop(key, None)
    metadata = dict(_mapping(out.get("metadata")))
    metadata["model_info"] = dict(endpoint.model_info)
    out.update(
        model=f"{TEXT_COMPLETION_PROVIDER}/{endpoint.served_model}",
        api_base=endpoint.api_base,
        api_key=endpoint.api_key or "none",
        messages=[{"role": "user", "content": list(ids)}],
        metadata=metadata,
    )
    for price in _PRICE_FIELDS:
        if endpoint.model_info.get(price) is not None:
            out[price] = endpoint.model_info[price]
    if extra:
        out["extra_body"] = extra
    return out


async def direct_completion(kwargs: dict[str, Any]) -> Any:
    """A LiteLLM call outside the router (its callbacks and logging run as for any call). A
    token-id continuation reuses one OpenAI client per engine: LiteLLM would build a new one per
    call, and with it an httpx client and its TLS context, 38 ms of the event loop's CPU here."""
    import litellm

    model = kwargs.get("model")
    if kwargs.get("client") is None and isinstance(model, str) and model.startswith(TEXT_COMPLETION_PROVIDER + "/"):
        kwargs = {**kwargs, "client": _text_completion_client(str(kwargs.get("api_base")), str(kwargs.get("api_key")))}
    return await litellm.acompletion(**kwargs)


_TEXT_CLIENTS: dict[tuple[int, str, str], Any] = {}
_TEXT_CLIENTS_MAX = 64  # engines x event loops; one loop per proxy process


def _text_completion_client(api_base: str, api_key: str) -> Any:
    """The OpenAI client for ``/v1/completions`` on ``api_base``, one per event loop (an httpx client
    belongs to the loop it first ran on); no retries of its own, as LiteLLM's calls have."""
    import asyncio

    from openai import AsyncOpenAI

    key = (id(asyncio.get_running_loop()), api_base, api_key)
    client = _TEXT_CLIENTS.get(key)
    if client is None:
        if len(_TEXT_CLIENTS) >= _TEXT_CLIENTS_MAX:
            _TEXT_CLIENTS.clear()  # loops of tests come and go; the clients close when collected
        client = AsyncOpenAI(api_key=api_key, base_url=api_base, max_retries=0, timeout=600.0)
        _TEXT_CLIENTS[key] = client
    return client


def response_token_ids(response: Any) -> list[int] | None:
    """The generated token ids vLLM returns with ``return_token_ids`` (a non-streamed response keeps
    them in ``choices[0].provider_specific_fields.token_ids``)."""
    choices = getattr(response, "choices", None) or []
    fields = getattr(choices[0], "provider_specific_fields", None) if choices else None
    ids = fields.get("token_ids") if isinstance(fields, Mapping) else None
    if isinstance(ids, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        return ids
    return None


def answer_and_finish(response: Any) -> tuple[str | None, str | None]:
    """A non-streamed chat response's answer text and finish reason (its first choice)."""
    choices = getattr(response, "choices", None) or []
    if not choices:
        return None, None
    choice = choices[0]
    message = getattr(choice, "message", None)
    content = getattr(message, "content", None)
    return (content if isinstance(content, str) else None), getattr(choice, "finish_reason", None)

"""The handler's fail-open policy and request translation, without a proxy."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import HTTPException
from litellm.proxy._types import UserAPIKeyAuth

from thinkbudget_litellm import metrics
from thinkbudget_litellm.enforce.engine_tokens import fit_prompt_tokens
from thinkbudget_litellm.handler import handler as handler_module
from thinkbudget_litellm.handler.handler import ThinkBudgetHandler
from thinkbudget_litellm.handler.litellm_io import caller_from, pop_request_cap, scope_layers
from thinkbudget_litellm.handler.runtime import Runtime
from thinkbudget_litellm.settings import SettingsError, ThinkBudgetSettings
from thinkbudget_litellm.tiers import Tier


def _data(text="Prove that there are infinitely many primes of the form 4k+3."):
    return {"model": "r1", "messages": [{"role": "user", "content": text}], "litellm_call_id": "call-1", "metadata": {}}


def _auth(**kw):
    return UserAPIKeyAuth(api_key="sk-x", **kw)


class _NoRouterRuntime(Runtime):
    async def ensure_started(self, cache):  # no meter, no writer, no router in unit tests
        self.sessions.bind(cache, 60)


async def test_pre_call_sets_budget_and_spend_log_metadata():
    h = ThinkBudgetHandler(_NoRouterRuntime(ThinkBudgetSettings()))
    data = _data()
    out = await h.async_pre_call_hook(_auth(team_id="t1"), None, data, "acompletion")
    assert out is data
    assert data["metadata"]["spend_logs_metadata"]["thinkbudget_tier"] == "deep"
    assert h.rt.states.get("call-1").decision.budget == 8192


async def test_a_client_s_internal_marker_is_dropped_on_unbudgeted_calls_too():
    """Our routing plugins read our marker on any call LiteLLM's router makes: none a client sends
    may pose as one, whatever the endpoint."""
    h = ThinkBudgetHandler(_NoRouterRuntime(ThinkBudgetSettings()))
    data = {"model": "auto", "input": ["x"], "metadata": {"thinkbudget_route_call": "someone-else", "team": "a"}}
    assert await h.async_pre_call_hook(_auth(), None, data, "aembedding") is data
    assert data["metadata"] == {"team": "a"}


async def test_our_bug_fails_open(monkeypatch):
    def boom(_):
        raise RuntimeError("classifier bug")

    monkeypatch.setattr(handler_module, "classify", boom)
    before = metrics.ERRORS.labels(hook="pre_call")._value.get()
    h = ThinkBudgetHandler(_NoRouterRuntime(ThinkBudgetSettings()))
    data = _data()
    assert await h.async_pre_call_hook(_auth(), None, data, "acompletion") is data
    assert metrics.ERRORS.labels(hook="pre_call")._value.get() == before + 1
    assert h.rt.states.get("call-1") is None  # the request goes through unbudgeted


async def test_fail_closed_rejects(monkeypatch):
    monkeypatch.setattr(handler_module, "classify", lambda _: 1 / 0)
    h = ThinkBudgetHandler(_NoRouterRuntime(ThinkBudgetSettings(fail_closed=True)))
    with pytest.raises(HTTPException) as err:
        await h.async_pre_call_hook(_auth(), None, _data(), "acompletion")
    assert err.value.status_code == 500


async def test_invalid_team_metadata_is_a_400_naming_the_field():
    h = ThinkBudgetHandler(_NoRouterRuntime(ThinkBudgetSettings()))
    auth = _auth(team_id="t9", team_metadata={"thinkbudget": {"budgets": {"deep": -3}}})
    with pytest.raises(HTTPException) as err:
        await h.async_pre_call_hook(auth, None, _data(), "acompletion")
    assert err.value.status_code == 400 and "team t9 metadata.thinkbudget.budgets" in str(err.value.detail)


async def test_other_call_types_untouched():
    h = ThinkBudgetHandler(_NoRouterRuntime(ThinkBudgetSettings()))
    data = {"input": "x", "litellm_call_id": "e1"}
    assert await h.async_pre_call_hook(_auth(), None, data, "aembedding") is data
    assert h.rt.states.get("e1") is None


def test_request_cap_from_body_and_header():
    data = {
        "thinkbudget": {"max_thinking_tokens": 300},
        "proxy_server_request": {"headers": {"X-ThinkBudget-Max-Thinking-Tokens": "200"}},
    }
    assert pop_request_cap(data) == 200 and "thinkbudget" not in data
    with pytest.raises(SettingsError, match="expected an integer"):
        pop_request_cap({"proxy_server_request": {"headers": {"x-thinkbudget-max-thinking-tokens": "x"}}})


def test_scope_layers_order_and_sources():
    settings = ThinkBudgetSettings.model_validate(
        {"users": {"u1": {"budgets": {"deep": 10}}}, "end_users": {"c1": {"budgets": {"deep": 5}}}}
    )
    auth = _auth(
        team_id="t",
        user_id="u1",
        metadata={"thinkbudget": {"budgets": {"deep": 20}}},
        team_metadata={"thinkbudget": {"budgets": {"deep": 30}}},
    )
    caller = caller_from(auth, {"user": "c1", "litellm_session_id": "s1"})
    layers = scope_layers(caller, settings)
    assert [name for name, _ in layers] == ["team", "key", "user", "end_user"]
    assert [ov.budgets[Tier.DEEP] for _, ov in layers] == [30, 20, 10, 5]
    assert caller.session_id == "s1"


class _Tokenizer:
    """An engine tokenizer endpoint (``EngineClient``) that counts ``count`` prompt tokens, or is down."""

    def __init__(self, count: int | None) -> None:
        self.count = count
        self.calls = 0

    async def tokenize_chat(self, endpoint, path, messages, *, continue_final_message=False):
        from thinkbudget_litellm.enforce.engine_client import EngineError, Tokenized

        self.calls += 1
        if self.count is None:
            raise EngineError(None, "ConnectError: refused")
        return Tokenized(list(range(self.count)))

    async def tokenize_text(self, endpoint, path, text):
        raise AssertionError("not used here")


def _budget_params(
    kwargs: dict,
    *,
    enforcement: str = "native",
    stream: bool = False,
    model_info=None,
    tokenizer: _Tokenizer | None = None,
):
    from request_states import make_context

    from thinkbudget_litellm.enforce.engine_client import EngineEndpoint
    from thinkbudget_litellm.handler.engine_service import EngineService

    rt = _NoRouterRuntime(ThinkBudgetSettings())
    if tokenizer is not None:
        rt.engines = EngineService(tokenizer)
    h = ThinkBudgetHandler(rt)
    ctx = make_context(rt.meter, budget=512, stream=stream)
    dep = rt.deployment_settings("d", {"thinkbudget": {"enforcement": enforcement, "engine": "vllm"}})
    ctx.deployment_id, ctx.deployment, ctx.engine = "d", dep, dep.engine
    ctx.endpoint = EngineEndpoint("http://engine/v1", None, "m")
    full = {**kwargs, "metadata": {"model_info": {"id": "d", **(model_info or {})}}}
    messages = [{"role": "user", "content": "hi"}]
    return asyncio.run(h._budget_params(ctx, dep, full, messages, 100)), ctx


def test_max_tokens_keeps_the_client_s_answer_room_on_top_of_the_budget():
    assert _budget_params({})[0]["max_tokens"] == 512 + 1024  # the configured reserve
    assert _budget_params({"max_tokens": 100})[0]["max_tokens"] == 612
    # max_completion_tokens bounds thinking and answer together (OpenAI): the client's total is kept
    out, _ = _budget_params({"max_completion_tokens": 2000})
    assert out["max_completion_tokens"] == 2000 and "max_tokens" not in out
    assert _budget_params({"max_tokens": True})[0]["max_tokens"] == 1536  # a boolean is no room


@pytest.mark.parametrize(
    ("engine_count", "prompt"),
    [
        (150, 150),  # the engine's own count (its template, its tokenizer)
        (None, fit_prompt_tokens(None, 100)),  # its tokenizer is down: the approximation with a margin
    ],
    ids=["engine-count", "engine-down"],
)
def test_budget_and_max_tokens_fit_the_deployment_s_context_window(engine_count, prompt):
    """Issue 13: 8192 + 300 max_tokens on a 4096-token vLLM was refused; the request now fits."""
    tokenizer = _Tokenizer(engine_count)
    out, ctx = _budget_params({"max_tokens": 300}, model_info={"max_model_len": 700}, tokenizer=tokenizer)
    assert out["max_tokens"] == 700 - prompt and out["thinking_token_budget"] == 700 - prompt - 300
    assert ctx.adjustments.fit is not None and ctx.adjustments.fit.clamped
    assert tokenizer.calls == 1


def test_the_engine_is_not_asked_when_the_request_fits_anyway():
    tokenizer = _Tokenizer(10_000)  # an absurd count: it must not be used
    out, ctx = _budget_params({"max_tokens": 300}, model_info={"max_model_len": 32_768}, tokenizer=tokenizer)
    assert out["max_tokens"] == 812 and ctx.adjustments.fit is None and tokenizer.calls == 0


def test_client_budget_fields_cannot_lift_the_budget():
    sent = {"thinking_token_budget": 100_000, "extra_body": {"thinking_token_budget": 100_000}}
    out, ctx = _budget_params(sent)
    assert out["thinking_token_budget"] == 512 and "thinking_token_budget" not in out.get("extra_body", {})
    assert ctx.adjustments.client_fields
    out, _ = _budget_params({"reasoning_effort": "high", "max_tokens": 10}, enforcement="stream", stream=True)
    assert out.get("reasoning_effort") != "high" and out["max_tokens"] == 512 + 16 + 10


def test_the_engine_s_reasoning_count_is_ignored_when_the_template_pre_opens_think():
    """vLLM counts from the last <think> in the output: a model that writes the tag again mid-reasoning
    gets a fragment counted (3,507 of 4,056 on the real engine)."""
    from litellm.types.utils import Choices, CompletionTokensDetailsWrapper, Message, ModelResponse, Usage

    from thinkbudget_litellm.handler.stream_enforcer import count_full_response

    text = "<think>" + "step " * 40 + "</think>the answer"
    usage = Usage(
        prompt_tokens=5,
        completion_tokens=60,
        total_tokens=65,
        completion_tokens_details=CompletionTokensDetailsWrapper(reasoning_tokens=7),
    )
    response = ModelResponse(choices=[Choices(index=0, message=Message(role="assistant", content=text))], usage=usage)
    assert count_full_response(response) == (7, 53)
    thinking, answer = count_full_response(response, trust_engine=False)
    assert thinking >= 40 and answer > 0

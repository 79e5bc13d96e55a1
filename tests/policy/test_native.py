import pytest

from thinkbudget_litellm.enforce.native import (
    effective_thinking_budget,
    infer_engine,
    native_params,
    sane_max_tokens,
)
from thinkbudget_litellm.settings import Engine
from thinkbudget_litellm.tiers import Tier


@pytest.mark.parametrize(
    ("model", "engine"),
    [
        ("hosted_vllm/qwq-32b", Engine.VLLM),
        ("anthropic/claude-sonnet-4-5", Engine.ANTHROPIC),
        ("gemini/gemini-2.5-flash", Engine.GEMINI),
        ("ollama_chat/qwen3:8b", Engine.OLLAMA),
        ("openai/o4-mini", Engine.OPENAI),
        ("custom/whatever", Engine.OTHER),
        (None, Engine.OTHER),
    ],
)
def test_infer_engine(model, engine):
    assert infer_engine(model) is engine


def test_vllm_top_level_budget():
    assert native_params(Engine.VLLM, 512, Tier.MODERATE, {}) == {"thinking_token_budget": 512}


def test_sglang_merges_custom_params():
    out = native_params(Engine.SGLANG, 128, Tier.SIMPLE, {"custom_params": {"x": 1}})
    assert out == {"custom_params": {"x": 1, "thinking_budget": 128}}


def test_llamacpp_field():
    assert native_params(Engine.LLAMACPP, 64, Tier.SIMPLE, {}) == {"thinking_budget_tokens": 64}


def test_anthropic_minimum_and_disable():
    assert native_params(Engine.ANTHROPIC, 600, Tier.MODERATE, {})["thinking"] == {
        "type": "enabled",
        "budget_tokens": 1024,
    }
    assert native_params(Engine.ANTHROPIC, 32, Tier.TRIVIAL, {})["thinking"] == {"type": "disabled"}
    assert native_params(Engine.ANTHROPIC, 8192, Tier.DEEP, {})["thinking"]["budget_tokens"] == 8192
    assert effective_thinking_budget(Engine.ANTHROPIC, 600) == 1024


def test_openai_effort_buckets():
    efforts = [native_params(Engine.OPENAI, b, Tier.DEEP, {})["reasoning_effort"] for b in (32, 512, 2048, 8192)]
    assert efforts == ["minimal", "low", "medium", "high"]


def test_ollama_think_bool_and_qwen3_no_thinking():
    assert native_params(Engine.OLLAMA, 0, Tier.TRIVIAL, {}) == {"think": False}
    assert native_params(Engine.OLLAMA, 512, Tier.MODERATE, {}) == {"think": True}
    out = native_params(Engine.VLLM, 32, Tier.TRIVIAL, {"chat_template_kwargs": {"a": 1}}, frozenset({Tier.TRIVIAL}))
    assert out["chat_template_kwargs"] == {"a": 1, "enable_thinking": False}


def test_max_tokens_keeps_client_answer_room():
    assert sane_max_tokens({}, 512, 1024) == {"max_tokens": 1536}
    assert sane_max_tokens({"max_tokens": 100}, 512, 1024) == {"max_tokens": 612}
    assert sane_max_tokens({"max_completion_tokens": 50}, 32, 1024) == {"max_completion_tokens": 82}
    assert sane_max_tokens({"max_tokens": True}, 32, 1024) == {"max_tokens": 1056}

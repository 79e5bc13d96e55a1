"""The engine registry: one adapter per Engine member, one test file each, consistent fields."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from engine_cases import LIFTS, EngineContract

from thinkbudget_litellm.enforce.engine_adapter import EngineAdapter
from thinkbudget_litellm.enforce.engine_registry import (
    RegistryError,
    adapter_for,
    adapters,
    all_budget_fields,
    infer_engine,
    register,
)
from thinkbudget_litellm.settings import Engine


def test_every_engine_has_exactly_one_adapter() -> None:
    found = adapters()
    assert [a.engine for a in found] == list(Engine)
    assert len({type(a) for a in found}) == len(Engine)
    for engine in Engine:
        assert adapter_for(engine).engine is engine
        assert isinstance(adapter_for(engine), EngineAdapter)


@pytest.mark.parametrize("engine", list(Engine))
def test_every_engine_has_its_test_file(engine: Engine) -> None:
    # ... holding the shared checks, with its engine's tables
    assert (Path(__file__).parent / f"test_{engine.value}.py").is_file()
    module = importlib.import_module(f"test_{engine.value}")
    contracts = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, EngineContract)]
    assert [c.spec.engine for c in contracts if c is not EngineContract] == [engine]


def test_a_second_adapter_for_an_engine_is_refused() -> None:
    class Duplicate(EngineAdapter):
        engine = Engine.VLLM

    with pytest.raises(RegistryError, match="already has"):
        register(Duplicate)
    assert type(adapter_for(Engine.VLLM)).__name__ == "VllmAdapter"


def test_an_adapter_must_name_its_engine() -> None:
    class Nameless(EngineAdapter):
        pass

    with pytest.raises(RegistryError, match="Engine member"):
        register(Nameless)


def test_every_budget_field_has_a_lifting_case() -> None:
    covered = {name for lift in LIFTS.values() for name in lift.fields}
    assert {f.name for f in all_budget_fields()} == covered


def _previous_infer_engine(litellm_model: str | None) -> Engine:
    """The inference before the registry (enforce/native.py at 4fca220), as the oracle."""
    prefixes = (
        ("hosted_vllm/", Engine.VLLM),
        ("vllm/", Engine.VLLM),
        ("anthropic/", Engine.ANTHROPIC),
        ("bedrock/", Engine.ANTHROPIC),
        ("gemini/", Engine.GEMINI),
        ("vertex_ai/", Engine.GEMINI),
        ("ollama/", Engine.OLLAMA),
        ("ollama_chat/", Engine.OLLAMA),
        ("openai/", Engine.OPENAI),
        ("azure/", Engine.OPENAI),
    )
    m = (litellm_model or "").lower()
    for prefix, engine in prefixes:
        if m.startswith(prefix):
            if engine is Engine.ANTHROPIC and prefix == "bedrock/" and "claude" not in m:
                return Engine.OTHER
            return engine
    if m.startswith("claude"):
        return Engine.ANTHROPIC
    if m.startswith("gemini"):
        return Engine.GEMINI
    return Engine.OTHER


@pytest.mark.parametrize(
    "model",
    [
        None,
        "",
        "hosted_vllm/qwq-32b",
        "vllm/x",
        "vllm",
        "anthropic/claude-sonnet-4-5",
        "bedrock/anthropic.claude-3",
        "bedrock/amazon.nova-pro",
        "gemini/gemini-2.5-flash",
        "vertex_ai/gemini-2.5-pro",
        "vertex_ai/claude-sonnet-4",
        "ollama/qwen3",
        "ollama_chat/qwen3",
        "openai/o4-mini",
        "openai/claude-proxy",
        "azure/gpt-5",
        "claude-3-7-sonnet",
        "CLAUDE-x",
        "gemini-2.5-flash",
        "geminix",
        "custom/whatever",
        "hosted_vllm/gemini-proxy",
        "ollama/claude",
    ],
)
def test_infer_engine_is_unchanged(model: str | None) -> None:
    assert infer_engine(model) is _previous_infer_engine(model)

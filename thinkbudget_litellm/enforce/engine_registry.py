"""The engine adapters, keyed by ``Engine``: one per family, each in ``enforce/engines/<family>.py``.

Adding an engine is one module in ``enforce/engines/`` whose adapter class is decorated with
``@register`` (plus its ``Engine`` member in ``settings.py``), and one test file; the modules are
discovered, so nothing else lists them.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TypeVar

from thinkbudget_litellm.enforce.engine_adapter import BudgetField, EngineAdapter
from thinkbudget_litellm.settings import Engine

A = TypeVar("A", bound=type[EngineAdapter])

_ADAPTERS: dict[Engine, EngineAdapter] = {}
_loaded = False


class RegistryError(RuntimeError):
    """Two adapters for one engine, or an engine without one."""


def register(cls: A) -> A:
    """Class decorator: register one instance of ``cls`` for ``cls.engine``."""
    engine = getattr(cls, "engine", None)
    if not isinstance(engine, Engine):
        raise RegistryError(f"{cls.__name__} must set engine to an Engine member")
    if engine in _ADAPTERS:
        raise RegistryError(f"{cls.__name__}: {engine.value} already has {type(_ADAPTERS[engine]).__name__}")
    _ADAPTERS[engine] = cls()
    return cls


def _load() -> None:
    global _loaded
    if _loaded:
        return
    from thinkbudget_litellm.enforce import engines

    for module in pkgutil.iter_modules(engines.__path__):
        importlib.import_module(f"{engines.__name__}.{module.name}")
    missing = [e.value for e in Engine if e not in _ADAPTERS]
    if missing:
        raise RegistryError(f"no adapter for engine(s): {', '.join(missing)}")
    _loaded = True


def adapter_for(engine: Engine) -> EngineAdapter:
    """The adapter of ``engine``."""
    _load()
    return _ADAPTERS[Engine(engine)]


def adapters() -> tuple[EngineAdapter, ...]:
    """Every adapter, in ``Engine`` order."""
    _load()
    return tuple(_ADAPTERS[e] for e in Engine)


def infer_engine(litellm_model: str | None) -> Engine:
    """The family that claims a LiteLLM model string such as ``hosted_vllm/qwq-32b`` most
    specifically (longest prefix); ``Engine.OTHER`` when none does."""
    model = (litellm_model or "").lower()
    best, best_len = Engine.OTHER, 0
    for adapter in adapters():
        n = adapter.claim(model)
        if n > best_len:
            best, best_len = adapter.engine, n
    return best


def all_budget_fields() -> tuple[BudgetField, ...]:
    """Every client budget field of every engine, once each (a field several engines read is listed
    by each of them; they must agree on how it is read)."""
    seen: dict[tuple[tuple[str, ...], ...], BudgetField] = {}
    for adapter in adapters():
        for field in adapter.budget_fields:
            known = seen.get(field.path)
            if known is None:
                seen[field.path] = field
            elif known != field:
                raise RegistryError(f"{field.name} is read two ways: {known} and {field}")
    return tuple(seen.values())

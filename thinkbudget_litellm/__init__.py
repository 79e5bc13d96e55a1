"""thinkbudget_litellm: thinking budgets, GPU energy and cost for reasoning models behind LiteLLM.

Register the handler in LiteLLM's config.yaml::

    litellm_settings:
      callbacks: ["thinkbudget_litellm.proxy_handler"]

and, for routing by tier, ``thinkbudget_litellm.tier_classifier`` / ``thinkbudget_litellm.routing_plugin``
in a complexity router's ``complexity_router_config`` (README "Routing and budget guard").

``proxy_handler`` is created lazily so that ``from thinkbudget_litellm import classify`` does not
import LiteLLM.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from thinkbudget_litellm.tiers import DEFAULT_BUDGETS, Task, Tier

if TYPE_CHECKING:
    from thinkbudget_litellm.classify import Classification

__all__ = [
    "DEFAULT_BUDGETS",
    "Classification",
    "Task",
    "Tier",
    "classify",
    "proxy_handler",
    "routing_plugin",
    "tier_classifier",
    "tier_classifier_four_rungs",
]
__version__ = "0.1.0"


def classify(messages_or_text: Any) -> Classification:
    """Classify a prompt (OpenAI chat messages or a plain string) into a thinking tier."""
    from thinkbudget_litellm.classify import classify as _classify

    return _classify(messages_or_text)


def __getattr__(name: str) -> Any:
    if name == "proxy_handler":
        from thinkbudget_litellm.handler import proxy_handler

        return proxy_handler
    if name in ("tier_classifier", "tier_classifier_four_rungs", "routing_plugin"):
        from thinkbudget_litellm.routing import plugins

        return getattr(plugins, name)
    if name == "Classification":
        from thinkbudget_litellm.classify import Classification

        return Classification
    raise AttributeError(f"module 'thinkbudget_litellm' has no attribute {name!r}")

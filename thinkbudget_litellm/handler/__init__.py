"""handler: the thin LiteLLM adapter. ``proxy_handler`` is the instance LiteLLM registers."""

from thinkbudget_litellm.handler.handler import ThinkBudgetHandler

proxy_handler = ThinkBudgetHandler()

__all__ = ["ThinkBudgetHandler", "proxy_handler"]

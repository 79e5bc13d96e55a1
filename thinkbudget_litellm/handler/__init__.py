"""handler: the thin LiteLLM adapter. ``proxy_handler`` is the instance LiteLLM registers."""

from thinkbudget_litellm.handler.handler import ThinkBudgetHandler

proxy_handler = ThinkBudgetHandler()
proxy_handler.rt.start_in_background()  # inside the proxy's startup: replay a predecessor's spool now

__all__ = ["ThinkBudgetHandler", "proxy_handler"]

"""handler: the thin LiteLLM adapter. ``proxy_handler`` is the instance LiteLLM registers."""

from thinkbudget_litellm.classify.learned import shipped_model
from thinkbudget_litellm.handler.handler import ThinkBudgetHandler

# The classifier's weights (6 MB) load with the proxy, not inside the first request, where parsing
# them (about 1 s on a small CPU) would stall every request on the event loop.
shipped_model()
proxy_handler = ThinkBudgetHandler()
proxy_handler.rt.start_in_background()  # inside the proxy's startup: replay a predecessor's spool now


def _mount_dashboard() -> None:
    from thinkbudget_litellm.dashboard.install import install_dashboard

    install_dashboard(proxy_handler.rt)  # /thinkbudget/ui on the proxy (only inside a proxy process)


_mount_dashboard()

__all__ = ["ThinkBudgetHandler", "proxy_handler"]

"""Routing by tier through LiteLLM's complexity router, and the pre-flight budget guard.

The choice logic (``strategy``, ``guard``, ``estimate``, ``prices``) is pure; ``plugins`` holds the
``ClassifierPlugin`` and ``RoutingPlugin`` instances LiteLLM loads from config.yaml.
"""

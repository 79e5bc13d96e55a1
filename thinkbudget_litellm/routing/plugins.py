"""The instances LiteLLM's complexity router loads from config.yaml (dotted paths):

- ``thinkbudget_litellm.tier_classifier`` (``classifier_type: custom``, ``classifier_plugin:``): the
  tier our pre-call hook admitted the request with (classified there once) as the router's rung
  (trivial -> NON_REASONING, simple -> SIMPLE, moderate -> MEDIUM, complex -> COMPLEX, deep ->
  REASONING); ``tier_classifier_four_rungs`` for a router without
  ``enable_non_reasoning_tier`` (trivial -> SIMPLE).
- ``thinkbudget_litellm.routing_plugin`` (``plugins:``): narrows the rung's pool to the model our
  pre-call hook planned (strategy and budget guard); when LiteLLM's router chose another rung than ours
  (its escalation, plan-mode floor, housekeeping) it re-plans in that pool; for a request our hook did
  not see, it keeps the tier map's model (the pool's first).

Our own failure never fails the request: it is counted and logged and the pool is left as it was.
"""

from __future__ import annotations

import logging
from typing import Any

from thinkbudget_litellm.handler import proxy_handler
from thinkbudget_litellm.handler.litellm_io import narrow_candidates, route_marker, routing_context_parts

log = logging.getLogger("thinkbudget_litellm")


class TierClassifier:
    """A LiteLLM ``ClassifierPlugin``: ``async classify(context) -> rung name``."""

    def __init__(self, *, non_reasoning: bool = True) -> None:
        self.non_reasoning = non_reasoning

    async def classify(self, context: Any) -> str | None:
        """The tier our pre-call hook admitted the request with (found by the call id it marked),
        so a routed request is classified once; a request the hook did not see is classified here."""
        from thinkbudget_litellm.classify import classify
        from thinkbudget_litellm.routing.rungs import rung_for

        _, metadata, messages = routing_context_parts(context)
        ctx = proxy_handler.rt.states.live(route_marker(metadata))
        tier = ctx.decision.tier if ctx is not None else classify(messages).tier
        return rung_for(tier, non_reasoning=self.non_reasoning)


class StrategyPlugin:
    """A LiteLLM ``RoutingPlugin``: ``async run(context) -> context`` with the candidates narrowed."""

    async def run(self, context: Any) -> Any:
        rt = proxy_handler.rt
        candidates, metadata, _ = routing_context_parts(context)
        call_id = route_marker(metadata)
        try:
            ctx = rt.states.live(call_id)
            plan = ctx.route if ctx is not None else None
            if ctx is None or plan is None or not candidates:
                return narrow_candidates(context, candidates[:1])
            if plan.model not in candidates:
                from thinkbudget_litellm.handler.litellm_io import group_deployments

                router = rt.router()
                pool = [
                    rt.routing.candidate(lambda g: group_deployments(router, g), g, rt.deployment_settings)
                    for g in candidates
                ]
                ctx.route = plan = rt.routing.replan(plan, pool)
            return narrow_candidates(context, [plan.model])
        except Exception:
            rt.internal_error("routing_plugin", call_id)
            return context


tier_classifier = TierClassifier()
tier_classifier_four_rungs = TierClassifier(non_reasoning=False)
routing_plugin = StrategyPlugin()

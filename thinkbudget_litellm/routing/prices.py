"""What one token costs on a deployment: measured by our meter on its recent requests, else configured.

``PriceBook`` keeps, per deployment, the last ``window`` completed requests (GPU cost, prompt tokens,
generated tokens) and prices a generated token as their summed cost over their summed weighted tokens
(a prompt token weighs ``prefill_weight`` of a generated one, as the meter's attribution weighs it).
Pure: it is fed plain figures and reads no clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class PriceSource(StrEnum):
    MEASURED = "measured"  # from our meter's bills of this deployment's recent requests
    CONFIGURED = "configured"  # model_info prices (thinkbudget.routing or LiteLLM's own fields)
    UNKNOWN = "unknown"  # neither: priced at zero, so it always fits and is never "cheaper"


@dataclass(frozen=True, slots=True)
class Prices:
    prompt_usd: float  # per prompt token
    output_usd: float  # per generated token (thinking and answer)
    source: PriceSource

    def cost(self, prompt_tokens: int, output_tokens: int) -> float:
        return prompt_tokens * self.prompt_usd + output_tokens * self.output_usd


UNPRICED = Prices(0.0, 0.0, PriceSource.UNKNOWN)


def configured_prices(input_cost: float | None, output_cost: float | None) -> Prices:
    if input_cost is None and output_cost is None:
        return UNPRICED
    return Prices(float(input_cost or 0.0), float(output_cost or 0.0), PriceSource.CONFIGURED)


@dataclass(frozen=True, slots=True)
class _Sample:
    cost_usd: float
    prompt_tokens: int
    output_tokens: int


class PriceBook:
    """Measured prices per deployment id, from the bills of its last ``window`` requests."""

    def __init__(self, window: int = 50, prefill_weight: float = 0.1, min_samples: int = 1) -> None:
        self._window = window
        self._prefill_weight = prefill_weight
        self._min_samples = min_samples
        self._samples: dict[str, deque[_Sample]] = {}

    def observe(self, deployment_id: str, cost_usd: float | None, prompt_tokens: int, output_tokens: int) -> None:
        """One completed request's measured GPU cost (``None`` or non-positive: nothing learned)."""
        if cost_usd is None or not cost_usd > 0 or prompt_tokens + output_tokens <= 0:
            return
        samples = self._samples.setdefault(deployment_id, deque(maxlen=self._window))
        samples.append(_Sample(float(cost_usd), max(prompt_tokens, 0), max(output_tokens, 0)))

    def measured(self, deployment_id: str) -> Prices | None:
        samples = self._samples.get(deployment_id)
        if not samples or len(samples) < self._min_samples:
            return None
        cost = sum(s.cost_usd for s in samples)
        weighted = sum(s.output_tokens + self._prefill_weight * s.prompt_tokens for s in samples)
        if weighted <= 0:
            return None
        per_output = cost / weighted
        return Prices(per_output * self._prefill_weight, per_output, PriceSource.MEASURED)

    def prices(self, deployment_id: str | None, configured: Prices) -> Prices:
        """Measured when this deployment has recent bills, else ``configured``."""
        found = self.measured(deployment_id) if deployment_id is not None else None
        return found if found is not None else configured

    def snapshot(self) -> Mapping[str, Prices]:
        out = {}
        for dep in self._samples:
            found = self.measured(dep)
            if found is not None:
                out[dep] = found
        return out

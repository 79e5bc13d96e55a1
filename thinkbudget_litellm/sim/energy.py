"""Simulated GPU energy of the simulated backend (a test double): plain arithmetic, no clock reads.

Energy = idle power x wall time (per GPU) + joules_per_token for each generated token
+ joules_per_token x prefill_weight for each prompt token, the token part split evenly over the GPUs.
Every figure this produces is SIMULATED.
"""

from __future__ import annotations

from collections.abc import Iterable

from thinkbudget_litellm.sim.config import SimConfig


def token_joules(config: SimConfig, *, decode_tokens: int = 0, prefill_tokens: int = 0) -> float:
    """Energy (J, all GPUs together) of generating decode_tokens and prefilling prefill_tokens."""
    return config.joules_per_token * (decode_tokens + config.prefill_weight * prefill_tokens)


def gpu_energy_millijoules(config: SimConfig, *, elapsed_s: float, token_energy_j: float) -> float:
    """Counter of one GPU since server start (mJ), as DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION."""
    return 1000.0 * (config.idle_watts * elapsed_s + token_energy_j / config.gpus)


def gpu_power_watts(
    config: SimConfig, *, recent: Iterable[tuple[float, float]], now: float, window_s: float = 1.0
) -> float:
    """Power of one GPU (W) averaged over the last window: idle + token energy of (time, joules) events."""
    joules = sum(j for t, j in recent if now - window_s < t <= now)
    return config.idle_watts + joules / window_s / config.gpus

"""GPU-time and energy money (pure).

A deployment's bill is ``gpu_count x cost_per_hour`` per hour of wall time. The ledger splits each
tick's GPU-seconds (``gpu_count x duration``) with the same shares as its energy, so per-request
GPU-seconds, idle GPU-seconds and other instances' GPU-seconds add up to the wall time's
GPU-seconds; pricing each part with ``gpu_cost_usd`` makes the dollars add up to the bill too.
Energy is priced separately at ``price_per_kwh`` (own hardware: power bill; rented: usually 0).

Every input must be a finite number >= 0 (``ValueError`` otherwise), so no function here returns a
NaN, an infinity or a negative amount.
"""

from __future__ import annotations

from thinkbudget_litellm.meter.validate import finite_non_negative

JOULES_PER_KWH = 3_600_000.0


def _check(name: str, value: float) -> None:
    if not finite_non_negative(value):
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")


def gpu_seconds(duration_s: float, gpu_count: int) -> float:
    """GPU-seconds of ``gpu_count`` GPUs held for ``duration_s``."""
    _check("duration_s", duration_s)
    if gpu_count < 1:
        raise ValueError(f"gpu_count must be >= 1, got {gpu_count}")
    return _finite(duration_s * gpu_count)


def gpu_cost_usd(gpu_s: float, cost_per_gpu_hour: float) -> float:
    """Dollars for ``gpu_s`` GPU-seconds at ``cost_per_gpu_hour`` USD per GPU-hour."""
    _check("gpu_seconds", gpu_s)
    _check("cost_per_gpu_hour", cost_per_gpu_hour)
    return _finite(gpu_s * cost_per_gpu_hour / 3600.0)


def energy_cost_usd(joules: float, price_per_kwh: float) -> float:
    """Dollars for ``joules`` at ``price_per_kwh`` USD per kWh."""
    _check("joules", joules)
    _check("price_per_kwh", price_per_kwh)
    return _finite(joules / JOULES_PER_KWH * price_per_kwh)


def bill_usd(wall_s: float, gpu_count: int, cost_per_gpu_hour: float) -> float:
    """The deployment's GPU bill for ``wall_s`` seconds of wall time."""
    return gpu_cost_usd(gpu_seconds(wall_s, gpu_count), cost_per_gpu_hour)


def _finite(amount: float) -> float:
    """A product of finite inputs can still overflow (1e300 x 1e10): refuse it too."""
    _check("result", amount)
    return amount

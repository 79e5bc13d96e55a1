"""A deployment's meter configuration: the validated settings models of ``settings.py``
(``EnergySettings``, ``GpuSettings``, ``TokenCounterSettings``), which hold every rule once.

The hub builds it from a deployment's ``DeploymentSettings`` (``MeterConfig.from_settings``); tests,
the simulator and benchmarks give flat keyword values (``MeterConfig(source="estimate", watts=300)``)
that go through the same models, so a value the proxy would refuse is refused here too.

Flat names: every ``EnergySettings`` field by its own name (``source``, ``url``, ``watts``, ``tick_s``
...), ``gpu_<field>`` for ``GpuSettings`` (``gpu_count``, ``gpu_cost_per_hour``) and ``token_<field>``
for ``TokenCounterSettings`` (``token_source``, ``token_url``); ``cost_per_hour`` is accepted for
``gpu_cost_per_hour``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from thinkbudget_litellm.meter.validate import power_bound_w
from thinkbudget_litellm.settings import (
    EnergySettings,
    EnergySource,
    GpuSettings,
    SettingsError,
    TokenCounterSettings,
    TokenSource,
    parse_settings,
)

if TYPE_CHECKING:
    from thinkbudget_litellm.settings import DeploymentSettings

__all__ = ["MeterConfig", "MeterConfigError"]


class MeterConfigError(SettingsError):
    """A deployment's meter settings cannot work (reported at configure time, not per request)."""


_SECTIONS: dict[str, tuple[str, type[BaseModel]]] = {
    "": ("energy", EnergySettings),
    "gpu_": ("gpu", GpuSettings),
    "token_": ("tokens", TokenCounterSettings),
}
_FLAT: dict[str, tuple[str, str]] = {
    f"{prefix}{field}": (section, field)
    for prefix, (section, model) in _SECTIONS.items()
    for field in model.model_fields
} | {"cost_per_hour": ("gpu", "cost_per_hour")}  # the name callers used before gpu_cost_per_hour

M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], raw: dict[str, Any], where: str) -> M:
    try:
        return parse_settings(model, raw, where)
    except SettingsError as exc:
        raise MeterConfigError(str(exc)) from None


class MeterConfig:
    """The validated meter settings of one deployment (immutable; equal when the settings are)."""

    __slots__ = ("energy", "gpu", "tokens")

    energy: EnergySettings
    gpu: GpuSettings
    tokens: TokenCounterSettings

    def __init__(self, **flat: Any) -> None:
        """Flat keyword values (see the module doc), validated by the settings models;
        ``MeterConfigError`` names the field of a value they refuse."""
        raw: dict[str, dict[str, Any]] = {"energy": {}, "gpu": {}, "tokens": {}}
        for name, value in flat.items():
            if name not in _FLAT:
                raise MeterConfigError(f"unknown meter setting {name!r}; known: {', '.join(sorted(_FLAT))}")
            section, field = _FLAT[name]
            raw[section][field] = list(value) if isinstance(value, tuple) else value
        self._set(
            _parse(EnergySettings, raw["energy"], "energy"),
            _parse(GpuSettings, raw["gpu"], "gpu"),
            _parse(TokenCounterSettings, raw["tokens"], "tokens"),
        )

    @classmethod
    def from_settings(cls, settings: DeploymentSettings) -> MeterConfig:
        """The meter part of a deployment's (already validated) ``model_info.thinkbudget``."""
        cfg = cls.__new__(cls)
        cfg._set(settings.energy, settings.gpu, settings.tokens)
        return cfg

    def _set(self, energy: EnergySettings, gpu: GpuSettings, tokens: TokenCounterSettings) -> None:
        object.__setattr__(self, "energy", energy)
        object.__setattr__(self, "gpu", gpu)
        object.__setattr__(self, "tokens", tokens)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("MeterConfig is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MeterConfig):
            return NotImplemented
        return (self.energy, self.gpu, self.tokens) == (other.energy, other.gpu, other.tokens)

    __hash__ = None  # type: ignore[assignment]  # the settings hold lists

    def __repr__(self) -> str:
        parts = ", ".join(f"{name}={getattr(self, name, None)!r}" for name in self.__slots__)
        return f"MeterConfig({parts})"

    # ------------------------------------------------------------------ what the hub asks

    @property
    def source(self) -> EnergySource:
        return self.energy.source

    @property
    def devices(self) -> tuple[int, ...] | None:
        """NVML device indices, or DCGM ``gpu`` label values (None: 0..count-1 / every series)."""
        return tuple(self.energy.devices) if self.energy.devices is not None else None

    @property
    def nvml_devices(self) -> tuple[int, ...]:
        return self.devices if self.devices is not None else tuple(range(self.gpu.count))

    @property
    def uses_engine_tokens(self) -> bool:
        return self.tokens.source is TokenSource.VLLM

    def power_bound_w(self, gpus_read: int | None, enforced_limit_w: float | None) -> float:
        """Most watts a reading over ``gpus_read`` GPUs (None: ``gpu.count``) can show."""
        gpus = gpus_read if gpus_read is not None else self.gpu.count
        return power_bound_w(gpus, self.energy.max_watts_per_gpu, enforced_limit_w)

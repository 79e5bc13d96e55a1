"""Configuration models: the ``thinkbudget`` block of LiteLLM's config.yaml, a deployment's
``model_info.thinkbudget`` block, and the ``thinkbudget`` namespace in key/team metadata.

Everything here is validated with pydantic; an invalid block raises ``SettingsError``
whose message names the offending field (``thinkbudget.budgets.deep: ...``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    field_validator,
    model_validator,
)

from thinkbudget_litellm.meter.validate import DEFAULT_MAX_WATTS_PER_GPU, device_indices_problem, metrics_url_problem
from thinkbudget_litellm.routing.config import DeploymentRouting, RoutingSettings, ScopeRouting
from thinkbudget_litellm.tiers import DEFAULT_BUDGETS, Tier


class SettingsError(ValueError):
    """An invalid ``thinkbudget`` setting; the message names the field."""


class Enforcement(StrEnum):
    NATIVE = "native"  # translate the budget into the engine's own cap
    STREAM = "stream"  # cut the stream at the budget and force the answer
    OFF = "off"  # classify and record only


class Continuation(StrEnum):
    """How a stream-enforced request continues after its thinking is cut."""

    CHAT = "chat"  # a chat request that continues the prefilled assistant message (continue_final_message)
    TOKEN_IDS = "token_ids"  # the engine's own prompt ids + the partial reasoning, as a raw completion
    AUTO = "auto"  # chat where the template keeps the prefill, else token ids (probed once per deployment)


class Engine(StrEnum):
    VLLM = "vllm"
    SGLANG = "sglang"
    LLAMACPP = "llamacpp"
    OLLAMA = "ollama"
    ANTHROPIC = "anthropic"
    OPENAI = "openai"
    GEMINI = "gemini"
    OTHER = "other"


ENV_PREFIX = "os.environ/"
V = TypeVar("V")


def resolve_env_refs(value: Any) -> Any:
    """Resolve LiteLLM-style ``os.environ/NAME`` strings anywhere in a nested value."""
    if isinstance(value, str) and value.startswith(ENV_PREFIX):
        name = value[len(ENV_PREFIX) :]
        if name not in os.environ:
            raise SettingsError(f"environment variable {name} is not set (referenced as {value!r})")
        return os.environ[name]
    if isinstance(value, dict):
        return {k: resolve_env_refs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_env_refs(v) for v in value]
    return value


# A token count: a JSON/YAML integer >= 0; booleans, floats and numeric strings are refused.
Tokens = Annotated[int, Strict(), Field(ge=0)]


def _refuse_problems(problem: Callable[[V], str | None]) -> AfterValidator:
    """A pydantic validator that refuses a value ``problem`` finds fault with, in its words."""

    def validate(value: V) -> V:
        found = problem(value)
        if found is not None:
            raise ValueError(found)
        return value

    return AfterValidator(validate)


# A ``/metrics`` url (dcgm exporter, engine, carbon gauge): http:// or https://.
MetricsUrl = Annotated[str | None, _refuse_problems(metrics_url_problem)]
# GPU device indices: none repeated, none negative, not empty.
DeviceIndices = Annotated[list[int] | None, _refuse_problems(device_indices_problem)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GpuSettings(_Strict):
    model_config = ConfigDict(allow_inf_nan=False)

    name: str = "unknown"
    count: int = Field(default=1, ge=1)
    cost_per_hour: float = Field(default=0.0, ge=0.0, description="USD per GPU-hour, per GPU")


class EnergySource(StrEnum):
    NVML = "nvml"
    DCGM = "dcgm"
    ESTIMATE = "estimate"
    NONE = "none"


class EnergySettings(_Strict):
    """A deployment's energy meter. The one definition of its rules: ``meter.config.MeterConfig``
    is built from these models only."""

    model_config = ConfigDict(allow_inf_nan=False)

    source: EnergySource = EnergySource.NONE
    url: MetricsUrl = None  # dcgm exporter /metrics
    devices: DeviceIndices = None  # nvml device indices (tensor parallel: all of them); dcgm gpu labels
    watts: float | None = Field(default=None, gt=0, description="estimate: average busy watts per GPU")
    idle_watts: float = Field(default=0.0, ge=0)
    max_watts_per_gpu: float | None = Field(
        default=None,
        gt=0,
        description="readings moving faster than this per GPU are rejected (billed from the labelled "
        f"estimate); default: the GPUs' enforced power limit x 1.5 (NVML), else {DEFAULT_MAX_WATTS_PER_GPU:.0f} W",
    )
    timeout_s: float = Field(default=0.5, gt=0)
    tick_s: float = Field(default=0.2, ge=0.05, le=5.0)
    price_per_kwh: float = Field(default=0.0, ge=0)
    spread_idle: bool = False
    prefill_weight: float = Field(default=0.1, ge=0, description="weight of one prompt token vs one generated")
    simulated: bool = Field(default=False, description="the meter is the simulated backend's: label figures so")

    @model_validator(mode="after")
    def _source_needs(self) -> EnergySettings:
        problems = []
        if self.source is EnergySource.DCGM and not self.url:
            problems.append("the dcgm source needs url (the exporter's /metrics)")
        if self.source is EnergySource.ESTIMATE and self.watts is None:
            problems.append("the estimate source needs watts (busy watts per GPU)")
        bound = self.max_watts_per_gpu if self.max_watts_per_gpu is not None else DEFAULT_MAX_WATTS_PER_GPU
        for name in ("watts", "idle_watts"):
            value = getattr(self, name)
            if value is not None and value > bound:
                problems.append(f"{name} ({value:g} W) is above max_watts_per_gpu ({bound:g} W)")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class TokenSource(StrEnum):
    PROXY = "proxy"  # this proxy instance's own token counts
    VLLM = "vllm"  # the engine's counters (several proxy instances share one server)


class TokenCounterSettings(_Strict):
    source: TokenSource = TokenSource.PROXY
    url: MetricsUrl = None  # vLLM /metrics
    window_s: float = Field(default=2.0, ge=0, le=3600, description="vllm: settlement window (meter/window_price.py)")
    redis: bool = Field(
        default=True,
        description="vllm: settle each window with every instance's weight summed in LiteLLM's coordination Redis",
    )
    settle_s: float = Field(
        default=10.0, ge=0, le=3600, description="vllm + redis: a window's shared sum is read this long after it ends"
    )

    @model_validator(mode="after")
    def _source_needs(self) -> TokenCounterSettings:
        if self.source is TokenSource.VLLM and not self.url:
            raise ValueError("the vllm token source needs url (the engine's /metrics)")
        return self


class CarbonSettings(_Strict):
    """A deployment's grid carbon intensity, for grams of CO2e per request: a fixed ``g_per_kwh``, or a
    Prometheus gauge (``url`` + ``metric``, read every ``refresh_s``; ``g_per_kwh`` is then the value
    used until the first good reading and whenever it fails)."""

    model_config = ConfigDict(allow_inf_nan=False)

    g_per_kwh: float | None = Field(default=None, ge=0, le=5000, description="grams CO2e per kWh")
    url: MetricsUrl = None  # a /metrics page holding the gauge
    metric: str | None = None  # the gauge's name (its first series is read)
    refresh_s: float = Field(default=300.0, ge=1.0)

    @model_validator(mode="after")
    def _needs_a_value(self) -> CarbonSettings:
        if (self.url is None) != (self.metric is None):
            raise ValueError("a carbon gauge needs both url and metric")
        if self.g_per_kwh is None and self.url is None:
            raise ValueError("carbon needs g_per_kwh, or url and metric of a Prometheus gauge")
        return self


class DeploymentSettings(_Strict):
    """``model_info.thinkbudget`` of one deployment."""

    enforcement: Enforcement = Enforcement.NATIVE
    engine: Engine | None = None  # inferred from the litellm model prefix when absent
    slack_tokens: int = Field(default=16, ge=0, description="native overshoot tolerated before the stream cut")
    no_thinking_tiers: list[Tier] = Field(default_factory=list, description="Qwen3: enable_thinking=false")
    think_style: Literal["parser", "inline", "preopened"] | None = Field(
        default=None, description="how thinking reaches the proxy; auto-detected when omitted"
    )
    template_preopens_think: bool = Field(
        default=False, description="the chat template opens <think> in the generation prompt (R1 distills)"
    )
    continuation: Continuation = Field(
        default=Continuation.AUTO, description="stream enforcement's continuation: chat, token_ids or auto"
    )
    gpu: GpuSettings = GpuSettings()
    energy: EnergySettings = EnergySettings()
    tokens: TokenCounterSettings = TokenCounterSettings()
    routing: DeploymentRouting = DeploymentRouting()
    carbon: CarbonSettings | None = None  # grid intensity: grams CO2e per request next to its energy


class ScopeOverrides(_Strict):
    """The ``thinkbudget`` namespace in LiteLLM key, team, user or end-user metadata."""

    budgets: dict[Tier, Tokens] | None = None
    max_thinking_tokens: Tokens | None = None
    session_max_thinking_tokens: Tokens | None = None
    routing: ScopeRouting | None = None


class RequestOverrides(_Strict):
    """What a caller may send per request (body ``thinkbudget``): it can only lower its budget."""

    max_thinking_tokens: Tokens | None = None


class AdaptiveBounds(_Strict):
    min: Tokens = 16
    max: Tokens = 32_768

    @model_validator(mode="after")
    def _ordered(self) -> AdaptiveBounds:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class AdaptiveSettings(_Strict):
    """``thinkbudget.adaptive``: budgets calibrated from the records (``calibrate.adaptive``)."""

    model_config = ConfigDict(allow_inf_nan=False)

    enabled: bool = False
    quantile: float = Field(default=0.9, gt=0.0, lt=1.0, description="share of natural thinking a budget covers")
    min_samples: int = Field(default=50, ge=1, description="fewer records in a cell: its parent's budget")
    bounds: AdaptiveBounds = AdaptiveBounds()
    growth_factor: float = Field(default=2.0, gt=1.0, description="beyond the data: largest censored x this")
    explore_share: float = Field(default=0.02, ge=0.0, le=0.5, description="requests given a larger budget")
    explore_factor: float = Field(default=2.0, ge=1.0, description="their budget: the cell's x this")
    explore_seed: str | None = Field(
        default=None, description="hash seed for choosing them; unset: random per process (clients cannot aim)"
    )
    refresh_s: float = Field(default=300.0, ge=1.0, description="how often a proxy recomputes its budgets")
    window_s: float = Field(default=7 * 86_400.0, gt=0.0, description="records older than this are ignored")


class ThinkBudgetSettings(_Strict):
    """The top-level ``thinkbudget:`` block of LiteLLM's config.yaml."""

    budgets: dict[Tier, int] = Field(default_factory=lambda: dict(DEFAULT_BUDGETS))
    fail_closed: bool = False
    default_enforcement: Enforcement = Enforcement.NATIVE
    answer_reserve_tokens: int = Field(default=1024, ge=1, description="max_tokens room left for the answer")
    transition: str = (
        "\n\nConsidering the limited time by the user, I have to give the solution "
        "based on the thinking directly now.\n"
    )
    users: dict[str, ScopeOverrides] = Field(default_factory=dict)
    end_users: dict[str, ScopeOverrides] = Field(default_factory=dict)
    session_max_thinking_tokens: int | None = Field(default=None, ge=0)
    classifier_risk: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="largest accepted chance that a request's tier is too low (default: the shipped model's)",
    )
    client_effort_budgets: dict[str, Tokens] | None = Field(
        default=None,
        description="reasoning_effort level -> thinking cap (default: LiteLLM's own table, policy/client_controls.py)",
    )
    session_ttl_s: int = Field(default=86_400, ge=1)
    database_url: str | None = None
    record_prompts: bool = False
    adaptive: AdaptiveSettings = AdaptiveSettings()
    cut_grace_share: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        description="stream cut: up to this share of the budget more to finish the sentence or line",
    )
    baseline_thinking_tokens: dict[Tier, int] | None = Field(
        default=None,
        description="measured unbudgeted thinking per tier (benchmarks/run_benchmark.py), for tokens-saved reports",
    )
    routing: RoutingSettings = RoutingSettings()

    @field_validator("budgets")
    @classmethod
    def _complete(cls, v: dict[Tier, int]) -> dict[Tier, int]:
        merged = {**DEFAULT_BUDGETS, **v}
        for tier, n in merged.items():
            if n < 0:
                raise ValueError(f"{tier.value}: budget must be >= 0, got {n}")
        return merged


M = TypeVar("M", bound=BaseModel)


def parse_settings(model: type[M], raw: Any, where: str, *, operator_config: bool = False) -> M:
    """Validate ``raw`` as ``model``; raise SettingsError naming ``where`` and the field path.

    ``os.environ/NAME`` values are resolved only in the operator's own configuration
    (``operator_config``: config.yaml, ``model_info``); in request bodies and key or team metadata
    they are plain strings, so a caller cannot probe which environment variables exist.
    """
    if raw is None:
        raw = {}
    if operator_config:
        raw = resolve_env_refs(raw)
    if not isinstance(raw, dict):
        raise SettingsError(f"{where}: expected a mapping, got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            parts.append(f"{where}.{loc}: {err['msg']}" if loc else f"{where}: {err['msg']}")
        raise SettingsError("; ".join(parts)) from None

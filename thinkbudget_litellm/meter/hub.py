"""The meter's imperative shell: what the LiteLLM handler calls.

One ``MeterHub`` per proxy process. Per configured deployment it owns an energy source, a counter
tracker, optionally a vLLM token-counter reader, and an ``attribution.Ledger``; with ``start()``
it samples each deployment that has an energy source every ``tick_s`` in a background task.

Call pattern (all on the proxy's event loop)::

    hub.configure("deployment-id", deployment_settings)      # at startup; idempotent
    await hub.start()
    hub.request_started(call_id, "deployment-id", prompt_tokens, streaming=True)
    hub.tokens_generated(call_id, 1)                          # per stream chunk, O(1)
    energy = await hub.request_finished(call_id, completion_tokens)   # RequestEnergy
    await hub.stop()

Nothing here raises into the caller once configured: unknown call ids and deployments, failing
meters and internal errors give a labelled result (``source`` says what happened). Configuration
errors (``MeterConfigError``) are raised by ``configure`` so they surface at startup.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from thinkbudget_litellm.meter.attribution import (
    Ledger,
    LedgerConfig,
    Lost,
    Measured,
    Pending,
    RequestShare,
    TickEnergy,
    Unmetered,
)
from thinkbudget_litellm.meter.config import MeterConfig, MeterConfigError, SourceKind
from thinkbudget_litellm.meter.cost import energy_cost_usd, gpu_cost_usd
from thinkbudget_litellm.meter.counter import CounterTracker
from thinkbudget_litellm.meter.engine_tokens import EngineTokens, EngineTokenTracker, VllmTokenReader
from thinkbudget_litellm.meter.sources.base import NONE, EnergyReader, SourceError

if TYPE_CHECKING:
    from thinkbudget_litellm.settings import DeploymentSettings

log = logging.getLogger("thinkbudget_litellm.meter")

__all__ = [
    "DeploymentMeterSnapshot",
    "MeterConfig",
    "MeterConfigError",
    "MeterHub",
    "RequestEnergy",
    "meter_config_from_settings",
]


@dataclass(frozen=True, slots=True)
class RequestEnergy:
    """One request's attributed GPU energy and cost."""

    call_id: str
    deployment_id: str | None
    joules: float | None  # None: not metered (no source, unknown call, meter could not estimate)
    gpu_seconds: float | None  # its share of the deployment's GPU-seconds (all GPUs)
    cost_usd: float | None  # gpu_seconds x cost_per_hour / 3600 (GPU time)
    energy_cost_usd: float | None  # joules x price_per_kwh / 3.6e6
    source: str  # measured:nvml | measured:nvml-power | measured:dcgm | estimated |
    #              estimated(fallback:<reason>) | unmetered(fallback:<reason>) | none | none(<reason>)
    attribution: str  # token_share | token_share:vllm | none
    idle_joules: float = 0.0  # part of joules that is spread idle energy (spread_idle)
    idle_gpu_seconds: float = 0.0  # part of gpu_seconds that is spread idle time
    estimated_joules: float = 0.0  # part of joules that was estimated, not measured
    duration_s: float = 0.0
    weight_tokens: float = 0.0  # generated + prefill_weight x prompt tokens it was weighted with

    @property
    def total_cost_usd(self) -> float | None:
        """GPU-time cost plus energy cost (None when neither is known)."""
        parts = [c for c in (self.cost_usd, self.energy_cost_usd) if c is not None]
        return sum(parts) if parts else None

    @property
    def measured(self) -> bool:
        return self.source.startswith("measured:")

    @classmethod
    def unmetered(cls, call_id: str, deployment_id: str | None, reason: str) -> RequestEnergy:
        return cls(call_id, deployment_id, None, None, None, None, f"none({reason})", "none")


@dataclass(frozen=True, slots=True)
class DeploymentMeterSnapshot:
    """Totals of one deployment since it was configured (for metrics and status pages)."""

    deployment_id: str
    source: str  # the configured source's label (measured:nvml, ...), "none" without one
    healthy: bool  # False while reads fail
    last_error: str | None
    tick_s: float
    metered_j: float
    attributed_j: float
    idle_j: float
    idle_bucket_j: float
    others_j: float
    carry_j: float
    estimated_j: float
    attributed_gpu_s: float
    idle_gpu_s: float
    idle_bucket_gpu_s: float
    others_gpu_s: float
    attributed_cost_usd: float
    idle_cost_usd: float
    others_cost_usd: float
    energy_cost_usd: float  # of metered_j
    active_requests: int
    open_ticks: int
    pending_s: float
    reads: int
    read_failures: int
    counter_resets: int
    slow_samples: int  # finishes that did not get a fresh sample within timeout_s
    abandoned_requests: int
    forced_ticks: int
    engine_read_failures: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class TokenReader(Protocol):
    async def read(self) -> EngineTokens: ...

    async def aclose(self) -> None: ...


SourceFactory = Callable[[str, MeterConfig, float], EnergyReader | None]
TokenReaderFactory = Callable[[str, MeterConfig], TokenReader | None]


def meter_config_from_settings(settings: DeploymentSettings) -> MeterConfig:
    """Plain meter values out of a deployment's ``model_info.thinkbudget`` settings."""
    energy, gpu, tokens = settings.energy, settings.gpu, settings.tokens
    return MeterConfig(
        source=_source_kind(getattr(energy.source, "value", energy.source)),
        devices=tuple(energy.devices) if energy.devices is not None else None,
        url=energy.url,
        watts=energy.watts,
        idle_watts=energy.idle_watts,
        timeout_s=energy.timeout_s,
        tick_s=energy.tick_s,
        price_per_kwh=energy.price_per_kwh,
        spread_idle=energy.spread_idle,
        prefill_weight=energy.prefill_weight,
        gpu_count=gpu.count,
        cost_per_hour=gpu.cost_per_hour,
        token_source=tokens.source,
        token_url=tokens.url,
    )


def _source_kind(value: object) -> SourceKind:
    kind = str(value)
    if kind not in ("nvml", "dcgm", "estimate", "none"):
        raise MeterConfigError(f"energy.source: unknown source {kind!r}")
    return cast(SourceKind, kind)


def default_source(deployment_id: str, cfg: MeterConfig, now: float) -> EnergyReader | None:
    """The energy source a configuration names (None for ``none``)."""
    if cfg.source == "nvml":
        from thinkbudget_litellm.meter.sources.nvml import NvmlSource

        return NvmlSource(cfg.nvml_devices)
    if cfg.source == "dcgm":
        from thinkbudget_litellm.meter.sources.dcgm import DcgmSource

        assert cfg.url is not None  # validated
        return DcgmSource(cfg.url, cfg.devices, cfg.timeout_s)
    if cfg.source == "estimate":
        from thinkbudget_litellm.meter.sources.estimate import EstimateSource

        assert cfg.watts is not None  # validated
        return EstimateSource(cfg.watts, cfg.idle_watts, cfg.gpu_count, now)
    return None


def default_token_reader(deployment_id: str, cfg: MeterConfig) -> TokenReader | None:
    if cfg.token_source == "vllm" and cfg.token_url:
        return VllmTokenReader(cfg.token_url, cfg.timeout_s)
    return None


class _Deployment:
    def __init__(
        self,
        deployment_id: str,
        cfg: MeterConfig,
        source: EnergyReader | None,
        reader: TokenReader | None,
        now: float,
    ) -> None:
        self.id = deployment_id
        self.cfg = cfg
        self.source = source
        self.tracker = CounterTracker(source.stale_on_equal if source is not None else False)
        self.token_reader = reader
        self.token_tracker = EngineTokenTracker(cfg.prefill_weight) if reader is not None else None
        self.ledger = Ledger(
            LedgerConfig(
                gpu_count=cfg.gpu_count,
                prefill_weight=cfg.prefill_weight,
                spread_idle=cfg.spread_idle,
                has_energy=source is not None,
                source_name=source.name if source is not None else "none",
                source_label=source.label if source is not None else NONE,
                busy_watts=cfg.watts,
                idle_watts=cfg.idle_watts,
            ),
            start=now,
        )
        self.task: asyncio.Task[None] | None = None
        self.inflight: asyncio.Future[None] | None = None
        self.running = 0
        self.retired = False
        self.last_error: str | None = None
        self.baseline_reason = "first reading"
        self.reads = 0
        self.failures = 0
        self.resets = 0
        self.slow = 0
        self.engine_failures = 0


class _Call:
    __slots__ = ("dep", "deployment_id", "ledger")

    def __init__(self, dep: _Deployment | None, deployment_id: str) -> None:
        self.dep = dep
        self.deployment_id = deployment_id
        self.ledger = dep.ledger if dep is not None else None


class MeterHub:
    """Per-request GPU energy and cost for the deployments it is configured with."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_open_s: float = 60.0,
        max_pending_s: float = 60.0,
        max_request_s: float = 3600.0,
        source_factory: SourceFactory = default_source,
        token_reader_factory: TokenReaderFactory = default_token_reader,
    ) -> None:
        """``max_open_s``: longest a tick waits for unknown weights; ``max_pending_s``: longest
        energy waits for a counter that does not move or cannot be read (then estimated; keep it
        above the DCGM exporter's collect interval); ``max_request_s``: requests never finished
        are dropped after this."""
        self._clock = clock
        self._max_open_s = max_open_s
        self._max_pending_s = max_pending_s
        self._max_request_s = max_request_s
        self._source_factory = source_factory
        self._token_reader_factory = token_reader_factory
        self._deps: dict[str, _Deployment] = {}
        self._calls: dict[str, _Call] = {}
        self._started = False
        self._background: set[asyncio.Task[None]] = set()
        self.errors = 0  # internal errors swallowed (logged)
        self.stray_calls = 0  # unknown or duplicate call ids

    # ------------------------------------------------------------------ configuration

    def configure(self, deployment_id: str, settings: DeploymentSettings | MeterConfig) -> None:
        """Set up (or update) a deployment's meter; the same settings twice is a no-op.

        Raises ``MeterConfigError`` for settings that cannot work (estimate without watts, dcgm
        without url, vllm token counter without url).
        """
        cfg = settings if isinstance(settings, MeterConfig) else meter_config_from_settings(settings)
        cfg.validate(f"deployment {deployment_id}")
        old = self._deps.get(deployment_id)
        if old is not None and old.cfg == cfg:
            return
        now = self._clock()
        try:
            source = self._source_factory(deployment_id, cfg, now)
            reader = self._token_reader_factory(deployment_id, cfg)
        except ValueError as exc:
            raise MeterConfigError(f"deployment {deployment_id}: {exc}") from None
        dep = _Deployment(deployment_id, cfg, source, reader, now)
        self._deps[deployment_id] = dep
        if old is not None:
            self._retire(old)
        if dep.source is not None:
            loop = _running_loop()
            if loop is not None:
                if self._started:
                    self._launch(dep)
                else:
                    self._spawn(self._sample(dep))  # baseline reading

    def configured(self, deployment_id: str) -> bool:
        return deployment_id in self._deps

    def _retire(self, dep: _Deployment) -> None:
        dep.retired = True
        if dep.task is not None:
            dep.task.cancel()
            dep.task = None
        if dep.running == 0:
            self._spawn(self._close(dep))

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Take a baseline reading and start one tick task per deployment with an energy source."""
        if self._started:
            return
        self._started = True
        for dep in self._deps.values():
            self._launch(dep)

    async def stop(self) -> None:
        """Stop the tick tasks and close the sources (idempotent)."""
        self._started = False
        tasks = [d.task for d in self._deps.values() if d.task is not None]
        for dep in self._deps.values():
            dep.task = None
        tasks += list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for dep in self._deps.values():
            await self._close(dep)

    def _launch(self, dep: _Deployment) -> None:
        if dep.source is not None and dep.task is None and _running_loop() is not None:
            dep.task = asyncio.get_running_loop().create_task(self._tick_loop(dep))

    def _spawn(self, coro: Any) -> None:
        if _running_loop() is None:
            coro.close()
            return
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _close(self, dep: _Deployment) -> None:
        for closer in (dep.source, dep.token_reader):
            if closer is not None:
                try:
                    await closer.aclose()
                except Exception:
                    log.exception("meter: closing a source of %s failed", dep.id)

    async def _tick_loop(self, dep: _Deployment) -> None:
        while True:
            try:
                await self._sample(dep)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.errors += 1
                log.exception("meter: tick of %s failed", dep.id)
            await asyncio.sleep(dep.cfg.tick_s)

    # ------------------------------------------------------------------ requests

    def request_started(
        self, call_id: str, deployment_id: str, prompt_tokens: int, *, streaming: bool | None = None
    ) -> None:
        """A request was sent to ``deployment_id``. ``streaming``: True when its tokens will be
        reported with ``tokens_generated``, False when only at finish, None when unknown."""
        try:
            if call_id in self._calls:
                self.stray_calls += 1
                return
            dep = self._deps.get(deployment_id)
            self._calls[call_id] = _Call(dep, deployment_id)
            if dep is None:
                return
            now = self._clock()
            prompt = _count(prompt_tokens) or 0
            if dep.ledger.start_request(call_id, now, prompt, streaming):
                dep.running += 1
                if dep.running == 1 and dep.source is not None:
                    dep.source.note_activity(True, now)
        except Exception:
            self.errors += 1
            log.exception("meter: request_started(%s) failed", call_id)

    def tokens_generated(self, call_id: str, n: float) -> None:
        """``n`` tokens of ``call_id`` just arrived (per stream chunk; O(1), never raises)."""
        call = self._calls.get(call_id)
        if call is None or call.ledger is None:
            return
        try:
            if 0 < n < 1e9:  # also drops NaN
                call.ledger.add_tokens(call_id, n)
        except TypeError:
            pass

    async def request_finished(self, call_id: str, completion_tokens: int | None = None) -> RequestEnergy:
        """Close the request (fresh sample of its deployment's counter, coalesced with concurrent
        finishes and bounded by ``timeout_s``) and return its energy and cost."""
        call = self._calls.pop(call_id, None)
        if call is None:
            self.stray_calls += 1
            return RequestEnergy.unmetered(call_id, None, "unknown call")
        dep = call.dep
        if dep is None:
            return RequestEnergy.unmetered(call_id, call.deployment_id, "unconfigured deployment")
        completion_tokens = _count(completion_tokens)
        share: RequestShare | None = None
        try:
            now = self._clock()
            if dep.ledger.finish_request(call_id, now, completion_tokens):
                dep.running -= 1
                if dep.running == 0 and dep.source is not None:
                    dep.source.note_activity(False, now)
            if dep.source is not None:
                await self._fresh_sample(dep)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.errors += 1
            log.exception("meter: request_finished(%s) failed", call_id)
        finally:
            try:
                share = dep.ledger.settle_request(call_id, self._clock())
            except Exception:
                self.errors += 1
                log.exception("meter: settling %s failed", call_id)
            if dep.retired and dep.running == 0:
                self._spawn(self._close(dep))
        if share is None:
            return RequestEnergy.unmetered(call_id, dep.id, "meter error")
        return self._result(dep, share)

    def _result(self, dep: _Deployment, share: RequestShare) -> RequestEnergy:
        cfg = dep.cfg
        return RequestEnergy(
            call_id=share.call_id,
            deployment_id=dep.id,
            joules=share.joules,
            gpu_seconds=share.gpu_seconds,
            cost_usd=gpu_cost_usd(share.gpu_seconds, cfg.cost_per_hour),
            energy_cost_usd=None if share.joules is None else energy_cost_usd(share.joules, cfg.price_per_kwh),
            source=share.source,
            attribution="token_share:vllm" if share.engine_denominator else "token_share",
            idle_joules=share.idle_joules,
            idle_gpu_seconds=share.idle_gpu_seconds,
            estimated_joules=share.estimated_joules,
            duration_s=share.duration_s,
            weight_tokens=share.weight,
        )

    # ------------------------------------------------------------------ sampling

    async def tick(self, deployment_id: str) -> None:
        """Sample a deployment now (what the background task does every ``tick_s``)."""
        dep = self._deps.get(deployment_id)
        if dep is None:
            return
        if dep.source is None:
            dep.ledger.close_tick(self._clock(), Unmetered())
            return
        await self._sample(dep)

    async def _sample(self, dep: _Deployment) -> None:
        task = dep.inflight
        if task is None or task.done():
            task = asyncio.ensure_future(self._read_and_apply(dep))
            dep.inflight = task
        await asyncio.shield(task)

    async def _fresh_sample(self, dep: _Deployment) -> None:
        try:
            await asyncio.wait_for(self._sample(dep), timeout=dep.cfg.timeout_s)
        except TimeoutError:
            dep.slow += 1

    async def _read_energy(self, dep: _Deployment, source: EnergyReader) -> tuple[float | None, str | None]:
        try:
            value = await asyncio.wait_for(source.read_joules(self._clock()), timeout=dep.cfg.timeout_s)
            return value, None
        except SourceError as exc:
            if exc.reason != dep.last_error:
                log.warning("meter: %s: %s", dep.id, exc)
            return None, exc.reason
        except TimeoutError:
            return None, f"{source.name} timeout"
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("meter: %s: reading %s failed", dep.id, source.name)
            return None, f"{source.name} error"

    async def _read_tokens(self, dep: _Deployment, reader: TokenReader) -> EngineTokens | None:
        try:
            return await asyncio.wait_for(reader.read(), timeout=dep.cfg.timeout_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            dep.engine_failures += 1
            log.debug("meter: %s: engine token counters: %s", dep.id, exc)
            return None

    async def _read_and_apply(self, dep: _Deployment) -> None:
        source = dep.source
        assert source is not None
        tokens: EngineTokens | None = None
        if dep.token_reader is None:
            joules, reason = await self._read_energy(dep, source)
        else:
            (joules, reason), tokens = await asyncio.gather(
                self._read_energy(dep, source), self._read_tokens(dep, dep.token_reader)
            )
        try:
            self._apply(dep, self._clock(), joules, reason, tokens)
        except Exception:
            self.errors += 1
            log.exception("meter: applying a reading of %s failed", dep.id)

    def _apply(
        self,
        dep: _Deployment,
        now: float,
        joules: float | None,
        reason: str | None,
        tokens: EngineTokens | None,
    ) -> None:
        assert dep.source is not None
        name = dep.source.name
        dep.reads += 1
        if joules is None:
            dep.failures += 1
            dep.last_error = reason or f"{name} error"
            step = dep.tracker.failure(dep.last_error)
        else:
            step = dep.tracker.reading(joules)
        energy: TickEnergy
        if step.kind == "delta":
            energy = Measured(step.amount)
            dep.last_error = None
        elif step.kind == "stale":
            energy = Pending(None)
            dep.last_error = None
        elif step.kind == "error":
            energy = Pending(step.reason)
        elif step.kind == "reset":
            dep.resets += 1
            energy = Lost(f"{name} counter reset")
        else:
            energy = Lost(f"{name} {dep.baseline_reason}")
            dep.last_error = None
        engine_weight = dep.token_tracker.update(tokens) if dep.token_tracker is not None else None
        dep.ledger.close_tick(now, energy, engine_weight)
        since = dep.ledger.pending_since()
        if since is not None and now - since > self._max_pending_s:
            dep.ledger.abandon_pending(dep.last_error or f"{name} stale")
            dep.tracker.rebaseline()
            dep.baseline_reason = f"rebaseline after {dep.last_error or 'stale counter'}"
        dropped = dep.ledger.expire(now, self._max_open_s, self._max_request_s)
        if dropped:
            for cid in dropped:
                self._calls.pop(cid, None)
            dep.running = dep.ledger.running_requests()
            log.warning("meter: %s: dropped %d requests never finished", dep.id, len(dropped))

    # ------------------------------------------------------------------ reporting

    def snapshot(self) -> dict[str, DeploymentMeterSnapshot]:
        """Totals per configured deployment."""
        now = self._clock()
        out = {}
        for dep_id, dep in self._deps.items():
            t = dep.ledger.totals(now)
            rate = dep.cfg.cost_per_hour
            out[dep_id] = DeploymentMeterSnapshot(
                deployment_id=dep_id,
                source=dep.source.label if dep.source is not None else NONE,
                healthy=dep.last_error is None,
                last_error=dep.last_error,
                tick_s=dep.cfg.tick_s,
                metered_j=t.metered_j,
                attributed_j=t.attributed_j,
                idle_j=t.idle_j,
                idle_bucket_j=t.idle_bucket_j,
                others_j=t.others_j,
                carry_j=t.carry_j,
                estimated_j=t.estimated_j,
                attributed_gpu_s=t.attributed_gpu_s,
                idle_gpu_s=t.idle_gpu_s,
                idle_bucket_gpu_s=t.idle_bucket_gpu_s,
                others_gpu_s=t.others_gpu_s,
                attributed_cost_usd=gpu_cost_usd(t.attributed_gpu_s, rate),
                idle_cost_usd=gpu_cost_usd(t.idle_gpu_s, rate),
                others_cost_usd=gpu_cost_usd(t.others_gpu_s, rate),
                energy_cost_usd=energy_cost_usd(max(0.0, t.metered_j), dep.cfg.price_per_kwh),
                active_requests=t.active_requests,
                open_ticks=t.open_ticks,
                pending_s=t.pending_s,
                reads=dep.reads,
                read_failures=dep.failures,
                counter_resets=dep.resets,
                slow_samples=dep.slow,
                abandoned_requests=t.abandoned_requests,
                forced_ticks=t.forced_ticks,
                engine_read_failures=dep.engine_failures,
            )
        return out


def _count(value: object) -> int | None:
    """A token count from the caller, or None when it is not a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e12:
        return None
    return int(value)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    with contextlib.suppress(RuntimeError):
        return asyncio.get_running_loop()
    return None

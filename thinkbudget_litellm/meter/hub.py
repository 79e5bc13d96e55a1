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

Every reading is validated before it is believed (``validate``, ``counter.CounterTracker``,
``engine_tokens.EngineTokenTracker``): a non-finite, negative, backwards or implausible reading
(faster than the GPUs' power bound, ``MeterConfig.power_bound_w``) is counted in
``thinkbudget_meter_rejected_readings_total{source,reason}`` and its interval is billed from the
labelled estimate. A ``RequestEnergy`` never carries a non-finite or negative figure.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol

from thinkbudget_litellm import metrics
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
from thinkbudget_litellm.meter.config import MeterConfig, MeterConfigError
from thinkbudget_litellm.meter.cost import energy_cost_usd, gpu_cost_usd
from thinkbudget_litellm.meter.counter import CounterStep, CounterTracker, StepKind
from thinkbudget_litellm.meter.engine_tokens import (
    MAX_TOKENS_PER_GPU_S,
    EngineTokens,
    EngineTokenTracker,
    VllmTokenReader,
)
from thinkbudget_litellm.meter.provenance import EnergyLabel, EnergyProvenance
from thinkbudget_litellm.meter.sources.base import EnergyReader, RejectedReading, SourceError
from thinkbudget_litellm.meter.validate import Rejection, check_value, finite_non_negative
from thinkbudget_litellm.meter.window_store import WindowStore, window_key, window_scope
from thinkbudget_litellm.settings import EnergySource

if TYPE_CHECKING:
    from thinkbudget_litellm.settings import DeploymentSettings

log = logging.getLogger("thinkbudget_litellm.meter")

__all__ = [
    "DeploymentMeterSnapshot",
    "MeterConfig",
    "MeterConfigError",
    "MeterHub",
    "RequestEnergy",
    "request_energy",
]

CACHE_HIT_REASON = "cache hit"  # the energy label of a response served from a cache: none(cache hit)
_OPTIONAL_FIGURES = ("joules", "gpu_seconds", "cost_usd", "energy_cost_usd")
_FIGURES = ("idle_joules", "idle_gpu_seconds", "estimated_joules", "duration_s", "weight_tokens")


@dataclass(frozen=True, slots=True)
class RequestEnergy:
    """One request's attributed GPU energy and cost.

    Every figure is a finite number >= 0 (or None where optional): anything else raises
    ``ValueError`` at construction (the hub never builds one). ``source`` is the text of an
    ``EnergyLabel`` (``label``) as records, spend logs and headers carry it."""

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

    def __post_init__(self) -> None:
        for name in _OPTIONAL_FIGURES:
            value = getattr(self, name)
            if value is not None and not finite_non_negative(value):
                raise ValueError(f"RequestEnergy.{name} must be a finite number >= 0 or None, got {value!r}")
        for name in _FIGURES:
            value = getattr(self, name)
            if not finite_non_negative(value):
                raise ValueError(f"RequestEnergy.{name} must be a finite number >= 0, got {value!r}")

    @property
    def label(self) -> EnergyLabel:
        """The label ``source`` is the text of (``provenance.LabelError`` for other text)."""
        return EnergyLabel.parse(self.source)

    @property
    def provenance(self) -> EnergyProvenance:
        return self.label.provenance

    @property
    def total_cost_usd(self) -> float | None:
        """GPU-time cost plus energy cost (None when neither is known)."""
        parts = [c for c in (self.cost_usd, self.energy_cost_usd) if c is not None]
        return sum(parts) if parts else None

    @property
    def measured(self) -> bool:
        return self.label.measured

    def as_simulated(self) -> RequestEnergy:
        """The same figures labelled as the simulated backend's (``simulated(<label>)``)."""
        return dataclasses.replace(self, source=self.label.simulated().text)

    @classmethod
    def unmetered(cls, call_id: str, deployment_id: str | None, reason: str) -> RequestEnergy:
        return cls(call_id, deployment_id, None, None, None, None, EnergyLabel.none(reason).text, "none")

    @classmethod
    def cache_hit(cls, call_id: str, deployment_id: str | None) -> RequestEnergy:
        """A response served from a cache: nothing ran on the GPU, so 0 J, 0 GPU-seconds, $0."""
        return cls(call_id, deployment_id, 0.0, 0.0, 0.0, 0.0, EnergyLabel.none(CACHE_HIT_REASON).text, "none")


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
    power_bound_w: float  # readings faster than this are rejected (0 without an energy source)
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
    rejected_readings: int  # energy and engine-token readings not believed
    held_j: float = 0.0  # shared engine: settled energy in windows not priced yet
    held_gpu_s: float = 0.0
    idle_share: float | None = None  # shared engine: this instance's share of idle (recent token share)
    metered_gpu_s: float = 0.0  # GPU-seconds of settled ticks
    carry_gpu_s: float = 0.0  # shared engine: GPU-seconds corrections not handed on yet (signed)
    window_store_failures: int = 0  # shared engine: store calls that failed (own counts used)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class TokenReader(Protocol):
    async def read(self) -> EngineTokens: ...

    async def aclose(self) -> None: ...


SourceFactory = Callable[[str, MeterConfig, float], EnergyReader | None]
TokenReaderFactory = Callable[[str, MeterConfig], TokenReader | None]


def default_source(deployment_id: str, cfg: MeterConfig, now: float) -> EnergyReader | None:
    """The energy source a configuration names (None for ``none``)."""
    energy = cfg.energy
    if energy.source is EnergySource.NVML:
        from thinkbudget_litellm.meter.sources.nvml import NvmlSource

        return NvmlSource(cfg.nvml_devices)
    if energy.source is EnergySource.DCGM:
        from thinkbudget_litellm.meter.sources.dcgm import DcgmSource

        assert energy.url is not None  # EnergySettings requires it
        return DcgmSource(energy.url, cfg.devices, energy.timeout_s)
    if energy.source is EnergySource.ESTIMATE:
        from thinkbudget_litellm.meter.sources.estimate import EstimateSource

        assert energy.watts is not None  # EnergySettings requires it
        return EstimateSource(energy.watts, energy.idle_watts, cfg.gpu.count, now)
    return None


def default_token_reader(deployment_id: str, cfg: MeterConfig) -> TokenReader | None:
    if cfg.uses_engine_tokens and cfg.tokens.url:
        return VllmTokenReader(cfg.tokens.url, cfg.energy.timeout_s)
    return None


@dataclass(frozen=True, slots=True)
class _EnergyRead:
    """What one read of a source gave: a value, a failure reason, or a rejection by the source
    itself (with the value to restart from after a reset)."""

    value: float | None = None
    reason: str | None = None
    rejection: Rejection | None = None
    restart: float | None = None


class _Deployment:
    def __init__(
        self,
        deployment_id: str,
        cfg: MeterConfig,
        source: EnergyReader | None,
        reader: TokenReader | None,
        now: float,
        max_staleness_s: float,
    ) -> None:
        self.id = deployment_id
        self.cfg = cfg
        energy = cfg.energy
        self.source = source
        self.tracker = CounterTracker(source.stale_on_equal if source is not None else False, max_staleness_s)
        self.token_reader = reader
        self.token_tracker = EngineTokenTracker(energy.prefill_weight, max_staleness_s) if reader is not None else None
        self.ledger = Ledger(
            LedgerConfig(
                gpu_count=cfg.gpu.count,
                prefill_weight=energy.prefill_weight,
                spread_idle=energy.spread_idle,
                has_energy=source is not None,
                source_name=source.name if source is not None else "none",
                source_label=source.label if source is not None else EnergyProvenance.NONE,
                busy_watts=energy.watts,
                idle_watts=energy.idle_watts,
                window_s=cfg.tokens.window_s,
                shared=reader is not None,
                settle_s=cfg.tokens.settle_s,
            ),
            start=now,
        )
        # shared engine: the windows' sums in the store, keyed by the engine and the window length
        self.scope = window_scope(cfg.tokens.url or deployment_id, cfg.tokens.window_s)
        self.member = f"{uuid.uuid4().hex[:12]}:{deployment_id}"  # this instance's field in the store
        self.store_failures = 0
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
        self.rejected = 0
        self.warned: set[tuple[str, Rejection]] = set()

    def power_bound_w(self) -> float:
        source = self.source
        if source is None:
            return 0.0
        return self.cfg.power_bound_w(source.gpus_read, source.power_limit_w)


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
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """``max_open_s``: longest a tick waits for unknown weights; ``max_pending_s``: longest
        energy waits for a counter that does not move or cannot be read (then estimated; keep it
        above the DCGM exporter's collect interval; it is also how old a baseline reading may be
        when the plausibility of the first delta after it is judged); ``max_request_s``: requests
        never finished are dropped after this."""
        self._clock = clock
        self._max_open_s = max_open_s
        self._max_pending_s = max_pending_s
        self._max_request_s = max_request_s
        self._source_factory = source_factory
        self._token_reader_factory = token_reader_factory
        self._wall_clock = wall_clock
        self._store: WindowStore | None = None
        self._deps: dict[str, _Deployment] = {}
        self._calls: dict[str, _Call] = {}
        self._started = False
        self._background: set[asyncio.Task[None]] = set()
        self.errors = 0  # internal errors swallowed (logged)
        self.stray_calls = 0  # unknown or duplicate call ids

    # ------------------------------------------------------------------ configuration

    def configure(self, deployment_id: str, settings: DeploymentSettings | MeterConfig) -> None:
        """Set up (or update) a deployment's meter; the same settings twice is a no-op.

        The settings are validated already (``DeploymentSettings``, ``MeterConfig``); raises
        ``MeterConfigError`` when a source cannot be set up with them.
        """
        cfg = settings if isinstance(settings, MeterConfig) else MeterConfig.from_settings(settings)
        old = self._deps.get(deployment_id)
        if old is not None and old.cfg == cfg:
            return
        now = self._clock()
        try:
            source = self._source_factory(deployment_id, cfg, now)
            reader = self._token_reader_factory(deployment_id, cfg)
        except ValueError as exc:
            raise MeterConfigError(f"deployment {deployment_id}: {exc}") from None
        dep = _Deployment(deployment_id, cfg, source, reader, now, self._max_pending_s)
        self._deps[deployment_id] = dep
        self._share(dep)
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

    def bind_window_store(self, store: WindowStore | None) -> None:
        """Settle shared engines' windows with every instance's weight summed in ``store``
        (``window_store``; LiteLLM's coordination Redis in the proxy); None: each instance's own
        counts. Windows open already keep the rule they began with."""
        self._store = store
        for dep in self._deps.values():
            self._share(dep)

    @property
    def window_store_bound(self) -> bool:
        return self._store is not None

    def _share(self, dep: _Deployment) -> None:
        on = self._store is not None and dep.cfg.tokens.redis and dep.token_reader is not None
        dep.ledger.share_through_store(on, self._wall_clock() - self._clock())  # windows on the wall clock

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
                await self._settle_windows(dep)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.errors += 1
                log.exception("meter: tick of %s failed", dep.id)
            await asyncio.sleep(dep.cfg.energy.tick_s)

    async def _settle_windows(self, dep: _Deployment) -> None:
        """Shared engine with a store: add our weight of the windows that ended to their sums, then
        read the sums that are due (``settle_s`` after a window's end). A store call that fails or
        takes longer than ``timeout_s`` is counted and made again at the next tick (safe: the store
        keeps each instance's cumulative figure); a window whose sum stays unknown past
        ``give_up_s`` is priced with this instance's own counts and the engine's."""
        store = self._store
        ledger = dep.ledger
        if store is None:
            return
        now = self._clock()
        timeout = dep.cfg.energy.timeout_s
        member = dep.member
        items = ledger.to_publish(now)
        if items:
            try:
                keys = [(window_key(dep.scope, i), w) for i, w in items]
                answers: list[bool | None] = list(await asyncio.wait_for(store.publish(member, keys), timeout))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._store_failed(dep, "publish", exc)
                answers = [None] * len(items)
            for (index, weight), accepted in zip(items, answers, strict=True):
                ledger.published(index, weight, accepted)
        now = self._clock()
        due = ledger.to_seal(now)
        if due:
            try:
                keys_due = [window_key(dep.scope, i) for i in due]
                sums: list[tuple[float, float] | None] = list(
                    await asyncio.wait_for(store.seal(member, keys_due), timeout)
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._store_failed(dep, "seal", exc)
                sums = [None] * len(due)
            for index, answer in zip(due, sums, strict=True):
                ledger.sealed(index, answer, now)

    def _store_failed(self, dep: _Deployment, call: str, exc: BaseException) -> None:
        dep.store_failures += 1
        log.warning("meter: %s: window store (%s) failed: %r; asked again at the next tick", dep.id, call, exc)

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

    def request_discarded(self, call_id: str) -> None:
        """``call_id`` ran nothing on the GPU after all (LiteLLM answered it from its cache): it is
        forgotten without a share of any tick (never raises)."""
        call = self._calls.pop(call_id, None)
        if call is None or call.dep is None or call.ledger is None:
            return
        dep = call.dep
        try:
            if call.ledger.discard_request(call_id):
                dep.running = max(0, dep.running - 1)
                if dep.running == 0 and dep.source is not None:
                    dep.source.note_activity(False, self._clock())
            if dep.retired and dep.running == 0:
                self._spawn(self._close(dep))
        except Exception:
            self.errors += 1
            log.exception("meter: request_discarded(%s) failed", call_id)

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
        energy, rejection = request_energy(dep.id, share, dep.cfg)
        if rejection is not None:
            self._rejected(dep, dep.source.name if dep.source is not None else "none", rejection)
        return energy

    def _rejected(self, dep: _Deployment, source: str, rejection: Rejection) -> None:
        dep.rejected += 1
        metrics.METER_REJECTED_READINGS.labels(source=source, reason=rejection.value).inc()
        if (source, rejection) not in dep.warned:
            dep.warned.add((source, rejection))
            log.warning("meter: %s: %s reading rejected (%s); billed from the estimate", dep.id, source, rejection)

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
        await self._settle_windows(dep)

    async def _sample(self, dep: _Deployment) -> None:
        task = dep.inflight
        if task is None or task.done():
            task = asyncio.ensure_future(self._read_and_apply(dep))
            dep.inflight = task
        await asyncio.shield(task)

    async def _fresh_sample(self, dep: _Deployment) -> None:
        try:
            await asyncio.wait_for(self._sample(dep), timeout=dep.cfg.energy.timeout_s)
        except TimeoutError:
            dep.slow += 1

    async def _read_energy(self, dep: _Deployment, source: EnergyReader, sent: float) -> _EnergyRead:
        try:
            value = await asyncio.wait_for(source.read_joules(sent), timeout=dep.cfg.energy.timeout_s)
            return _EnergyRead(value=value)
        except RejectedReading as exc:
            log.debug("meter: %s: %s", dep.id, exc)
            return _EnergyRead(rejection=exc.rejection, restart=exc.value)
        except SourceError as exc:
            if exc.reason != dep.last_error:
                log.warning("meter: %s: %s", dep.id, exc)
            return _EnergyRead(reason=exc.reason)
        except TimeoutError:
            return _EnergyRead(reason=f"{source.name} timeout")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("meter: %s: reading %s failed", dep.id, source.name)
            return _EnergyRead(reason=f"{source.name} error")

    async def _read_tokens(self, dep: _Deployment, reader: TokenReader) -> EngineTokens | None:
        try:
            return await asyncio.wait_for(reader.read(), timeout=dep.cfg.energy.timeout_s)
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
        sent = self._clock()
        if dep.token_reader is None:
            read = await self._read_energy(dep, source, sent)
        else:
            read, tokens = await asyncio.gather(
                self._read_energy(dep, source, sent), self._read_tokens(dep, dep.token_reader)
            )
        try:
            self._apply(dep, sent, self._clock(), read, tokens)
        except Exception:
            self.errors += 1
            log.exception("meter: applying a reading of %s failed", dep.id)

    def _step(self, dep: _Deployment, sent: float, received: float, read: _EnergyRead) -> CounterStep:
        """The counter step of one read; rejected readings (by the source or here) are counted."""
        assert dep.source is not None
        name = dep.source.name
        if read.rejection is Rejection.BACKWARDS:
            step = dep.tracker.restart(read.restart, sent)
        elif read.rejection is not None:
            step = CounterStep(StepKind.REJECTED, rejection=read.rejection)
        elif read.value is None:
            dep.failures += 1
            dep.last_error = read.reason or f"{name} error"
            return dep.tracker.failure(dep.last_error)
        else:
            step = dep.tracker.reading(read.value, sent, received, dep.power_bound_w())
        if step.rejection is not None:
            self._rejected(dep, name, step.rejection)
        return step

    def _apply(
        self,
        dep: _Deployment,
        sent: float,
        now: float,
        read: _EnergyRead,
        tokens: EngineTokens | None,
    ) -> None:
        assert dep.source is not None
        name = dep.source.name
        dep.reads += 1
        step = self._step(dep, sent, now, read)
        energy: TickEnergy
        if step.kind is StepKind.DELTA:
            energy = Measured(step.amount)
            dep.last_error = None
        elif step.kind is StepKind.STALE:
            energy = Pending(None)
            dep.last_error = None
        elif step.kind is StepKind.ERROR:
            energy = Pending(step.reason)
        elif step.kind is StepKind.REJECTED:
            assert step.rejection is not None
            dep.last_error = f"{name} {step.rejection.describe}"
            energy = Pending(dep.last_error)
        elif step.kind is StepKind.RESET:
            dep.resets += 1
            energy = Lost(f"{name} counter reset")
        else:
            energy = Lost(f"{name} {dep.baseline_reason}")
            dep.last_error = None
        engine_weight = None
        if dep.token_tracker is not None:
            token_step = dep.token_tracker.update(tokens, sent, now, MAX_TOKENS_PER_GPU_S * dep.cfg.gpu.count)
            if token_step.rejection is not None:
                self._rejected(dep, "vllm", token_step.rejection)
            engine_weight = token_step.weight
        # the tick ends when the counters were read, not when their answer was handled: a proxy
        # whose event loop stalled handles it seconds later, and a tick closed then would pair the
        # stall's seconds with energy read before it (and the next tick's 0.2 s with the stall's
        # energy: a power estimate many times too high for the ticks forced meanwhile)
        dep.ledger.close_tick(sent, energy, engine_weight)
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
            rate = dep.cfg.gpu.cost_per_hour
            out[dep_id] = DeploymentMeterSnapshot(
                deployment_id=dep_id,
                source=str(dep.source.label if dep.source is not None else EnergyProvenance.NONE),
                healthy=dep.last_error is None,
                last_error=dep.last_error,
                tick_s=dep.cfg.energy.tick_s,
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
                energy_cost_usd=energy_cost_usd(max(0.0, t.metered_j), dep.cfg.energy.price_per_kwh),
                power_bound_w=dep.power_bound_w(),
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
                rejected_readings=dep.rejected,
                held_j=t.held_j,
                held_gpu_s=t.held_gpu_s,
                idle_share=t.idle_share,
                metered_gpu_s=t.metered_gpu_s,
                carry_gpu_s=t.carry_gpu_s,
                window_store_failures=dep.store_failures,
            )
        return out


def request_energy(deployment_id: str, share: RequestShare, cfg: MeterConfig) -> tuple[RequestEnergy, Rejection | None]:
    """A request's figures out of its ledger share (pure), and the last guard: a figure that is not
    a finite number >= 0 is not billed (joules: the label says why, with the rejection returned;
    other figures: None or 0) and no price of one is returned."""
    label = share.label
    joules = _figure(share.joules)
    rejection = None
    if joules is None and share.joules is not None:
        rejection = check_value(share.joules) or Rejection.NON_FINITE
        label = EnergyLabel.unmetered(f"meter {rejection.describe}")
    gpu_s = _figure(share.gpu_seconds)
    energy = RequestEnergy(
        call_id=share.call_id,
        deployment_id=deployment_id,
        joules=joules,
        gpu_seconds=gpu_s,
        cost_usd=_priced(gpu_cost_usd, gpu_s, cfg.gpu.cost_per_hour),
        energy_cost_usd=_priced(energy_cost_usd, joules, cfg.energy.price_per_kwh),
        source=label.text,
        attribution="token_share:vllm" if share.engine_denominator else "token_share",
        idle_joules=_figure(share.idle_joules) or 0.0,
        idle_gpu_seconds=_figure(share.idle_gpu_seconds) or 0.0,
        estimated_joules=_figure(share.estimated_joules) or 0.0,
        duration_s=_figure(share.duration_s) or 0.0,
        weight_tokens=_figure(share.weight) or 0.0,
    )
    return energy, rejection


def _figure(value: float | None) -> float | None:
    """``value`` when it is a finite number >= 0, else None."""
    return value if value is not None and finite_non_negative(value) else None


def _priced(price: Callable[[float, float], float], amount: float | None, rate: float) -> float | None:
    """``price(amount, rate)``, or None when the amount is unknown or the product is not finite."""
    if amount is None:
        return None
    try:
        return price(amount, rate)
    except ValueError:
        return None


def _count(value: object) -> int | None:
    """A token count from the caller, or None when it is not a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e12:
        return None
    return int(value)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    with contextlib.suppress(RuntimeError):
        return asyncio.get_running_loop()
    return None

"""Token-share attribution of one deployment's GPU energy and GPU-seconds to its requests (pure).

The ledger is a state machine fed with plain values and explicit times (it reads no clock and does
no I/O). The hub feeds it; tests drive it directly.

Ticks
    The deployment's counter is sampled on a tick (``tick_s``) and whenever a request finishes.
    Each sample closes a tick ``[start, end]``. A tick's participants are the requests active at
    some point in it; each participant's *weight* in the tick is the tokens it generated there plus
    ``prefill_weight`` x its prompt tokens when its prefill is placed there. The tick's energy and
    its GPU-seconds (``gpu_count x duration``) are split with ``tick_shares.split_tick``: by weight,
    with uncovered time going to the idle bucket.

Shared engines (a tick that carries the engine's own token weight, ``tokens.source: vllm``)
    Such ticks are not split one by one: they join a settlement window (``window_s``) and our
    requests pay the window's per-token price, ``energy / max(our weight, engine weight)``, the
    rest being other proxy instances'; idle windows are split by this instance's recent token share
    (``window_price``, which states the method and its error bound). With ``shared`` every tick
    joins a window: a tick without the engine's count (its read failed or timed out, or a request's
    finish closed it) counts no engine tokens, and the next reading's delta brings them, as a
    failed energy read is covered by the next good one. Such a tick is never idle on its own.
    (Without ``shared``, a tick without an engine count is split by the proxy's own tokens, which
    with N instances bills that tick N times: measured +16% to +54% with two real proxies on a
    loaded machine, where a 2 s read timeout stalls a few seconds of traffic.)

Prefill placement
    A streaming request's prompt weight goes to the tick where its first token is reported (prefill
    ends just before it). A request that reports no token before it finishes gets its prompt weight
    in the first of its ticks that is still open.

Non-streaming requests (tokens known only at finish)
    A request started with ``streaming=False``, or with ``streaming=None`` before its first token,
    has an *unknown* weight in its ticks. Such ticks stay open. At finish, the completion tokens not
    yet reported are spread over the request's still-open ticks (and the current one) in proportion
    to its active time in each; the same rule covers a streaming request whose reports fell short of
    its final usage. A ``streaming=None`` request that reports a first token becomes streaming: its
    earlier ticks get weight 0 (it was queued or prefilling).

Closing ticks early (bounded waits)
    A tick is settled (its shares become final and are credited) once its energy is known and every
    participant's weight is known. It is settled early, *forced*, when a participant finishes (its
    figure is due now) or when it is older than ``max_open_s``. A forced tick gives each unknown
    participant ``rate x active time``, where rate is the mean per-request token rate of the known
    generating participants of that tick, else the recent per-request rate of finished requests on
    the deployment, else 1 token/s; tokens reported later go to that request's still-open ticks.

Energy of a tick
    A counter delta covers the *run* of ticks since the counter last moved (a hardware counter that
    did not move was not updated yet, a failed read is covered by the next good one): it is spread
    over the run's ticks in proportion to duration. A tick forced while its energy is still pending
    gets an estimate (recent measured power x duration; else configured watts; else unknown). When
    the delta arrives, the forced ticks' time-proportional part minus their estimates is the
    *carry*, handed (signed) to the next settled busy tick's participants, so that nothing is lost
    or counted twice. A run the counter can no longer cover (reset, new baseline, or pending longer
    than the hub's ``max_pending_s``) is estimated and labelled ``estimated(fallback:<reason>)``.
    A counter delta that is not a finite number >= 0 never gets here (the hub validates readings);
    should one arrive anyway, it is treated like a lost run.

Idle
    Idle energy and GPU-seconds accumulate in an idle bucket that is reported. With
    ``spread_idle`` the bucket is emptied into the next settled busy tick, split by that tick's
    shares (it never goes to other instances).

Conservation
    Every tick's fractions sum to 1, so once everything is settled:
    ``attributed + idle bucket + others + carry == counter deltas + fallback estimates``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from thinkbudget_litellm.meter.provenance import EnergyLabel, EnergyProvenance
from thinkbudget_litellm.meter.tick_shares import Participant, coverage, split_tick
from thinkbudget_litellm.meter.validate import finite_non_negative
from thinkbudget_litellm.meter.window_price import Closed, WindowBook

NONE = EnergyLabel(EnergyProvenance.NONE)

# ----------------------------------------------------------------------------- tick energy inputs


@dataclass(frozen=True, slots=True)
class Measured:
    """The counter moved by ``joules`` since it last moved: covers the pending run and this tick."""

    joules: float


@dataclass(frozen=True, slots=True)
class Pending:
    """No news from the counter (not updated yet, or the read failed with ``reason``)."""

    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Lost:
    """The counter cannot cover the pending run and this tick (reset, new baseline)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Unmetered:
    """The deployment has no energy source: GPU-seconds only."""


TickEnergy = Measured | Pending | Lost | Unmetered


@dataclass(frozen=True, slots=True)
class LedgerConfig:
    gpu_count: int = 1
    prefill_weight: float = 0.1
    spread_idle: bool = False
    has_energy: bool = True
    source_name: str = "nvml"  # used in fallback reasons
    source_label: EnergyProvenance = EnergyProvenance.MEASURED_NVML  # provenance of measured energy
    busy_watts: float | None = None  # per GPU, for fallback estimates
    idle_watts: float = 0.0  # per GPU
    window_s: float = 0.0  # shared engines: settlement window (0: one per tick)
    idle_horizon_s: float = 300.0  # shared engines: horizon of the token share that splits idle
    shared: bool = False  # the engine's token counts are the denominator: every tick joins a window
    settle_s: float = 10.0  # shared store: a window's shared sum is read this long after its end
    clock_offset: float = 0.0  # added to the caller's times: the wall clock windows are aligned on

    def __post_init__(self) -> None:
        object.__setattr__(self, "source_label", EnergyProvenance(self.source_label))  # also from its text
        if self.gpu_count < 1:
            raise ValueError(f"gpu_count must be >= 1, got {self.gpu_count}")
        if self.prefill_weight < 0:
            raise ValueError(f"prefill_weight must be >= 0, got {self.prefill_weight}")
        if self.busy_watts is not None and self.busy_watts <= 0:
            raise ValueError(f"busy_watts must be > 0, got {self.busy_watts}")
        if self.idle_watts < 0:
            raise ValueError(f"idle_watts must be >= 0, got {self.idle_watts}")
        if not 0 <= self.window_s < float("inf"):
            raise ValueError(f"window_s must be a finite number >= 0, got {self.window_s}")
        if not 0 < self.idle_horizon_s < float("inf"):
            raise ValueError(f"idle_horizon_s must be a finite number > 0, got {self.idle_horizon_s}")
        if not 0 <= self.settle_s < float("inf"):
            raise ValueError(f"settle_s must be a finite number >= 0, got {self.settle_s}")


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class RequestShare:
    """What one request was attributed, final once the request is settled."""

    call_id: str
    joules: float | None  # None when any part of it could not be metered or estimated
    gpu_seconds: float
    idle_joules: float  # part of ``joules`` that is spread idle energy
    idle_gpu_seconds: float  # part of ``gpu_seconds`` that is spread idle time
    estimated_joules: float  # part of ``joules`` that was estimated rather than measured
    label: EnergyLabel  # where its energy came from (worst of its ticks)
    engine_denominator: bool  # the vLLM engine counters were the denominator in some tick
    duration_s: float
    weight: float  # its total token weight (generated + prefill-weighted prompt)

    @property
    def source(self) -> str:
        """The label's text (``measured:nvml``, ``estimated(fallback:dcgm timeout)`` ...)."""
        return self.label.text


@dataclass(frozen=True, slots=True)
class LedgerTotals:
    metered_j: float  # energy of settled ticks (measured + estimated)
    attributed_j: float  # credited to this instance's requests (spread idle and carry included)
    attributed_gpu_s: float
    idle_j: float  # all idle energy ever
    idle_gpu_s: float
    idle_bucket_j: float  # idle energy not spread (yet)
    idle_bucket_gpu_s: float
    others_j: float  # other proxy instances' share (engine denominator)
    others_gpu_s: float
    carry_j: float  # estimate and window-price corrections not yet handed on (signed)
    estimated_j: float  # estimated energy in settled ticks
    pending_s: float  # age of the oldest tick whose energy waits for the counter (0 if none)
    open_ticks: int
    active_requests: int
    settled_ticks: int
    forced_ticks: int
    abandoned_requests: int
    carry_gpu_s: float = 0.0  # window-price corrections of GPU-seconds not yet handed on (signed)
    held_j: float = 0.0  # shared engines: settled energy not handed out yet (windows not priced)
    held_gpu_s: float = 0.0
    idle_share: float | None = None  # shared engines: this instance's recent token share
    metered_gpu_s: float = 0.0  # GPU-seconds of settled ticks (gpu_count x their duration)


# ----------------------------------------------------------------------------- internal state

_EnergyState = Literal["pending", "forced", "final"]


class _Acc:
    __slots__ = ("est_j", "gpu_s", "idle_gpu_s", "idle_j", "joules", "labels", "unknown", "used_engine")

    def __init__(self) -> None:
        self.joules = 0.0
        self.unknown = False
        self.gpu_s = 0.0
        self.idle_j = 0.0
        self.idle_gpu_s = 0.0
        self.est_j = 0.0
        self.labels: set[EnergyLabel] = set()
        self.used_engine = False


class _Req:
    __slots__ = (
        "acc",
        "call_id",
        "deferred",
        "end",
        "first_token_seen",
        "guessed",
        "open_ticks",
        "prompt_placed",
        "prompt_weight",
        "reported",
        "resolved",
        "start",
        "streaming",
        "weight",
        "windows",
    )

    def __init__(self, call_id: str, start: float, prompt_weight: float, streaming: bool | None) -> None:
        self.call_id = call_id
        self.start = start
        self.end: float | None = None
        self.prompt_weight = prompt_weight
        self.streaming = streaming
        self.first_token_seen = False
        self.prompt_placed = False
        self.resolved = False  # finished with its final token count spread
        self.reported = 0.0  # generated tokens in closed ticks
        self.guessed = 0.0  # generated tokens forced ticks gave it (rate x time) while its count was unknown
        self.weight = 0.0
        self.open_ticks: list[_Tick] = []
        # shared engines: [weight, value J, value GPU-s] per settlement window, not credited yet, and
        # (window, active s, J and GPU-s per token of its tick) of parts whose tokens come at finish
        self.windows: dict[int, list[float]] = {}
        self.deferred: list[tuple[int, float, float, float]] = []
        self.acc = _Acc()

    @property
    def known(self) -> bool:
        return self.resolved or self.streaming is True or self.first_token_seen


class _Part:
    __slots__ = ("end", "gen", "known", "prompt", "req", "start")

    def __init__(self, req: _Req, gen: float, prompt: float, start: float, end: float, known: bool) -> None:
        self.req = req
        self.gen = gen
        self.prompt = prompt
        self.start = start
        self.end = end
        self.known = known


class _Tick:
    __slots__ = (
        "end",
        "energy",
        "engine_known",
        "engine_weight",
        "estimate",
        "estimated",
        "label",
        "parts",
        "settled",
        "start",
        "state",
        "unknown",
        "window",
    )

    def __init__(self, start: float, end: float, engine_weight: float | None, engine_known: bool = True) -> None:
        self.start = start
        self.end = end
        self.engine_weight = engine_weight
        self.engine_known = engine_known  # False: the engine's tokens of this tick come with a later reading
        self.parts: dict[str, _Part] = {}
        self.unknown = 0
        self.state: _EnergyState = "final"
        self.energy: float | None = None
        self.estimate: float | None = None  # what a forced tick was given
        self.estimated = False
        self.label = NONE
        self.settled = False
        self.window: int | None = None  # shared engines: its settlement window

    @property
    def duration(self) -> float:
        return self.end - self.start


_EWMA = 0.3


# ----------------------------------------------------------------------------- the ledger


class Ledger:
    """Ticks and requests of one deployment. All times are the caller's clock, in seconds."""

    def __init__(self, config: LedgerConfig, start: float) -> None:
        self._cfg = config
        self._cur_start = start
        self._cur_tokens: dict[str, float] = {}
        self._cur_prompt: dict[str, float] = {}
        self._active: dict[str, _Req] = {}  # take part in the current tick
        self._reqs: dict[str, _Req] = {}  # not settled yet
        self._open: list[_Tick] = []  # closed, not settled, chronological
        self._run: list[_Tick] = []  # energy waits for the counter, chronological
        self._run_reason: str | None = None
        self._power_w: float | None = None  # recent measured power (W)
        self._rate: float | None = None  # recent per-request generation rate (tokens/s)
        self._idle_bucket_j = 0.0
        self._idle_bucket_gpu_s = 0.0
        self._carry = 0.0
        self._carry_gpu = 0.0
        self._book = WindowBook(config.window_s, config.idle_horizon_s, config.settle_s, config.clock_offset)
        self._tick_price: tuple[float, float] = (0.0, 0.0)  # J, GPU-s per token of the last busy shared tick
        self._metered = 0.0
        self._metered_gpu = 0.0
        self._attributed = 0.0
        self._attributed_gpu = 0.0
        self._idle_j = 0.0
        self._idle_gpu = 0.0
        self._others_j = 0.0
        self._others_gpu = 0.0
        self._estimated = 0.0
        self._settled = 0
        self._forced = 0
        self._abandoned = 0

    # ------------------------------------------------------------------ requests

    @property
    def config(self) -> LedgerConfig:
        return self._cfg

    def has_request(self, call_id: str) -> bool:
        return call_id in self._reqs

    @property
    def current_start(self) -> float:
        return self._cur_start

    def start_request(self, call_id: str, at: float, prompt_tokens: int, streaming: bool | None = None) -> bool:
        """Register a request; False (ignored) when the id is already in flight."""
        if call_id in self._reqs:
            return False
        prompt_weight = self._cfg.prefill_weight * max(0, prompt_tokens)
        req = _Req(call_id, max(at, self._cur_start), prompt_weight, streaming)
        self._reqs[call_id] = req
        self._active[call_id] = req
        return True

    def add_tokens(self, call_id: str, n: float) -> None:
        """Tokens generated by ``call_id`` just now (hot path: one dict update)."""
        if n > 0:
            tokens = self._cur_tokens
            tokens[call_id] = tokens.get(call_id, 0.0) + n

    def finish_request(self, call_id: str, at: float, completion_tokens: int | None) -> bool:
        """Mark the request finished at ``at``; spread unreported completion tokens over its open ticks."""
        req = self._reqs.get(call_id)
        if req is None or req.end is not None:
            return False
        end = max(at, req.start, self._cur_start if call_id in self._active else req.start)
        req.end = end
        in_current = call_id in self._active
        slots: list[tuple[_Tick | int | None, float]] = [(i, s) for i, (_, s, _, _) in enumerate(req.deferred)]
        slots += [(t, max(0.0, t.parts[call_id].end - t.parts[call_id].start)) for t in req.open_ticks if not t.settled]
        if in_current:
            slots.append((None, max(0.0, end - max(req.start, self._cur_start))))
        reported = req.reported + self._cur_tokens.get(call_id, 0.0)
        if completion_tokens is not None:
            residual = max(0.0, float(completion_tokens) - reported - req.guessed)
            total = sum(o for _, o in slots)
            for tick, overlap in slots:
                part_tokens = residual * overlap / total if total > 0 else residual / len(slots)
                if part_tokens <= 0:
                    continue
                if tick is None:
                    self._cur_tokens[call_id] = self._cur_tokens.get(call_id, 0.0) + part_tokens
                elif isinstance(tick, int):
                    self._add_deferred_weight(req, tick, part_tokens)
                else:
                    tick.parts[call_id].gen += part_tokens
            duration = end - req.start
            if duration > 0 and completion_tokens > 0:
                rate = completion_tokens / duration
                self._rate = rate if self._rate is None else (1 - _EWMA) * self._rate + _EWMA * rate
            req.resolved = True
        elif req.streaming is not False:
            req.resolved = True  # the reports are all there is
        if not req.prompt_placed and slots and req.prompt_weight > 0:
            first_tick = slots[0][0]
            if first_tick is None:
                self._cur_prompt[call_id] = self._cur_prompt.get(call_id, 0.0) + req.prompt_weight
            elif isinstance(first_tick, int):
                self._add_deferred_weight(req, first_tick, req.prompt_weight)
            else:
                first_tick.parts[call_id].prompt += req.prompt_weight
            req.prompt_placed = True
        if req.resolved:
            for tick in req.open_ticks:
                if not tick.settled:
                    self._mark_known(tick, tick.parts[call_id])
            self._undefer(req, 0.0)
        self._settle_ready()
        return True

    def discard_request(self, call_id: str) -> bool:
        """Forget a request that ran nothing on the GPU (a response served from a cache): it leaves
        every tick not yet settled as if it had never started, so it takes no share of any of them
        and the tick's energy goes to the others and the idle bucket. False for an unknown id."""
        req = self._reqs.pop(call_id, None)
        if req is None:
            return False
        self._active.pop(call_id, None)
        self._cur_tokens.pop(call_id, None)
        self._cur_prompt.pop(call_id, None)
        for tick in req.open_ticks:
            part = tick.parts.pop(call_id, None)
            if part is not None and not part.known:
                tick.unknown -= 1
        req.open_ticks = []
        for window, _, _, _ in req.deferred:  # shared engines: its windows no longer wait for it
            self._book.defer(window, -1)
        req.deferred = []
        if req.windows:  # weight it had in a settled shared window is booked, not lost
            self._credit_windows(req)
        self._return_to_idle(req.acc)
        self._settle_ready()
        self._close_windows()
        return True

    def _return_to_idle(self, acc: _Acc) -> None:
        """What a discarded request was already credited (a tick forced while its weight was unknown
        guessed it ``rate x active time``) goes to the idle bucket: it keeps no share, the books
        still balance."""
        joules, gpu_s = acc.joules, acc.gpu_s
        if joules == 0.0 and gpu_s == 0.0:
            return
        self._attributed -= joules
        self._attributed_gpu -= gpu_s
        self._idle_bucket_j += joules
        self._idle_bucket_gpu_s += gpu_s
        self._idle_j += joules - acc.idle_j  # the spread idle it held was counted as idle already
        self._idle_gpu += gpu_s - acc.idle_gpu_s
        acc.joules = acc.gpu_s = acc.idle_j = acc.idle_gpu_s = acc.est_j = 0.0

    def settle_request(self, call_id: str, now: float) -> RequestShare | None:
        """Force every tick of a finished request and return its final share (None: unknown id)."""
        req = self._reqs.get(call_id)
        if req is None:
            return None
        if req.end is None:
            self.finish_request(call_id, now, None)
        if call_id in self._active:
            assert req.end is not None
            idle_here = req.end <= self._cur_start and call_id not in self._cur_tokens
            if idle_here and call_id not in self._cur_prompt:
                del self._active[call_id]  # finished exactly at the last close: nothing in this tick
            else:
                self.close_tick(now, Pending() if self._cfg.has_energy else Unmetered())
        for tick in list(req.open_ticks):
            if not tick.settled:
                self._settle(tick, forced=True)
        self._undefer(req, self._rate if self._rate is not None else 1.0)  # never told its count
        self._open = [t for t in self._open if not t.settled]
        self._settle_ready()
        self._close_windows()
        del self._reqs[call_id]
        self._credit_windows(req)
        return self._share(req)

    # ------------------------------------------------------------------ ticks

    def close_tick(self, now: float, energy: TickEnergy, engine_weight: float | None = None) -> None:
        """Close the current tick at ``now`` with what the counter said (and the engine's token
        weight, None: no count for this tick); settle what is ready."""
        start = self._cur_start
        end = max(now, start)
        if engine_weight is None and self._cfg.shared:  # the next reading's delta covers this tick
            tick = _Tick(start, end, 0.0, engine_known=False)
        else:
            tick = _Tick(start, end, engine_weight)
        if tick.engine_weight is not None:
            tick.window = self._book.assign(end, start)
        tokens, prompts = self._cur_tokens, self._cur_prompt
        self._cur_tokens, self._cur_prompt = {}, {}
        self._cur_start = end
        done = []
        for cid, req in self._active.items():
            lo = max(req.start, start)
            hi = end if req.end is None else max(lo, min(req.end, end))
            gen = tokens.get(cid, 0.0)
            prompt = prompts.get(cid, 0.0)
            req.reported += gen
            if gen > 0 and not req.prompt_placed:
                prompt += req.prompt_weight
                req.prompt_placed = True
            if gen > 0 and not req.first_token_seen:
                req.first_token_seen = True
                if req.streaming is None:  # it streams after all: earlier ticks were queue/prefill
                    for earlier in req.open_ticks:
                        if not earlier.settled:
                            self._mark_known(earlier, earlier.parts[cid])
                    self._undefer(req, 0.0)
            part = _Part(req, gen, prompt, lo, hi, req.known)
            tick.parts[cid] = part
            if not part.known:
                tick.unknown += 1
            req.open_ticks.append(tick)
            if req.end is not None:
                done.append(cid)
        for cid in done:
            del self._active[cid]
        self._apply_energy(tick, energy)
        self._open.append(tick)
        self._settle_ready()
        self._close_windows()

    def running_requests(self) -> int:
        """Requests started and not finished."""
        return sum(1 for r in self._reqs.values() if r.end is None)

    def pending_since(self) -> float | None:
        """Start of the oldest tick whose energy waits for the counter, or None."""
        return self._run[0].start if self._run else None

    def abandon_pending(self, reason: str) -> None:
        """Give up waiting for the counter: estimate the pending run (the caller re-baselines)."""
        self._estimate_run(reason)
        self._settle_ready()

    def expire(self, now: float, max_open_s: float, max_request_s: float) -> list[str]:
        """Force ticks older than ``max_open_s``; drop requests older than ``max_request_s``.

        Returns the dropped call ids (their shares stay in ``attributed_j``).
        """
        for tick in self._open:
            if tick.end < now - max_open_s:
                self._settle(tick, forced=True)
        self._open = [t for t in self._open if not t.settled]
        dropped = [
            cid
            for cid, r in self._reqs.items()
            if (r.end is None and now - r.start > max_request_s) or (r.end is not None and now - r.end > max_open_s)
        ]
        for cid in dropped:
            self.settle_request(cid, now)
            self._abandoned += 1
        self._settle_ready()
        return dropped

    def totals(self, now: float | None = None) -> LedgerTotals:
        since = self.pending_since()
        return LedgerTotals(
            metered_j=self._metered,
            metered_gpu_s=self._metered_gpu,
            attributed_j=self._attributed,
            attributed_gpu_s=self._attributed_gpu,
            idle_j=self._idle_j,
            idle_gpu_s=self._idle_gpu,
            idle_bucket_j=self._idle_bucket_j,
            idle_bucket_gpu_s=self._idle_bucket_gpu_s,
            others_j=self._others_j,
            others_gpu_s=self._others_gpu,
            carry_j=self._carry,
            carry_gpu_s=self._carry_gpu,
            held_j=self._book.held_j,
            held_gpu_s=self._book.held_gpu_s,
            idle_share=self._book.idle_share,
            estimated_j=self._estimated,
            pending_s=0.0 if since is None or now is None else max(0.0, now - since),
            open_ticks=len(self._open),
            active_requests=sum(1 for r in self._reqs.values() if r.end is None),
            settled_ticks=self._settled,
            forced_ticks=self._forced,
            abandoned_requests=self._abandoned,
        )

    # ------------------------------------------------------------------ shared store (window_price)

    def share_through_store(self, on: bool, clock_offset: float | None = None) -> None:
        """Shared engines: price windows created from now on with the store's sum of every
        instance's weight (``window_price``; ``clock_offset``: added to this ledger's times to get
        the wall clock the instances align their windows on); the caller runs the store's I/O with
        the four calls below. Off: this instance's own counts and the engine's."""
        self._book.share_through_store(on and self._cfg.shared, clock_offset)

    def to_publish(self, now: float) -> list[tuple[int, float]]:
        return self._book.to_publish(now)

    def published(self, index: int, weight: float, accepted: bool | None) -> None:
        self._book.published(index, weight, accepted)
        self._close_windows()

    def to_seal(self, now: float) -> list[int]:
        return self._book.to_seal(now)

    def sealed(self, index: int, answer: tuple[float, float] | None, now: float) -> None:
        released = self._book.sealed(index, answer, now)
        if released is not None:
            self._apply_closed(released)
        self._close_windows()

    # ------------------------------------------------------------------ internals

    def _mark_known(self, tick: _Tick, part: _Part) -> None:
        if not part.known:
            part.known = True
            tick.unknown -= 1

    def _apply_energy(self, tick: _Tick, energy: TickEnergy) -> None:
        if isinstance(energy, Unmetered):
            tick.state, tick.energy, tick.label = "final", None, NONE
            return
        tick.state = "pending"
        self._run.append(tick)
        if isinstance(energy, Measured):
            if finite_non_negative(energy.joules):
                self._resolve_run(energy.joules)
            else:
                self._estimate_run(f"{self._cfg.source_name} invalid reading")
        elif isinstance(energy, Pending):
            if energy.reason:
                self._run_reason = energy.reason
        else:
            self._estimate_run(energy.reason)

    def _resolve_run(self, joules: float) -> None:
        run, self._run, self._run_reason = self._run, [], None
        total_s = sum(t.duration for t in run)
        weights = [t.duration for t in run] if total_s > 0 else [1.0] * len(run)
        wsum = sum(weights)
        forced_w = sum(w for t, w in zip(run, weights, strict=True) if t.state == "forced")
        forced_j = joules * forced_w / wsum
        for tick, w in zip(run, weights, strict=True):
            if tick.state != "forced":
                continue
            correction = joules * w / wsum - (tick.estimate or 0.0)
            if tick.window is None:
                self._carry += correction
            else:  # a shared engine's tick: the correction is split as its window is
                ours, others = self._book.correct(tick.window, correction)
                self._carry += ours
                self._others_j += others
        pending_w = wsum - forced_w
        for tick, w in zip(run, weights, strict=True):
            if tick.state == "pending":  # (no weight left: every pending tick lasted 0 s)
                tick.energy = (joules - forced_j) * w / pending_w if pending_w > 0 else 0.0
                tick.label = EnergyLabel(self._cfg.source_label)
            tick.state = "final"
        if total_s > 0:
            watts = joules / total_s
            self._power_w = watts if self._power_w is None else (1 - _EWMA) * self._power_w + _EWMA * watts

    def _estimate_run(self, reason: str) -> None:
        run, self._run, self._run_reason = self._run, [], None
        for tick in run:
            if tick.state == "pending":
                tick.energy = self._estimate_energy(tick)
                tick.estimated = True
                tick.label = EnergyLabel.fallback(reason) if tick.energy is not None else EnergyLabel.unmetered(reason)
            tick.state = "final"

    def _estimate_energy(self, tick: _Tick) -> float | None:
        if self._power_w is not None:
            return self._power_w * tick.duration
        if self._cfg.busy_watts is None:
            return None
        busy = coverage(tick.start, tick.end, [(p.start, p.end) for p in tick.parts.values()])
        watts = self._cfg.gpu_count * (self._cfg.busy_watts * busy + self._cfg.idle_watts * (1.0 - busy))
        return watts * tick.duration

    def _settle_ready(self) -> None:
        if not any(t.state != "pending" and (t.unknown == 0 or t.window is not None) for t in self._open):
            return
        keep = []
        for tick in self._open:
            if tick.state != "pending" and (tick.unknown == 0 or tick.window is not None):
                self._settle(tick, forced=False)
            else:
                keep.append(tick)
        self._open = keep
        self._close_windows()

    def _unknown_rate(self, tick: _Tick) -> float:
        tokens = 0.0
        seconds = 0.0
        for part in tick.parts.values():
            if part.known and part.gen > 0:
                tokens += part.gen
                seconds += part.end - part.start
        if tokens > 0 and seconds > 0:
            return tokens / seconds
        return self._rate if self._rate is not None else 1.0

    def _settle(self, tick: _Tick, forced: bool) -> None:
        if tick.settled:
            return
        forced = forced and (tick.state == "pending" or tick.unknown > 0)
        if tick.state == "pending":  # forced before the counter covered it
            est = self._estimate_energy(tick)
            tick.energy, tick.estimate, tick.estimated = est, est, True
            if self._run_reason:
                reason = self._run_reason
                tick.label = EnergyLabel.fallback(reason) if est is not None else EnergyLabel.unmetered(reason)
            elif est is None:
                tick.label = EnergyLabel.unmetered(f"{self._cfg.source_name} no reading yet")
            elif self._power_w is not None:
                tick.label = EnergyLabel(self._cfg.source_label)  # interpolated; corrected through the carry
            else:
                tick.label = EnergyLabel.fallback(f"{self._cfg.source_name} no reading yet")
            tick.state = "forced"
        rate = self._unknown_rate(tick) if tick.unknown and tick.window is None else 0.0
        participants = []
        for cid, part in tick.parts.items():
            if part.known or tick.window is not None:
                weight = part.gen + part.prompt
            else:
                guess = rate * max(0.0, part.end - part.start)
                part.req.guessed += guess
                weight = guess + part.prompt
            part.req.weight += weight
            participants.append(Participant(cid, weight, part.start, part.end))
        gpu_s = self._cfg.gpu_count * tick.duration
        self._metered_gpu += gpu_s
        if tick.window is not None:
            self._settle_shared(tick, tick.window, participants, gpu_s)
        else:
            self._split(tick, participants, gpu_s)
        tick.settled = True
        self._settled += 1
        if forced:
            self._forced += 1
        for part in tick.parts.values():
            part.req.open_ticks.remove(tick)

    def _split(self, tick: _Tick, participants: list[Participant], gpu_s: float) -> None:
        """The proxy's own denominator: the tick's energy split by ``tick_shares.split_tick``."""
        shares = split_tick(tick.start, tick.end, participants, tick.engine_weight)
        energy = tick.energy
        used_engine = tick.engine_weight is not None
        for cid, frac in shares.requests.items():
            acc = tick.parts[cid].req.acc
            if energy is None:
                acc.unknown = acc.unknown or tick.label != NONE
            else:
                acc.joules += frac * energy
                if tick.estimated:
                    acc.est_j += frac * energy
            acc.gpu_s += frac * gpu_s
            acc.labels.add(tick.label)
            acc.used_engine = acc.used_engine or used_engine
        ours = shares.ours
        if energy is not None:
            self._metered += energy
            self._attributed += ours * energy
            self._idle_j += shares.idle * energy
            self._idle_bucket_j += shares.idle * energy
            self._others_j += shares.others * energy
            if tick.estimated:
                self._estimated += energy
        self._attributed_gpu += ours * gpu_s
        self._idle_gpu += shares.idle * gpu_s
        self._idle_bucket_gpu_s += shares.idle * gpu_s
        self._others_gpu += shares.others * gpu_s
        if ours > 0:
            self._spread(tick, shares.requests, ours, energy)

    def _settle_shared(self, tick: _Tick, window: int, participants: list[Participant], gpu_s: float) -> None:
        """A shared engine's tick: its figures join its window; requests are credited when settled."""
        assert tick.engine_weight is not None
        ours = sum(p.weight for p in participants)
        engine_idle = tick.engine_weight == 0 and tick.engine_known
        # the engine made no token: idle time (with a shared store even when tokens it made earlier
        # reach us now: every instance then books the same idle time as idle)
        if engine_idle and (ours == 0 or self._book.is_remote(window)):
            new_users = 0
            price_j, price_g = self._tick_price  # late tokens are valued as the last busy tick's
            for p in participants:
                req = tick.parts[p.call_id].req
                req.acc.used_engine = True
                if p.weight > 0:
                    req.acc.labels.add(tick.label)
                    new_users += self._window_weight(req, window, p.weight, price_j, price_g)
            if tick.energy is not None:
                self._metered += tick.energy
                if tick.estimated:
                    self._estimated += tick.energy
            weight = (ours, ours * price_j, ours * price_g)
            self._apply_closed(
                self._book.idle_tick(window, tick.energy, gpu_s, weight, new_users, (tick.start, tick.end))
            )
            return
        denom = max(ours, tick.engine_weight)
        price_j = (tick.energy or 0.0) / denom if denom > 0 else 0.0  # the tick's own prices (today's rule)
        price_g = gpu_s / denom if denom > 0 else 0.0
        if denom > 0:
            self._tick_price = (price_j, price_g)
        new_users = 0
        for p in participants:
            part = tick.parts[p.call_id]
            req = part.req
            req.acc.labels.add(tick.label)
            req.acc.used_engine = True
            if not part.known:
                req.deferred.append((window, max(0.0, part.end - part.start), price_j, price_g))
                self._book.defer(window, 1)
            if p.weight > 0:
                new_users += self._window_weight(req, window, p.weight, price_j, price_g)
        weight = (ours, ours * price_j, ours * price_g)
        self._book.settle_tick(
            window,
            tick.energy,
            tick.estimated,
            tick.label,
            gpu_s,
            tick.engine_weight,
            weight,
            new_users,
            (tick.start, tick.end),
        )
        if tick.energy is not None:
            self._metered += tick.energy
            if tick.estimated:
                self._estimated += tick.energy

    @staticmethod
    def _window_weight(req: _Req, window: int, weight: float, price_j: float, price_g: float) -> int:
        """Add to the request's weight in a window; 1 when it is its first there."""
        held = req.windows.get(window)
        if held is None:
            req.windows[window] = [weight, weight * price_j, weight * price_g]
            return 1
        held[0] += weight
        held[1] += weight * price_j
        held[2] += weight * price_g
        return 0

    def _add_deferred_weight(self, req: _Req, slot: int, weight: float) -> None:
        """Weight of a finished request for one of its deferred parts (its tick settled already)."""
        if weight <= 0:
            return
        window, _, price_j, price_g = req.deferred[slot]
        req.weight += weight
        new = self._window_weight(req, window, weight, price_j, price_g)
        self._book.add_weight(window, (weight, weight * price_j, weight * price_g), new)

    def _undefer(self, req: _Req, rate: float) -> None:
        """Release the request's deferred window parts, with ``rate x active time`` tokens each."""
        for slot, (_, seconds, _, _) in enumerate(req.deferred):
            req.guessed += rate * seconds
            self._add_deferred_weight(req, slot, rate * seconds)
        deferred, req.deferred = req.deferred, []
        for window, _, _, _ in deferred:
            self._book.defer(window, -1)

    def _close_windows(self) -> None:
        """Price the shared-engine windows that are complete."""
        for closed in self._book.close_ready():
            self._apply_closed(closed)

    def _apply_closed(self, closed: Closed) -> None:
        """Book what pricing a window (or an idle tick) decided besides the requests' credits."""
        self._idle_j += closed.idle_j
        self._idle_bucket_j += closed.idle_j
        self._idle_gpu += closed.idle_gpu_s
        self._idle_bucket_gpu_s += closed.idle_gpu_s
        self._others_j += closed.others_j
        self._others_gpu += closed.others_gpu_s
        self._carry += closed.carry_j
        self._carry_gpu += closed.carry_gpu_s

    def _credit_windows(self, req: _Req) -> None:
        """Price a settled request's weight in its windows; a credited request takes the spread idle
        bucket and the carry, as a busy tick's participants do."""
        if not req.windows:
            return
        self._close_windows()
        acc = req.acc
        credited = 0.0
        for window, weight in req.windows.items():
            credit = self._book.credit(window, (weight[0], weight[1], weight[2]))
            acc.joules += credit.joules
            acc.gpu_s += credit.gpu_seconds
            acc.est_j += credit.estimated_joules
            acc.unknown = acc.unknown or credit.unknown
            acc.labels |= credit.labels
            credited += credit.joules + credit.gpu_seconds
            self._attributed += credit.joules
            self._attributed_gpu += credit.gpu_seconds
        req.windows.clear()
        if credited <= 0:
            return
        if self._cfg.spread_idle:
            idle_j, idle_gpu = self._idle_bucket_j, self._idle_bucket_gpu_s
            self._idle_bucket_j = self._idle_bucket_gpu_s = 0.0
            acc.joules += idle_j
            acc.idle_j += idle_j
            acc.gpu_s += idle_gpu
            acc.idle_gpu_s += idle_gpu
            self._attributed += idle_j
            self._attributed_gpu += idle_gpu
        carry = max(self._carry, -acc.joules)
        carry_gpu = max(self._carry_gpu, -acc.gpu_s)
        self._carry -= carry
        self._carry_gpu -= carry_gpu
        acc.joules += carry
        acc.gpu_s += carry_gpu
        self._attributed += carry
        self._attributed_gpu += carry_gpu

    def _spread(self, tick: _Tick, fractions: Mapping[str, float], ours: float, energy: float | None) -> None:
        idle_j = idle_gpu = 0.0
        if self._cfg.spread_idle:
            idle_j, idle_gpu = self._idle_bucket_j, self._idle_bucket_gpu_s
            self._idle_bucket_j = self._idle_bucket_gpu_s = 0.0
        carry = 0.0
        if self._carry != 0.0 and energy is not None:
            carry = max(self._carry, -ours * energy)  # never push the tick's requests below zero
            self._carry -= carry
        carry_gpu = max(self._carry_gpu, -ours * self._cfg.gpu_count * tick.duration)
        self._carry_gpu -= carry_gpu
        if idle_j == 0.0 and idle_gpu == 0.0 and carry == 0.0 and carry_gpu == 0.0:
            return
        self._attributed += idle_j + carry
        self._attributed_gpu += idle_gpu + carry_gpu
        for cid, frac in fractions.items():
            k = frac / ours
            acc = tick.parts[cid].req.acc
            acc.joules += k * (idle_j + carry)
            acc.idle_j += k * idle_j
            acc.gpu_s += k * (idle_gpu + carry_gpu)
            acc.idle_gpu_s += k * idle_gpu

    def _share(self, req: _Req) -> RequestShare:
        acc = req.acc
        labels = acc.labels or {EnergyLabel(self._cfg.source_label) if self._cfg.has_energy else NONE}
        label = max(sorted(labels, key=lambda lb: lb.text), key=lambda lb: lb.rank)
        end = req.end if req.end is not None else req.start
        return RequestShare(
            call_id=req.call_id,
            joules=None if acc.unknown or not self._cfg.has_energy else max(0.0, acc.joules),
            gpu_seconds=acc.gpu_s,
            idle_joules=acc.idle_j,
            idle_gpu_seconds=acc.idle_gpu_s,
            estimated_joules=acc.est_j,
            label=label,
            engine_denominator=acc.used_engine,
            duration_s=end - req.start,
            weight=req.weight,
        )


def conservation_gap(totals: LedgerTotals, counter_j: float) -> float:
    """``counter_j`` minus everything booked (settled ticks only); 0 when the books balance."""
    booked = totals.attributed_j + totals.idle_bucket_j + totals.others_j + totals.carry_j + totals.held_j
    return counter_j - booked


def weights_of(parts: Iterable[tuple[float, float]], prefill_weight: float) -> list[float]:
    """Weights of ``(generated, prompt)`` token pairs: ``generated + prefill_weight x prompt``."""
    return [g + prefill_weight * p for g, p in parts]

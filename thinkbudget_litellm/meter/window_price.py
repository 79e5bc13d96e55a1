"""Shared-engine attribution: a per-token price set over a settlement window (pure).

Used by ``attribution.Ledger`` for ticks that carry the engine's own token weight (``tokens.source:
vllm``), i.e. when several proxy instances may share one engine.

Why not tick by tick
    Each instance reads the engine counter at its own moments and sees its own tokens some time
    after the engine counted them. Dividing each tick by ``max(our weight, engine weight)`` then
    lets every instance take whole ticks whenever its lagged tokens exceed the engine's delta, and
    the same joule is billed N times (measured: +50..+77% with two proxies).

The method
    Ticks are grouped into windows of ``window_s`` seconds (by the tick's end on the instance's
    clock; ``window_s = 0``: one window per tick; a window is complete when a tick ends on or past
    its edge). A window ``w`` sums, over its ticks, the energy
    ``E``, the GPU-seconds ``G``, the engine's token weight ``T`` (its cumulative counter's delta) and
    this instance's weight ``O``. Once every tick of the window is settled, the window is *priced*:
    each unit of our weight costs ``E / max(O, T)`` joules and ``G / max(O, T)`` GPU-seconds. So the
    instance takes ``min(1, O/T)`` of the window; the rest is other instances' (``others``).

    Because numerator and denominator are cumulative over the window, observation lag only moves
    tokens across a window edge. A token seen late is priced in the next window instead of its
    own; summed over an instance's life its tokens are all counted once, so the error is

        |error| <= (weight observed across an edge) x |price change between adjacent windows|

    i.e. about ``lag / window_s`` times the relative price change per window, and it cancels when
    the price is steady. Ticks need not be aligned between instances: each prices its own windows
    from readings of the same counters. A window whose engine count is 0 while we saw tokens (they
    were late) prices them at the previous window's price, taking at most that window's energy.

With a shared store (``share_through_store``; the hub uses LiteLLM's Redis, ``window_store``)
    Windows are aligned on the wall clock (``clock_offset``) so instances agree on window ``k``; a
    tick that began in the previous window gives it the energy and GPU-seconds of its time before
    the edge. Each instance publishes its weight ``O`` of each window; ``settle_s`` after the
    window's end the store seals it and returns ``S``, the sum over instances. The instance takes
    ``E x published / S`` of its busy energy (the rest is ``others``); ``S = 0``: the busy energy is
    idle. A tick in which the engine made no token is idle even when we see (late) tokens in it;
    the tokens still join the window. Idle is split by ``sigma`` = our published weight over ``S``
    in the sealed windows (decayed), which adds up to 1 over instances; a window's own idle uses the
    sigma as of its sealing, and idle before the first sum waits for it. Summed over instances each
    window's energy is booked once whatever the lag, the tick phases and the tokens nobody saw
    (those are paid by the observed ones); only which request pays moves with lag. A store that
    does not answer for ``give_up_s`` past a window's due time: that window uses the rule above.

Requests that finish before their window is priced
    Get the current window's price so far (it is a window that ends now); when the window is
    priced, the difference for those requests is a signed *carry* for later requests, so totals
    still add up.

Idle
    A tick in which neither the engine nor we made a token is idle (it does not join its window),
    and so is a window with no engine tokens at all. Every instance sees the same idle time, so
    each takes only its share ``sigma`` of it (the rest is ``others``): ``sigma = sum O / sum T``
    over the recent past (exponentially weighted, ``idle_horizon_s``), at most 1. With one instance
    whose counts match the engine's, sigma is 1 and nothing changes. Idle seen before any token
    waits (``held``) until sigma is known.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from thinkbudget_litellm.meter.provenance import EnergyLabel


@dataclass(frozen=True, slots=True)
class Credit:
    """What a request's weight in one window is worth."""

    joules: float
    gpu_seconds: float
    estimated_joules: float
    unknown: bool  # some energy of the window is not known (no reading, no estimate)
    labels: frozenset[EnergyLabel]


@dataclass(frozen=True, slots=True)
class Closed:
    """What pricing a window decided besides the requests' credits (for the ledger's totals)."""

    idle_j: float  # this instance's share of the window's idle energy
    idle_gpu_s: float
    others_j: float  # other instances' share (busy and idle)
    others_gpu_s: float
    carry_j: float  # exact minus provisional credits already given (signed)
    carry_gpu_s: float


@dataclass(slots=True)
class _Win:
    index: int
    energy: float = 0.0
    estimated: float = 0.0
    unknown: bool = False
    gpu_s: float = 0.0
    engine: float = 0.0
    ours: float = 0.0
    val_j: float = 0.0  # our weight valued at its ticks' own prices (distributes the take among requests)
    val_g: float = 0.0
    open_ticks: int = 0
    deferred: int = 0  # parts of requests whose tokens join the window when they finish
    sealed: bool = False  # no further tick will join it
    users: int = 0  # requests with weight here not yet credited
    labels: set[EnergyLabel] = field(default_factory=set)
    take_j: float | None = None  # our part of the window's energy, once priced
    take_g: float = 0.0
    prepaid: tuple[float, float, float] = (0.0, 0.0, 0.0)  # (weight, value J, value GPU-s) credited early
    prepaid_j: float = 0.0  # and what it got
    prepaid_g: float = 0.0
    booked_j: float = 0.0  # energy of the window handed out (credits, idle, others, carry)
    booked_g: float = 0.0
    # shared denominator (``share_through_store``): priced once the store's sum of every instance's
    # weight in the window (``total``) is known; ``published`` is what of ours is in that sum
    remote: bool = False
    published: float = 0.0
    frozen: bool = False  # the store took no more of our weight (it was sealed first)
    total: float | None = None
    straddled: bool = False  # the next window's first tick began in this one: waits for its part
    sigma: float | None = None  # the idle share as of its sealing (every instance splits it alike)

    @property
    def priced(self) -> bool:
        return self.take_j is not None

    def part(self, take_j: float, take_g: float, weight: float, vj: float, vg: float) -> tuple[float, float]:
        """A request's part of the take: by its valued weight (by weight when nothing was valued)."""
        j = take_j * (vj / self.val_j if self.val_j > 0 else weight / self.ours if self.ours > 0 else 0.0)
        g = take_g * (vg / self.val_g if self.val_g > 0 else weight / self.ours if self.ours > 0 else 0.0)
        return j, g


_MAX_SPANNED: Final = 64  # earlier windows one tick's time is spread over (the rest stays in its own)


class WindowBook:
    """The windows of one deployment on one proxy instance."""

    def __init__(
        self, window_s: float, idle_horizon_s: float = 300.0, settle_s: float = 10.0, clock_offset: float = 0.0
    ) -> None:
        """``clock_offset``: added to the caller's times to get the wall clock the windows are
        aligned on (instances agree on window ``k`` only on a common clock); ``settle_s``: with a
        shared store, a window is sealed this long after its end."""
        if not window_s >= 0 or math.isinf(window_s):
            raise ValueError(f"window_s must be a finite number >= 0, got {window_s}")
        if not idle_horizon_s > 0:
            raise ValueError(f"idle_horizon_s must be > 0, got {idle_horizon_s}")
        if not 0 <= settle_s < math.inf:
            raise ValueError(f"settle_s must be a finite number >= 0, got {settle_s}")
        self._window_s = window_s
        self._settle_s = settle_s
        self.give_up_s = max(30.0, 2 * settle_s)  # a store that has not answered this long: own counts
        self._offset = clock_offset
        self._remote = False
        self._shared_ours = 0.0  # decayed sums of sealed windows: our published weight, everyone's
        self._shared_total = 0.0
        self._first_sigma: float | None = None  # the idle share at the first sealed sum > 0
        self._store_failed = False  # the last store call failed: idle goes by our own counts meanwhile
        self._horizon_s = idle_horizon_s
        self._wins: dict[int, _Win] = {}
        self._floor = -(2**62)  # windows below it were priced and forgotten: never made again
        self._seq = 0
        self._last_price: tuple[float, float] | None = None  # (J, GPU-s) per unit weight
        self._sum_ours = 0.0  # decayed, for sigma
        self._sum_engine = 0.0
        self._held_idle_j = 0.0  # idle seen before sigma is known
        self._held_idle_g = 0.0

    # ------------------------------------------------------------------ ticks

    def assign(self, tick_end: float, tick_start: float | None = None) -> int:
        """The window of a tick that closed at ``tick_end``: window ``k`` takes the ticks ending in
        ``((k-1) window_s, k window_s]``; earlier windows take no more ticks, nor does this one
        when the tick ends on its edge. With a shared store, a tick that began before the window's
        start gives the previous window the energy and GPU-seconds of its time before the edge
        (``tick_start``; then pass the same span to ``settle_tick`` or ``idle_tick``), so every
        instance's window covers the same wall-clock interval whatever its tick phase."""
        edge = False
        if self._window_s > 0:
            index, edge = self._window_of(tick_end)
        else:
            self._seq += 1
            index = self._seq
            edge = True
        win = self._wins.get(index)
        if win is None:
            win = self._wins[index] = _Win(index, remote=self._remote)
        for earlier in self._straddled(index, tick_start, create=True):
            earlier.open_ticks += 1
            earlier.straddled = True
        for earlier in self._wins.values():
            if earlier.index < index:
                earlier.sealed = True
        win.open_ticks += 1
        win.sealed = win.sealed or edge
        return index

    def _window_of(self, t: float) -> tuple[int, bool]:
        """(the window time ``t`` falls in, whether ``t`` is that window's end edge)."""
        at = t + self._offset
        index = math.ceil(at / self._window_s)
        return index, at >= index * self._window_s

    def _straddled(self, index: int, tick_start: float | None, create: bool = False) -> list[_Win]:
        """The earlier shared windows a tick of shared window ``index`` spans, oldest first. A tick
        longer than a window (a proxy whose event loop stalled) spans windows in which no tick of this
        instance ended: ``create`` makes them, so their time's energy is priced with their own sums
        (other instances' weight) instead of with the sum of the window the tick ended in (measured
        before: +30% for one 4 s tick against 2 s windows, the stalled instance's share of the
        skipped windows booked twice)."""
        win = self._wins.get(index)
        if tick_start is None or win is None or not win.remote:
            return []
        first, on_edge = self._window_of(tick_start)
        first += on_edge  # a tick that began on an edge spans from the next window
        out = []
        for k in range(max(first, index - _MAX_SPANNED), index):
            earlier = self._wins.get(k)
            if earlier is None and create and k >= self._floor:  # (below: forgotten; the tick's window takes it)
                earlier = self._wins[k] = _Win(k, remote=True, sealed=True)
            if earlier is not None and earlier.remote and not earlier.priced:
                out.append(earlier)
        return out

    def _release_straddle(self, index: int, span: tuple[float, float] | None) -> list[tuple[_Win, float]]:
        """(earlier window, the share of the tick's time in it) for each window a tick spans."""
        if span is None:
            return []
        start, end = span
        out = []
        for earlier in self._straddled(index, start):
            if not earlier.straddled:
                continue
            earlier.straddled = False
            earlier.open_ticks -= 1
            lo = (earlier.index - 1) * self._window_s - self._offset
            hi = earlier.index * self._window_s - self._offset
            overlap = min(end, hi) - max(start, lo)
            out.append((earlier, min(1.0, max(0.0, overlap / (end - start))) if end > start else 0.0))
        return out

    def settle_tick(
        self,
        index: int,
        energy: float | None,
        estimated: bool,
        label: EnergyLabel,
        gpu_s: float,
        engine: float,
        weight: tuple[float, float, float],
        new_users: int,
        span: tuple[float, float] | None = None,
    ) -> None:
        """A tick of window ``index`` is final: its energy (None: unknown), GPU-seconds, the engine's
        weight in it, our ``(weight, value J, value GPU-s)`` in it and how many requests got weight
        in this window for the first time (``span``: its start and end, as given to ``assign``)."""
        win = self._wins[index]
        win.open_ticks -= 1
        earlier = self._release_straddle(index, span)
        for target, frac in [(win, 1.0 - sum(f for _, f in earlier)), *earlier]:
            if energy is None:
                target.unknown = target.unknown or label.text != "none"
            else:
                target.energy += energy * frac
                if estimated:
                    target.estimated += energy * frac
            target.labels.add(label)
            target.gpu_s += gpu_s * frac
            if target is not win:
                self._forget(target)
        win.engine += engine
        self._sum_engine += engine
        self.add_weight(index, weight, new_users)

    def idle_tick(
        self,
        index: int,
        energy: float | None,
        gpu_s: float,
        weight: tuple[float, float, float] = (0.0, 0.0, 0.0),
        new_users: int = 0,
        span: tuple[float, float] | None = None,
    ) -> Closed:
        """A tick of window ``index`` in which the engine made no token: idle, split at once by the
        token share (held while it is unknown), not pooled into the window. Our weight in it (tokens
        seen late, only with a shared store) still joins the window."""
        win = self._wins[index]
        win.open_ticks -= 1
        for earlier, _ in self._release_straddle(index, span):
            self._forget(earlier)
        idle_j, idle_g, others_j, others_g = self._split_idle(energy or 0.0, gpu_s)
        if weight[0] > 0 or new_users:
            self.add_weight(index, weight, new_users)
        self._forget(win)
        return Closed(idle_j, idle_g, others_j, others_g, 0.0, 0.0)

    def defer(self, index: int, n: int) -> None:
        """``n`` more (or, negative, fewer) request parts whose weight the window must wait for."""
        self._wins[index].deferred += n

    def add_weight(self, index: int, weight: tuple[float, float, float], new_users: int) -> None:
        """Our ``(weight, value J, value GPU-s)`` joining the window (a deferred part's, at finish)."""
        win = self._wins[index]
        win.ours += weight[0]
        self._sum_ours += weight[0]
        win.val_j += weight[1]
        win.val_g += weight[2]
        win.users += new_users

    def correct(self, index: int, joules: float) -> tuple[float, float]:
        """A forced tick's estimate was off by ``joules`` (signed): an unpriced window's energy takes
        it; for a priced one, returns (ours, others) split as the window was (a forgotten window as
        the idle share)."""
        win = self._wins.get(index)
        if win is not None and not win.priced:
            win.energy += joules
            return 0.0, 0.0
        if win is not None:
            frac = (win.take_j or 0.0) / win.energy if win.energy > 0 else 0.0
        else:
            frac = self.idle_share or 0.0
        frac = min(1.0, max(0.0, frac))
        return joules * frac, joules * (1.0 - frac)

    def close_ready(self) -> Iterator[Closed]:
        """Price every sealed window whose ticks are all settled (and, with a shared store, whose
        shared sum is known), oldest first."""
        for index in sorted(self._wins):
            win = self._wins[index]
            if win.priced or not win.sealed or win.open_ticks or win.deferred or (win.remote and win.total is None):
                continue
            yield self._price(win)
            self._forget(win)

    # ------------------------------------------------------------------ requests

    def credit(self, index: int, weight: tuple[float, float, float]) -> Credit:
        """Price a request's ``(weight, value J, value GPU-s)`` in window ``index`` (exactly when the
        window is priced, else at its take so far) and release the request's hold on the window."""
        win = self._wins[index]
        win.users -= 1
        if win.priced:
            assert win.take_j is not None
            j, g = win.part(win.take_j, win.take_g, *weight)
        else:
            take_j, take_g = self._take(win)
            j, g = win.part(take_j, take_g, *weight)
            w, vj, vg = win.prepaid
            win.prepaid = (w + weight[0], vj + weight[1], vg + weight[2])
            win.prepaid_j += j
            win.prepaid_g += g
        win.booked_j += j
        win.booked_g += g
        est = j * (win.estimated / win.energy) if win.energy > 0 else 0.0
        credit = Credit(j, g, est, win.unknown, frozenset(win.labels))
        self._forget(win)
        return credit

    # ------------------------------------------------------------------ shared store

    def share_through_store(self, on: bool, clock_offset: float | None = None) -> None:
        """Windows created from now on wait for the store's sum of every instance's weight (on) or
        are priced with this instance's own counts and the engine's (off). Needs ``window_s > 0``.
        ``clock_offset``: from now on, added to the caller's times to align windows (the wall clock
        is far ahead of a monotonic clock, so later windows only get higher indices)."""
        self._remote = on and self._window_s > 0
        if self._remote and clock_offset is not None:
            self._offset = clock_offset

    @property
    def shares_through_store(self) -> bool:
        return self._remote

    def is_remote(self, index: int) -> bool:
        """Window ``index`` waits for the store's shared sum."""
        win = self._wins.get(index)
        return win is not None and win.remote

    def to_publish(self, now: float) -> list[tuple[int, float]]:
        """``(window, our cumulative weight)`` where it grew since the store last took it, for
        windows that ended by ``now`` (the store keeps each instance's figure: resending is safe)."""
        wall = now + self._offset
        return [
            (w.index, w.ours)
            for w in sorted(self._wins.values(), key=lambda w: w.index)
            if w.remote
            and w.total is None
            and not w.frozen
            and w.ours - w.published > 1e-12
            and w.index * self._window_s <= wall
        ]

    def published(self, index: int, weight: float, accepted: bool | None) -> None:
        """What the store said to our cumulative ``weight`` in window ``index``: taken (True),
        refused because the window was sealed already (False), or no answer (None: sent again
        with the next call)."""
        win = self._wins.get(index)
        if win is None or not win.remote or win.total is not None:
            return
        if accepted is None:
            self._store_failed = True
        elif accepted:
            win.published = max(win.published, weight)
        else:
            win.frozen = True

    def to_seal(self, now: float) -> list[int]:
        """Windows whose shared sum is due: ended ``settle_s`` or more before ``now``."""
        wall = now + self._offset
        return sorted(
            w.index
            for w in self._wins.values()
            if w.remote and w.total is None and w.index * self._window_s + self._settle_s <= wall
        )

    def sealed(self, index: int, answer: tuple[float, float] | None, now: float) -> Closed | None:
        """The store's final ``(sum of every instance's weight, ours in it)`` for window ``index``.
        None: no answer; asked again with the next call, until ``give_up_s`` past the window's due
        time, when it is priced with this instance's own counts and the engine's. Sealed sums also
        give the idle share: our published weight over everyone's, which adds up to 1 over the
        instances. Idle held until the first sum is split by that first share (every instance's first
        sealed sum is the same window's), returned as a ``Closed``."""
        win = self._wins.get(index)
        if win is None or not win.remote or win.total is not None:
            return None
        total, ours = answer if answer is not None else (math.nan, math.nan)
        if not (math.isfinite(total) and math.isfinite(ours) and 0 <= ours <= total * (1 + 1e-9) + 1e-9):
            self._store_failed = True
            if now + self._offset > index * self._window_s + self._settle_s + self.give_up_s:
                win.remote = False
            return None
        self._store_failed = False
        win.total = total
        win.published = min(ours, total)
        decay = math.exp(-self._window_s / self._horizon_s)
        self._shared_ours = self._shared_ours * decay + win.published
        self._shared_total = self._shared_total * decay + win.total
        win.sigma = self.idle_share
        if self._first_sigma is None and self._shared_total > 0:
            self._first_sigma = win.sigma  # for windows sealed before it, and idle held till now
        if self._shared_total > 0 and (self._held_idle_j or self._held_idle_g):
            idle_j, idle_g, others_j, others_g = self._split_idle(0.0, 0.0)
            return Closed(idle_j, idle_g, others_j, others_g, 0.0, 0.0)
        return None

    # ------------------------------------------------------------------ totals

    @property
    def held_j(self) -> float:
        """Energy of settled ticks not handed out yet (open windows, uncredited weight, held idle)."""
        return self._held_idle_j + sum(w.energy - w.booked_j for w in self._wins.values())

    @property
    def held_gpu_s(self) -> float:
        return self._held_idle_g + sum(w.gpu_s - w.booked_g for w in self._wins.values())

    @property
    def idle_share(self) -> float | None:
        """sigma: this instance's recent share of the engine's tokens (None: none seen yet); with a
        shared store, its share of every instance's weight in the sealed windows."""
        if self._shared_total > 0:
            return min(1.0, self._shared_ours / self._shared_total)
        if self._remote and not self._store_failed:
            return None  # until the first sealed window: instances' own counts would not add up to 1
        if self._sum_engine <= 0:
            return 1.0 if self._sum_ours > 0 else None
        return min(1.0, self._sum_ours / self._sum_engine)

    # ------------------------------------------------------------------ internals

    def _take(self, win: _Win) -> tuple[float, float]:
        """Our part of the window's energy and GPU-seconds with its sums so far."""
        if win.engine > 0:
            denom = max(win.ours, win.engine)
            return win.energy * win.ours / denom, win.gpu_s * win.ours / denom
        if win.ours > 0:  # our tokens arrived after the engine counted them: last window's price
            pj, pg = self._last_price or (math.inf, math.inf)
            return min(win.energy, win.ours * pj), min(win.gpu_s, win.ours * pg)
        return 0.0, 0.0

    def _price(self, win: _Win) -> Closed:
        if win.remote:
            assert win.total is not None
            frac = min(1.0, win.published / win.total) if win.total > 0 else 0.0
            take_j, take_g = win.energy * frac, win.gpu_s * frac
            if win.ours > 0 and take_j > 0:
                self._last_price = (take_j / win.ours, take_g / win.ours)
            busy = win.total > 0  # else nobody's tokens can pay for the window: idle
        else:
            take_j, take_g = self._take(win)
            if win.engine > 0:
                denom = max(win.ours, win.engine)
                self._last_price = (win.energy / denom, win.gpu_s / denom)
            busy = win.engine > 0
        win.take_j, win.take_g = take_j, take_g
        rest_j, rest_g = win.energy - take_j, win.gpu_s - take_g
        idle_j = idle_g = 0.0
        if busy:
            others_j, others_g = rest_j, rest_g
        else:
            sigma = win.sigma if win.sigma is not None else self._first_sigma if win.remote else None
            idle_j, idle_g, others_j, others_g = self._split_idle(rest_j, rest_g, sigma)
        self._observe(win)
        exact_j, exact_g = win.part(take_j, take_g, *win.prepaid)
        carry_j, carry_g = exact_j - win.prepaid_j, exact_g - win.prepaid_g
        win.booked_j += rest_j + carry_j  # the rest went to others, idle or the held idle
        win.booked_g += rest_g + carry_g
        return Closed(idle_j, idle_g, others_j, others_g, carry_j, carry_g)

    def _observe(self, win: _Win) -> None:
        """Age the sums behind sigma by one window (they take every tick's counts as it settles)."""
        if self._window_s > 0:
            decay = math.exp(-self._window_s / self._horizon_s)
            self._sum_ours *= decay
            self._sum_engine *= decay

    def _split_idle(
        self, idle_j: float, idle_g: float, sigma: float | None = None
    ) -> tuple[float, float, float, float]:
        """(ours idle J, ours idle GPU-s, others J, others GPU-s) of idle energy; held while sigma is
        unknown (the held part is booked here and released when sigma is known)."""
        if sigma is None:
            sigma = self.idle_share
        if sigma is None:
            self._held_idle_j += idle_j
            self._held_idle_g += idle_g
            return 0.0, 0.0, 0.0, 0.0
        idle_j += self._held_idle_j
        idle_g += self._held_idle_g
        self._held_idle_j = self._held_idle_g = 0.0
        return sigma * idle_j, sigma * idle_g, (1 - sigma) * idle_j, (1 - sigma) * idle_g

    def _forget(self, win: _Win) -> None:
        if win.priced and win.users <= 0 and not win.open_ticks and not win.deferred:
            del self._wins[win.index]
            self._floor = max(self._floor, win.index + 1)

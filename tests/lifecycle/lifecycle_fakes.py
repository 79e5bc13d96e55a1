"""A fake meter, a fake clock and a small event language for driving ``RequestLifecycle``.

The fake meter's figures are exact binary fractions so bills can be compared with ``==``: an entry
closed after ``n`` tokens (streamed, or the completion tokens of a non-streamed close) has
``joules = 8 + n``, ``gpu_seconds = joules / 8``, ``cost_usd = joules / 64`` (no energy price),
``idle_joules = 1``, ``estimated_joules = 0.5``; ``duration_s`` is the close's serial number.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from thinkbudget_litellm.lifecycle import Admission, Attempt, Bill, RequestLifecycle, RequestOutcome, Step, SweepReason
from thinkbudget_litellm.meter.hub import RequestEnergy
from thinkbudget_litellm.policy.budget import BudgetDecision, BudgetScope
from thinkbudget_litellm.settings import Enforcement
from thinkbudget_litellm.tiers import Task, Tier

CALL = "call-1"
CONT = "cont-1"
TTL_S = 7200.0
GRACE_S = 300.0
FAKE_SOURCE = "measured:dcgm"


class FakeClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@dataclass
class _Open:
    deployment_id: str
    prompt_tokens: int
    streaming: bool | None
    tokens: float = 0.0


@dataclass
class FakeMeter:
    """Records every open, token report and close; anything a real meter would refuse is a violation."""

    yields: int = 2  # awaits inside a close, so events can interleave with it
    fail_closes: bool = False
    open: dict[str, _Open] = field(default_factory=dict)
    opened: list[str] = field(default_factory=list)
    closed: list[tuple[str, int | None, RequestEnergy]] = field(default_factory=list)
    discarded: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def request_started(
        self, entry_id: str, deployment_id: str, prompt_tokens: int, /, *, streaming: bool | None = None
    ) -> None:
        if entry_id in self.open:
            self.violations.append(f"{entry_id} opened while open")
        self.open[entry_id] = _Open(deployment_id, prompt_tokens, streaming)
        self.opened.append(entry_id)

    def tokens_generated(self, entry_id: str, n: float, /) -> None:
        entry = self.open.get(entry_id)
        if entry is None:
            self.violations.append(f"tokens for {entry_id}, which is not open")
            return
        entry.tokens += n

    def request_discarded(self, entry_id: str, /) -> None:
        if self.open.pop(entry_id, None) is None:
            self.violations.append(f"{entry_id} discarded while not open")
            return
        self.discarded.append(entry_id)

    async def request_finished(self, entry_id: str, completion_tokens: int | None = None, /) -> RequestEnergy:
        entry = self.open.pop(entry_id, None)
        if entry is None:
            self.violations.append(f"{entry_id} closed while not open")
            return RequestEnergy.unmetered(entry_id, None, "unknown call")
        for _ in range(self.yields):
            await asyncio.sleep(0)
        if self.fail_closes:
            raise RuntimeError("meter down")
        n = entry.tokens if completion_tokens is None else completion_tokens
        joules = 8.0 + n
        energy = RequestEnergy(
            call_id=entry_id,
            deployment_id=entry.deployment_id,
            joules=joules,
            gpu_seconds=joules / 8,
            cost_usd=joules / 64,
            energy_cost_usd=None,
            source=FAKE_SOURCE,
            attribution="token_share",
            idle_joules=1.0,
            estimated_joules=0.5,
            duration_s=float(len(self.closed) + 1),
        )
        self.closed.append((entry_id, completion_tokens, energy))
        return energy


def fake_bill(
    joules: float | None,
    n_billed: int,
    *,
    failed: int = 0,
    failed_joules: float | None = None,
    failed_priced: bool = True,
    source: str = FAKE_SOURCE,
) -> Bill:
    """The bill the fake meter's figures give: ``joules`` over ``n_billed`` metered billed attempts
    on priced deployments, and ``failed`` failed attempts with ``failed_joules`` among them."""
    return Bill(
        joules=joules,
        gpu_seconds=None if joules is None else joules / 8,
        cost_usd=None if joules is None else joules / 64,
        energy_source=source if n_billed else None,
        attribution="token_share" if n_billed else None,
        idle_joules=1.0 * n_billed,
        estimated_joules=0.5 * n_billed,
        failed_attempts=failed,
        failed_joules=failed_joules,
        failed_cost_usd=None if failed_joules is None or not failed_priced else failed_joules / 64,
    )


def admission(stream: bool = True, enforcement: Enforcement = Enforcement.STREAM) -> Admission:
    return Admission(
        call_id=CALL,
        decision=BudgetDecision(Tier.SIMPLE, 4, BudgetScope.TIER, None),
        task=Task.MATH,
        score=0.5,
        model_group="r1",
        stream=stream,
        enforcement=enforcement,
    )


# ---------------------------------------------------------------------------- the event language
@dataclass(frozen=True)
class Ev:
    """One event: a ``RequestLifecycle`` method and its arguments, or a test action (``_advance``,
    ``_sweep``: what the shell's sweep does, ``_together``: events delivered concurrently)."""

    name: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    def __repr__(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs]
        return f"{self.name}({', '.join(parts)})"


def ev(name: str, *args: Any, **kwargs: Any) -> Ev:
    return Ev(name, args, tuple(sorted(kwargs.items())))


def start(dep: str | None = "dep-a", prompt: int = 10, priced: bool = True, simulated: bool = False) -> Ev:
    return ev("attempt_started", dep, prompt, priced=priced, simulated=simulated)


def tok(n: int) -> Ev:
    return ev("tokens", n)


def counts(thinking: int, answer: int) -> Ev:
    return ev("thinking_counts", thinking, answer)


def ok(thinking: int | None = None, answer: int | None = None, **kwargs: Any) -> Ev:
    return ev("attempt_succeeded", thinking, answer, **kwargs)


def fail(call_id: str | None = None) -> Ev:
    return ev("attempt_failed", call_id)


def issue(call_id: str = CONT) -> Ev:
    return ev("continuation_issued", call_id)


def cstart(dep: str | None = "dep-a", prompt: int = 20, priced: bool = True, call_id: str = CONT) -> Ev:
    return ev("continuation_started", call_id, dep, prompt, priced=priced)


def cend(succeeded: bool, answer: int = 0) -> Ev:
    return ev("continuation_ended", succeeded, answer)


def swept(reason: SweepReason) -> Ev:
    return ev("swept", reason)


def advance(seconds: float) -> Ev:
    return ev("_advance", seconds)


def together(*events: Ev) -> Ev:
    return Ev("_together", events)


CUT = ev("cut")
REQ_FAIL = ev("request_failed")
LEFT = ev("client_left")
SWEEP = ev("_sweep")


async def apply(lc: RequestLifecycle, clock: FakeClock, event: Ev) -> list[Step]:
    """Deliver one event as the shell would; the ``Step`` values it returned."""
    if event.name == "_advance":
        clock.t += event.args[0]
        return []
    if event.name == "_sweep":
        reason = lc.stale(clock(), TTL_S, GRACE_S)
        return [await lc.swept(reason)] if reason is not None else []
    if event.name == "_together":
        results = await asyncio.gather(*(apply(lc, clock, e) for e in event.args))
        return [step for steps in results for step in steps]
    result = getattr(lc, event.name)(*event.args, **dict(event.kwargs))
    if inspect.isawaitable(result):
        result = await result
    return [result] if isinstance(result, Step) else []


async def play(lc: RequestLifecycle, clock: FakeClock, events: Sequence[Ev]) -> list[Step]:
    steps: list[Step] = []
    for event in events:
        steps.extend(await apply(lc, clock, event))
    return steps


async def run(
    events: Sequence[Ev], *, stream: bool = True, yields: int = 2
) -> tuple[RequestLifecycle, FakeMeter, list[Step]]:
    """A fresh request (``admission``) on a fake meter and clock, driven through ``events``; the
    ``Step`` values they returned."""
    clock, meter = FakeClock(), FakeMeter(yields=yields)
    lc = RequestLifecycle(admission(stream=stream), meter, clock)
    return lc, meter, await play(lc, clock, events)


def check_metered_once(meter: FakeMeter, outcome: RequestOutcome) -> list[Attempt]:
    """Every metered attempt opened one entry and closed it once, nothing is left open, and the
    meter saw nothing a real one would refuse; the metered attempts."""
    assert meter.violations == [] and meter.open == {}
    metered = [a for a in outcome.attempts if a.energy is not None]
    assert len(meter.opened) == len(meter.closed) == len(metered)
    return metered

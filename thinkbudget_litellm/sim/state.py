"""Counters of the simulated backend (a test double): metrics since start, stats since the last reset."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from thinkbudget_litellm.sim import energy
from thinkbudget_litellm.sim.config import SimConfig
from thinkbudget_litellm.sim.exposition import MetricsSnapshot
from thinkbudget_litellm.sim.plan import Kind, Piece

RECENT_REQUESTS = 200
RECENT_BODIES = 20


@dataclass
class RequestEntry:
    """One request as /sim/stats shows it."""

    id: str
    status: str = "bad_request"  # completed, disconnected, midstream, failed, bad_request
    http_status: int = 400
    stream: bool = False
    continuation: bool = False
    think_tokens: int = 0
    answer_tokens: int = 0
    completion_tokens: int = 0
    prompt_tokens: int = 0
    natural_think_tokens: int | None = None
    budget: int | None = None
    finish_reason: str | None = None
    disconnected: bool = False


@dataclass
class SimState:
    config: SimConfig
    started: float = field(default_factory=time.monotonic)
    prompt_tokens: int = 0
    generation_tokens: int = 0
    running: int = 0
    token_energy_j: float = 0.0
    energy_events: deque[tuple[float, float]] = field(default_factory=deque)  # (time, J) of the last second

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Clear the stats (the Prometheus counters keep counting, as counters since start must)."""
        self.requests = self.disconnects = self.failures = 0
        self.tokens = {"think": 0, "answer": 0, "total": 0}
        self.recent: deque[RequestEntry] = deque(maxlen=RECENT_REQUESTS)
        self.bodies: deque[Any] = deque(maxlen=RECENT_BODIES)

    def add_energy(self, joules: float) -> None:
        now = time.monotonic()
        self.token_energy_j += joules
        self.energy_events.append((now, joules))
        while self.energy_events and self.energy_events[0][0] < now - 1.0:
            self.energy_events.popleft()

    def count_prompt(self, entry: RequestEntry, tokens: int) -> None:
        entry.prompt_tokens = tokens
        self.prompt_tokens += tokens
        self.add_energy(energy.token_joules(self.config, prefill_tokens=tokens))

    def count_token(self, piece: Piece, entry: RequestEntry) -> None:
        self.generation_tokens += 1
        self.tokens["total"] += 1
        entry.completion_tokens += 1
        if piece.kind is Kind.THINK:
            self.tokens["think"] += 1
            entry.think_tokens += 1
        elif piece.kind is Kind.ANSWER:
            self.tokens["answer"] += 1
            entry.answer_tokens += 1
        self.add_energy(energy.token_joules(self.config, decode_tokens=1))

    def finish(self, entry: RequestEntry, outcome: str, finish_reason: str) -> None:
        self.disconnects += outcome == "disconnected"
        entry.status, entry.http_status = outcome, 200
        entry.disconnected = outcome == "disconnected"
        entry.finish_reason = finish_reason if outcome == "completed" else None

    def snapshot(self) -> MetricsSnapshot:
        now, cfg = time.monotonic(), self.config
        mj = energy.gpu_energy_millijoules(cfg, elapsed_s=now - self.started, token_energy_j=self.token_energy_j)
        power = energy.gpu_power_watts(cfg, recent=list(self.energy_events), now=now)
        return MetricsSnapshot(
            cfg.model_name, self.prompt_tokens, self.generation_tokens, self.running, (mj,) * cfg.gpus, power
        )

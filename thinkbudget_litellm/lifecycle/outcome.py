"""The one outcome of a client request: the record, metrics, spend-log metadata, LiteLLM's
``response_cost`` and the response headers are all views of it."""

from __future__ import annotations

from dataclasses import dataclass

from thinkbudget_litellm.lifecycle.bill import Bill
from thinkbudget_litellm.lifecycle.model import Admission, Attempt, AttemptKind, Event, SweepReason
from thinkbudget_litellm.policy.budget import BudgetScope
from thinkbudget_litellm.record.request_record import RequestStatus
from thinkbudget_litellm.settings import Enforcement
from thinkbudget_litellm.tiers import Task, Tier


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    admission: Admission
    status: RequestStatus  # cut: answered after a cut; cancelled: the client left (what was generated billed)
    enforcement: Enforcement  # the last primary (or escalation) attempt's deployment's (else the admission's)
    deployment_id: str | None  # the last primary attempt's deployment (the escalation's, when it answered)
    thinking_tokens: int
    answer_tokens: int  # the continuation's answer included
    prompt_tokens: int  # the last primary attempt's
    cut: bool  # the proxy ended the thinking at the budget
    continuation_call_id: str | None
    attempts: tuple[Attempt, ...]
    bill: Bill  # the whole request: primary and continuation
    latency_ms: float  # admission to completion
    completed_by: Event  # the event that completed it
    closed_by: SweepReason | None  # set when the sweep closed it
    escalation_call_id: str | None = None  # the one retry on a larger model, when there was one

    @property
    def call_id(self) -> str:
        return self.admission.call_id

    @property
    def tier(self) -> Tier:
        return self.admission.decision.tier

    @property
    def task(self) -> Task:
        return self.admission.task

    @property
    def budget(self) -> int:
        return self.admission.decision.budget

    @property
    def budget_scope(self) -> BudgetScope:
        return self.admission.decision.scope

    @property
    def engine_capped(self) -> bool:
        """The engine stopped the thinking at the budget (native enforcement, no proxy cut). vLLM
        counts the newline after a ``<think>`` the template pre-opened against the budget, so its
        capped thinking is one token short of it when counted exactly (from its ids)."""
        return self.enforcement is Enforcement.NATIVE and self.budget > 0 and self.thinking_tokens >= self.budget - 1

    def bill_for(self, llm_call_id: str) -> Bill:
        """The part billed under one LiteLLM call id (the client's, or the continuation's): what that
        call's ``response_cost`` and spend-log figures are."""
        return Bill.of(a for a in self.attempts if a.llm_call_id == llm_call_id)

    def attempts_of(self, kind: AttemptKind) -> tuple[Attempt, ...]:
        return tuple(a for a in self.attempts if a.kind is kind)

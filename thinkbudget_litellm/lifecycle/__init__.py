"""The request lifecycle: one LiteLLM-free state machine per client request (``RequestLifecycle``),
its typed attempts, the one ``RequestOutcome`` it produces and the ``Bill`` in it."""

from thinkbudget_litellm.lifecycle.bill import Bill, deployment_priced
from thinkbudget_litellm.lifecycle.machine import RequestLifecycle
from thinkbudget_litellm.lifecycle.meter_port import MeterPort
from thinkbudget_litellm.lifecycle.model import (
    Admission,
    Attempt,
    AttemptEnd,
    AttemptKind,
    Event,
    Phase,
    Step,
    SweepReason,
)
from thinkbudget_litellm.lifecycle.outcome import RequestOutcome

__all__ = [
    "Admission",
    "Attempt",
    "AttemptEnd",
    "AttemptKind",
    "Bill",
    "Event",
    "MeterPort",
    "Phase",
    "RequestLifecycle",
    "RequestOutcome",
    "Step",
    "SweepReason",
    "deployment_priced",
]

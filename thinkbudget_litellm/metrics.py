"""Prometheus metrics on the default registry, so they appear on LiteLLM's ``/metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_LABELS = ("team", "tier", "model")

REQUESTS = Counter("thinkbudget_requests", "Requests seen by thinkbudget", [*_LABELS, "enforcement"])
THINKING_TOKENS = Counter("thinkbudget_thinking_tokens", "Thinking tokens generated", _LABELS)
ANSWER_TOKENS = Counter("thinkbudget_answer_tokens", "Answer tokens generated", _LABELS)
BUDGET_TOKENS = Histogram(
    "thinkbudget_budget_tokens",
    "Thinking budget assigned per request",
    ["tier"],
    buckets=(0, 32, 128, 512, 2048, 8192, 32768),
)
CUTS = Counter("thinkbudget_cuts", "Streams cut at the thinking budget", _LABELS)
ENERGY_JOULES = Counter("thinkbudget_energy_joules", "GPU energy attributed to requests", [*_LABELS, "source"])
COST_USD = Counter("thinkbudget_cost_usd", "GPU cost attributed to requests (USD)", _LABELS)
CO2E_GRAMS = Counter(
    "thinkbudget_co2e_grams", "CO2e of the GPU energy attributed to requests (grams; carbon settings)", _LABELS
)
CACHE_HITS = Counter("thinkbudget_cache_hits", "Requests LiteLLM answered from its response cache (no GPU)", _LABELS)
CACHE_SAVED_USD = Counter(
    "thinkbudget_cache_saved_usd", "What cache hits saved: the bill of the request each was cached from (USD)", _LABELS
)
IN_FLIGHT = Gauge("thinkbudget_requests_in_flight", "Requests thinkbudget is tracking that have no record yet")
ERRORS = Counter("thinkbudget_errors", "Internal errors caught by the fail-open policy", ["hook"])
CLASSIFY_SECONDS = Histogram(
    "thinkbudget_classify_seconds",
    "Classifier latency",
    buckets=(5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 5e-3),
)
RECORDS_DROPPED = Counter(
    "thinkbudget_records_dropped",
    "Request records lost before reaching the database (queue_full, no_space, spool_full, stopped, torn, unencodable)",
    ["reason"],
)
RECORDS_SET_ASIDE = Counter(
    "thinkbudget_records_set_aside",
    "Request records kept in rejected.jsonl instead of the database (refused: the database refused "
    "the row on its own; unreadable: a spool line that is not a record)",
    ["reason"],
)
METER_REJECTED_READINGS = Counter(
    "thinkbudget_meter_rejected_readings",
    "Meter readings not believed (the interval is billed from the labelled estimate instead)",
    ["source", "reason"],  # source: nvml | dcgm | estimate | vllm; reason: meter.validate.Rejection
)

"""A second, later-registered callback in the test proxy: it records what LiteLLM's own logging
delivers (cost, metadata, the spend-log payload LiteLLM builds) and serves it to the tests."""

from __future__ import annotations

import json
import os
from typing import Any

from litellm.integrations.custom_logger import CustomLogger

EVENTS_ENV = "THINKBUDGET_TEST_EVENTS"  # JSONL file the test process reads


def _append(event: dict[str, Any]) -> None:
    path = os.environ.get(EVENTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(event, default=str) + "\n")


def _payload(kwargs: dict, response_obj: Any, start_time: Any, end_time: Any, spend: bool = True) -> dict[str, Any]:
    slo = kwargs.get("standard_logging_object") or {}
    try:
        if not spend:  # LiteLLM builds no SpendLogs row from a failed attempt's event
            raise LookupError("failure event")
        from litellm.proxy.spend_tracking.spend_tracking_utils import get_logging_payload

        spend_row = get_logging_payload(
            kwargs=kwargs, response_obj=response_obj, start_time=start_time, end_time=end_time
        )
        keep = (
            "request_id",
            "call_type",
            "api_key",
            "spend",
            "startTime",
            "endTime",
            "model",
            "model_group",
            "team_id",
            "user",
            "litellm_call_id",
            "metadata",
            "total_tokens",
            "prompt_tokens",
            "completion_tokens",
        )
        spend = {k: spend_row.get(k) for k in keep}
    except Exception as exc:  # the payload is what the test asserts on; keep the error visible
        spend = {"error": repr(exc)}
    md = slo.get("metadata") or {}
    return {
        "litellm_call_id": kwargs.get("litellm_call_id"),
        "model_group": md.get("model_group") or slo.get("model_group"),
        "response_cost": kwargs.get("response_cost"),
        "slo_response_cost": slo.get("response_cost"),
        "key_hash": md.get("user_api_key_hash"),
        "team_id": md.get("user_api_key_team_id"),
        "completion_tokens": slo.get("completion_tokens"),
        "prompt_tokens": slo.get("prompt_tokens"),
        "stream": slo.get("stream"),
        "spend_logs_metadata": md.get("spend_logs_metadata"),
        "spend_log_payload": spend,
    }


class Recorder(CustomLogger):
    async def async_log_success_event(self, kwargs: dict, response_obj: Any, start_time: Any, end_time: Any) -> None:
        _append({"status": "success", **_payload(kwargs, response_obj, start_time, end_time)})

    async def async_log_failure_event(self, kwargs: dict, response_obj: Any, start_time: Any, end_time: Any) -> None:
        _append({"status": "failure", **_payload(kwargs, response_obj, start_time, end_time, spend=False)})


recorder = Recorder()

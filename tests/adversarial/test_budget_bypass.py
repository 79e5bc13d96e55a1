"""Nothing a client sends may lift a limit its key or team sets (DESIGN.md, "Trust boundaries").

Every attack runs with a key capped by ``metadata.thinkbudget.max_thinking_tokens: 64`` and a key
whose team sets ``budgets``, with a trivial and a deep prompt, against a natively enforced deployment
(the simulator reports the ``thinking_token_budget`` it was told) and a stream-enforced one (the
thinking the client sees is counted). All requests of the module go out at once, in one burst; the
tests then judge each attack on what came back, what the engine was told and what was recorded.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.adversarial import stack_config as cfg
from tests.adversarial.harness import (
    CHAT,
    DEEP,
    HI,
    STREAM_SLACK_TOKENS,
    AdvStack,
    chat_body,
    thinking_tokens_seen,
)

pytestmark = pytest.mark.proxy

NATIVE, STREAM = "adv-native", "adv-stream"
NATIVE_THINK, STREAM_THINK = 900, 300  # what the simulated model would think unbudgeted


@dataclass(frozen=True)
class Attack:
    name: str
    body: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    keys: tuple[str, ...] = (cfg.CAPPED, cfg.TEAM_BUDGETS)


ATTACKS = (
    Attack("metadata_continuation_mark", body={"metadata": {"thinkbudget_continuation_of": "x"}}),
    Attack("litellm_metadata_continuation_mark", body={"litellm_metadata": {"thinkbudget_continuation_of": "x"}}),
    Attack("top_level_thinking_token_budget", body={"thinking_token_budget": 100000}),
    Attack("extra_body_thinking_token_budget", body={"extra_body": {"thinking_token_budget": 100000}}),
    Attack("body_cap_above_allowance", body={"thinkbudget": {"max_thinking_tokens": 100000}}),
    Attack("header_cap_above_allowance", headers={"x-thinkbudget-max-thinking-tokens": "100000"}),
    Attack("reasoning_effort_high", body={"reasoning_effort": "high"}),
    Attack("anthropic_thinking_budget", body={"thinking": {"type": "enabled", "budget_tokens": 50000}}),
    Attack("enable_thinking_template_kwarg", body={"chat_template_kwargs": {"enable_thinking": True}}),
    # end users may narrow a budget, never widen it beyond what the key allows
    Attack("wide_end_user_in_user_field", body={"user": cfg.WIDE_END_USER}, keys=(cfg.CAPPED,)),
    Attack("wide_end_user_in_header", headers={"x-litellm-end-user-id": cfg.WIDE_END_USER}, keys=(cfg.CAPPED,)),
)
BASELINE = Attack("none")


def policy_budget(key: str, tier: str) -> int:
    """Where the operator's configuration puts the budget (no client input involved)."""
    if key == cfg.CAPPED:
        return min(cfg.TIER_BUDGETS[tier], cfg.KEY_CAP)
    assert key == cfg.TEAM_BUDGETS
    return cfg.TEAM_TIER_BUDGETS[tier]


@dataclass
class Outcome:
    attack: str
    key: str
    prompt: str
    model: str
    status: int
    headers: dict[str, str]
    text: str
    response_id: str | None = None

    @property
    def label(self) -> str:
        return f"{self.attack} key={self.key} prompt={self.prompt!r} model={self.model}"

    @property
    def call_id(self) -> str:
        return self.headers.get("x-litellm-call-id", "")


async def _send(client: httpx.AsyncClient, attack: Attack, key: str, prompt: str, model: str) -> Outcome:
    stream = model == STREAM
    body = chat_body(
        model,
        prompt,
        stream=stream,
        tag=uuid.uuid4().hex,
        sim={"think_tokens": STREAM_THINK if stream else NATIVE_THINK},
    )
    body.update(attack.body)
    headers = {"Authorization": f"Bearer {key}", **attack.headers}
    r = await client.post(CHAT, json=body, headers=headers)
    response_id = None
    if not stream and r.status_code == 200:
        response_id = r.json().get("id")
    return Outcome(attack.name, key, prompt, model, r.status_code, dict(r.headers), r.text, response_id)


@pytest.fixture(scope="module")
def burst(adv: AdvStack) -> list[Outcome]:
    """Every attack (and the baseline) x key x prompt x deployment, sent concurrently."""
    jobs = [
        (attack, key, prompt, model)
        for attack in (BASELINE, *ATTACKS)
        for key in attack.keys
        for prompt in (HI, DEEP)
        for model in (NATIVE, STREAM)
    ]

    async def run() -> list[Outcome]:
        limits = httpx.Limits(max_connections=len(jobs), max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=adv.url, timeout=120, limits=limits) as client:
            return list(await asyncio.gather(*(_send(client, *job) for job in jobs)))

    return asyncio.run(run())


@pytest.fixture(scope="module")
def engine_entries(adv: AdvStack, burst: list[Outcome]) -> dict[str, dict[str, Any]]:
    """The native simulator's view of each request, by response id (``budget``: the cap it honoured)."""
    return {e["id"]: e for e in adv.sim_stats("native")["recent"]}


@pytest.fixture(scope="module")
def records(adv: AdvStack, burst: list[Outcome]) -> dict[str, list[dict[str, Any]]]:
    return adv.records([o.call_id for o in burst if o.call_id], wait_s=20)


def _problems(
    o: Outcome, entries: Mapping[str, Mapping[str, Any]], rows: Mapping[str, list[dict[str, Any]]]
) -> list[str]:
    """Everything wrong with one outcome, as short sentences (empty when the limit held)."""
    if o.status != 200:
        return [f"{o.label}: HTTP {o.status}: {o.text[:200]}"]
    tier, budget_header = o.headers.get("x-thinkbudget-tier"), o.headers.get("x-thinkbudget-budget")
    if tier is None or budget_header is None:
        return [f"{o.label}: no X-ThinkBudget-Tier/-Budget headers (the request went unbudgeted)"]
    want = policy_budget(o.key, tier)
    out = []
    if int(budget_header) != want:
        out.append(f"{o.label}: X-ThinkBudget-Budget {budget_header}, policy says {want}")
    if o.model == NATIVE:
        entry = entries.get(o.response_id or "")
        if entry is None:
            out.append(f"{o.label}: the simulator has no request with id {o.response_id}")
        else:
            if entry["budget"] != want:
                out.append(f"{o.label}: the engine was told thinking_token_budget={entry['budget']}, want {want}")
            if entry["think_tokens"] > want:
                out.append(f"{o.label}: the engine thought {entry['think_tokens']} tokens, budget {want}")
    else:
        seen = thinking_tokens_seen(o.text)
        if seen > want + STREAM_SLACK_TOKENS:
            out.append(f"{o.label}: the client saw {seen} thinking tokens, budget {want} (+{STREAM_SLACK_TOKENS})")
    found = rows.get(o.call_id, [])
    if len(found) != 1:
        out.append(f"{o.label}: {len(found)} records for call id {o.call_id!r}, want exactly 1")
    elif found[0]["budget"] != want:
        out.append(f"{o.label}: the record says budget {found[0]['budget']}, want {want}")
    return out


def test_baseline_requests_get_the_policy_budget(
    burst: list[Outcome], engine_entries: dict[str, dict[str, Any]], records: dict[str, list[dict[str, Any]]]
) -> None:
    """The reference: without any attack, each request gets its key's or team's budget."""
    problems = [p for o in burst if o.attack == BASELINE.name for p in _problems(o, engine_entries, records)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_client_fields_cannot_lift_the_budget(
    attack: Attack,
    burst: list[Outcome],
    engine_entries: dict[str, dict[str, Any]],
    records: dict[str, list[dict[str, Any]]],
) -> None:
    problems = [p for o in burst if o.attack == attack.name for p in _problems(o, engine_entries, records)]
    assert not problems, "\n".join(problems)

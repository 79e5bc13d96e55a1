"""Hostile strings in every client-controlled field that reaches a record or a header.

NUL (Postgres refuses it in text; once it blocked the record writer for good), other control
characters, ANSI escapes, rich markup, lone surrogates (sent as the JSON escape ``\\ud800``, which a
JSON parser turns into a string no UTF-8 encoder accepts) and 100 KB strings, in ``user``,
``litellm_session_id``, ``metadata.session_id``, ``metadata.tags``, the messages and ``model``.

Correct: no 5xx caused by us; each successful request has exactly one record holding the value in
storable form; records keep being written for the requests after them; ``thinkbudget-litellm
report`` neither crashes nor passes escapes or markup from the data to the terminal.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.adversarial import stack_config as cfg
from tests.adversarial.harness import CHAT, SIMPLE, AdvStack, chat_body

pytestmark = pytest.mark.proxy

HOSTILE: dict[str, str] = {
    "nul": "a\x00b",
    "controls": "\x01\x07\x08\x0b\x0c\x7f\r\n\t\x9b",
    "ansi": "\x1b[31mred\x1b[0m\x1b]8;;http://x\x1b\\",
    "markup_close": "[/bold]",
    "markup_link": "[link=http://x]click[/link]",
    "lone_surrogate": "\ud800x\udfff",
    "long_100kb": "x" * 100_000,
}

# Terminal controls the report must never print from data: C0 except newline and tab, DEL, C1.
TERMINAL_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Field:
    name: str
    column: str | None  # the record column that stores it, if any
    put: Callable[[dict[str, Any], str], None]
    hostile_first: bool = False  # the hostile part leads the value (so a 24-character label shows it)


def _set(key: str) -> Callable[[dict[str, Any], str], None]:
    def put(body: dict[str, Any], value: str) -> None:
        body[key] = value

    return put


def _metadata(key: str, wrap: Callable[[str], Any] = lambda v: v) -> Callable[[dict[str, Any], str], None]:
    def put(body: dict[str, Any], value: str) -> None:
        body["metadata"] = {key: wrap(value)}

    return put


def _message(body: dict[str, Any], value: str) -> None:
    body["messages"][0]["content"] += " " + value


FIELDS = (
    Field("user", "end_user", _set("user")),
    Field("litellm_session_id", "session_id", _set("litellm_session_id")),
    Field("metadata_session_id", "session_id", _metadata("session_id")),
    Field("metadata_tags", None, _metadata("tags", lambda v: [v])),
    Field("messages", None, _message),
    Field("model", None, _set("model"), hostile_first=True),  # an unknown model: LiteLLM's own 4xx is fine
)


@dataclass
class Sent:
    field: str
    kind: str
    value: str
    marker: str
    status: int
    call_id: str
    text: str
    headers: dict[str, str]


def _value(f: Field, kind: str) -> tuple[str, str]:
    marker = f"adv-{f.name}-{kind}-{uuid.uuid4().hex[:8]}"
    hostile = HOSTILE[kind]
    return (f"{hostile}-{marker}" if f.hostile_first else f"{marker}-{hostile}-end"), marker


async def _send(client: httpx.AsyncClient, f: Field, kind: str) -> Sent:
    value, marker = _value(f, kind)
    body = chat_body("adv-native", SIMPLE, sim={"think_tokens": 60})
    f.put(body, value)
    # ensure_ascii: a lone surrogate travels as the JSON escape "\ud800", as a hostile client sends it
    raw = json.dumps(body, ensure_ascii=True).encode("ascii")
    r = await client.post(CHAT, content=raw, headers={"Content-Type": "application/json"})
    call_id = r.headers.get("x-litellm-call-id", "")
    return Sent(f.name, kind, value, marker, r.status_code, call_id, r.text[:500], dict(r.headers))


@dataclass
class Burst:
    sent: list[Sent]
    after: list[str]  # call ids of ordinary requests sent once the hostile ones were answered
    odd_names: str  # call id of a request with the key whose alias and team id are hostile
    rows: dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def burst(adv: AdvStack) -> Burst:
    async def run() -> tuple[list[Sent], list[str], str]:
        async with adv.async_client(cfg.PLAIN) as client:
            sent = await asyncio.gather(*(_send(client, f, kind) for f in FIELDS for kind in HOSTILE))
            after = await asyncio.gather(
                *(
                    client.post(CHAT, json=chat_body("adv-native", f"{SIMPLE} #{i}", sim={"think_tokens": 40}))
                    for i in range(3)
                )
            )
        async with adv.async_client(cfg.ODD_NAMES) as client:
            odd = await client.post(CHAT, json=chat_body("adv-native", SIMPLE, sim={"think_tokens": 40}))
        return (
            list(sent),
            [r.headers.get("x-litellm-call-id", "") for r in after],
            odd.headers.get("x-litellm-call-id", ""),
        )

    sent, after, odd = asyncio.run(run())
    ids = [s.call_id for s in sent if s.call_id] + [c for c in (*after, odd) if c]
    return Burst(sent, after, odd, adv.records(ids, wait_s=20))


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.name)
def test_hostile_field_is_answered_and_recorded_once(burst: Burst, field: Field) -> None:
    problems = []
    for s in (s for s in burst.sent if s.field == field.name):
        label = f"{field.name}/{s.kind}"
        if s.status >= 500:
            problems.append(f"{label}: HTTP {s.status}: {s.text[:200]!r}")
            continue
        ours = {k: v for k, v in s.headers.items() if k.startswith("x-thinkbudget-")}
        if any(TERMINAL_CONTROLS.search(v) for v in ours.values()):
            problems.append(f"{label}: control characters in our response headers: {ours}")
        rows = burst.rows.get(s.call_id, [])
        if s.status != 200:
            if len(rows) > 1:
                problems.append(f"{label}: HTTP {s.status} and {len(rows)} records")
            continue
        if len(rows) != 1:
            problems.append(f"{label}: {len(rows)} records for call id {s.call_id!r}, want exactly 1")
            continue
        if field.column is not None:
            stored = rows[0][field.column]
            if not isinstance(stored, str) or s.marker not in stored:
                problems.append(f"{label}: {field.column} stored as {str(stored)[:80]!r}, lost the value")
            elif not _storable(stored):
                problems.append(f"{label}: {field.column} stored with a NUL or a lone surrogate: {stored[:80]!r}")
    assert not problems, "\n".join(problems)


def test_records_keep_being_written_after_hostile_ones(burst: Burst) -> None:
    missing = [cid for cid in (*burst.after, burst.odd_names) if len(burst.rows.get(cid, [])) != 1]
    assert all(burst.after) and burst.odd_names, "an ordinary request got no call id"
    assert not missing, f"{len(missing)} ordinary requests after the hostile ones have no record: {missing}"


# Rows written straight into the suite's database, so that the report is attacked even when the
# proxy's own records of the hostile requests are missing (that is the tests above's business).
SEEDED = (
    {"team_id": "[bold red]adv-seeded-team\x07\r", "key_alias": "[/bold]adv-seeded-key\x1b]8;;http://x\x1b\\"},
    {"model_group": "[link=http://x]adv-seeded-model\x1b[31m", "key_alias": "[/]adv-seeded-key-2"},
)


@pytest.fixture(scope="module")
def seeded(adv: AdvStack, burst: Burst) -> None:
    """Hostile labels in the grouped columns (team, key alias, model), inserted as plain rows."""
    table = "thinkbudget.request_records" if adv.postgres else "request_records"
    insert = sa.text(
        f"INSERT INTO {table} (litellm_call_id, created_at, api_key_hash, key_alias, team_id, model_group, "
        "tier, status, thinking_tokens, answer_tokens, prompt_tokens, cut, extra) VALUES (:id, :now, :hash, "
        ":key_alias, :team_id, :model_group, 'simple', 'success', 10, 5, 3, false, '{}')"
    )
    with adv.sync_engine().begin() as conn:
        for i, labels in enumerate(SEEDED):
            row = {"team_id": None, "key_alias": None, "model_group": None, **labels}
            conn.execute(
                insert, {"id": f"adv-seeded-{uuid.uuid4()}", "now": datetime.now(UTC), "hash": f"seeded{i}", **row}
            )


@pytest.fixture(scope="module")
def reports(adv: AdvStack, seeded: None) -> dict[str, tuple[int, str, str]]:
    """``report --by team|key|model`` over the suite's database, run side by side."""
    with ThreadPoolExecutor(3) as pool:
        done = dict(zip(("team", "key", "model"), pool.map(adv.report, ("team", "key", "model")), strict=True))
    return {by: (p.returncode, p.stdout, p.stderr) for by, p in done.items()}


GROUP_COLUMN = {"team": "team_id", "key": "key_alias", "model": "model_group"}


@pytest.mark.parametrize("by", ["team", "key", "model"])
def test_report_prints_hostile_data_inert(adv: AdvStack, reports: dict[str, tuple[int, str, str]], by: str) -> None:
    rc, out, err = reports[by]
    assert rc == 0 and "Traceback" not in err, f"report --by {by} failed ({rc}):\n{err[-2000:]}"
    controls = sorted({repr(c) for c in TERMINAL_CONTROLS.findall(out + err)})
    assert not controls, f"report --by {by} printed terminal controls from the data: {controls}"
    # markup in a stored label is shown as text, not interpreted: the label's first characters are
    # visible (the report shortens long labels, so only their start is looked for)
    column = GROUP_COLUMN[by]
    table = "thinkbudget.request_records" if adv.postgres else "request_records"
    with adv.sync_engine().connect() as conn:
        stored = conn.execute(sa.text(f"SELECT DISTINCT {column} FROM {table} WHERE {column} LIKE '[%'")).scalars()
        labels = [label for label in stored if label]
    assert labels, "no hostile label in the database"
    for label in labels:
        visible = label.split("\x1b")[0][:15]
        assert visible in out, f"report --by {by}: {visible!r} (start of a stored label) is not shown as text"

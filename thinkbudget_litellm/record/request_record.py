"""One client request's spend/energy record: the value the handler hands to the writer.

:class:`RequestRecord` is also the one definition of the record's columns: each field carries a
:class:`ColumnSpec` (``field(metadata=...)``), and :func:`record_columns` lists them. The spool codec
(:mod:`thinkbudget_litellm.record.spool_codec`) and the SQLAlchemy table
(:mod:`thinkbudget_litellm.record.models`) derive their columns from it, so adding a column is one
field here plus an Alembic migration.

Every record is storable from the moment it exists: ``__post_init__`` passes its text fields and
``extra`` through :mod:`thinkbudget_litellm.record.text` (NUL and lone surrogates escaped, lengths
bounded to what the column holds), whoever builds it: the handler, a test, or the writer decoding a
spool line written by an older version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, Field, asdict, dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from thinkbudget_litellm.record.text import storable_object, storable_text


class RequestStatus(StrEnum):
    """How a client request ended: exactly the values the ``status`` column holds."""

    SUCCESS = "success"  # answered within its budget (or unenforced)
    CUT = "cut"  # answered after the proxy cut the thinking at the budget
    FAILURE = "failure"  # the client got an error (or the request was swept after failing)
    CANCELLED = "cancelled"  # the client left before the answer was complete
    CACHE_HIT = "cache_hit"  # answered from LiteLLM's response cache: no GPU ran (0 J, $0)


class ColumnKind(StrEnum):
    """What a record column holds (the database type follows from it, see ``models``)."""

    TEXT = "text"
    INTEGER = "integer"  # 32-bit signed in the database
    FLOAT = "float"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"  # timezone-aware
    JSON = "json"  # an object: JSONB on Postgres


# Text columns without a varchar limit: still bounded, so that one value cannot exceed a btree index
# entry (~2.7 kB; team_id and model_group are indexed) or bloat every row.
IDENTIFIER_MAX_CHARS = 512
PROMPT_MAX_CHARS = 1 << 20


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One record column: its kind and, for text, the longest value kept.

    ``varchar``: the database column is ``varchar(max_chars)``; otherwise ``text`` and ``max_chars``
    is our own bound.
    """

    kind: ColumnKind
    max_chars: int | None = None
    varchar: bool = False


@dataclass(frozen=True, slots=True)
class RecordColumn:
    """A column as the codec and the table see it (from a :class:`RequestRecord` field)."""

    name: str
    spec: ColumnSpec
    nullable: bool
    default: Any  # the field's default (a fresh ``{}`` for ``extra``); ``None`` when nullable or required

    @property
    def kind(self) -> ColumnKind:
        return self.spec.kind


_SPEC_KEY = "thinkbudget_column"


def _text(max_chars: int, *, varchar: bool = False) -> dict[str, ColumnSpec]:
    return {_SPEC_KEY: ColumnSpec(ColumnKind.TEXT, max_chars, varchar)}


def _of(kind: ColumnKind) -> dict[str, ColumnSpec]:
    return {_SPEC_KEY: ColumnSpec(kind)}


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One row of ``thinkbudget.request_records``; ``litellm_call_id`` is unique.

    ``status`` is one of :class:`RequestStatus` (success, cut, failure, cancelled, cache_hit): a string naming one
    becomes the enum; any other string is kept, and the database's CHECK constraint refuses the row
    (the writer sets it aside in ``rejected.jsonl``). ``budget_scope`` is one of
    :class:`thinkbudget_litellm.policy.budget.BudgetScope` (tier, team, key, user, end_user, session,
    request, adaptive), also checked by the database.
    """

    litellm_call_id: str = field(metadata=_text(128, varchar=True))
    created_at: datetime = field(metadata=_of(ColumnKind.TIMESTAMP))  # timezone-aware UTC, when it finished
    api_key_hash: str | None = field(default=None, metadata=_text(128, varchar=True))
    key_alias: str | None = field(default=None, metadata=_text(IDENTIFIER_MAX_CHARS))
    team_id: str | None = field(default=None, metadata=_text(IDENTIFIER_MAX_CHARS))
    user_id: str | None = field(default=None, metadata=_text(IDENTIFIER_MAX_CHARS))
    end_user: str | None = field(default=None, metadata=_text(IDENTIFIER_MAX_CHARS))
    session_id: str | None = field(default=None, metadata=_text(IDENTIFIER_MAX_CHARS))
    model_group: str | None = field(default=None, metadata=_text(IDENTIFIER_MAX_CHARS))
    deployment: str | None = field(default=None, metadata=_text(IDENTIFIER_MAX_CHARS))  # litellm model id
    tier: str | None = field(default=None, metadata=_text(32, varchar=True))
    task: str | None = field(default=None, metadata=_text(64, varchar=True))
    budget: int | None = field(default=None, metadata=_of(ColumnKind.INTEGER))
    budget_scope: str | None = field(default=None, metadata=_text(32, varchar=True))  # a BudgetScope
    enforcement: str | None = field(default=None, metadata=_text(16, varchar=True))  # native|stream|off
    status: RequestStatus = field(default=RequestStatus.SUCCESS, metadata=_text(32, varchar=True))
    thinking_tokens: int = field(default=0, metadata=_of(ColumnKind.INTEGER))
    answer_tokens: int = field(default=0, metadata=_of(ColumnKind.INTEGER))
    prompt_tokens: int = field(default=0, metadata=_of(ColumnKind.INTEGER))
    cut: bool = field(default=False, metadata=_of(ColumnKind.BOOLEAN))
    continuation_call_id: str | None = field(default=None, metadata=_text(128, varchar=True))
    energy_j: float | None = field(default=None, metadata=_of(ColumnKind.FLOAT))
    # measured:nvml|measured:dcgm|estimated|simulated|none, nesting fallback reasons
    energy_source: str | None = field(default=None, metadata=_text(IDENTIFIER_MAX_CHARS))
    co2e_g: float | None = field(default=None, metadata=_of(ColumnKind.FLOAT))  # energy x grid intensity
    gpu_seconds: float | None = field(default=None, metadata=_of(ColumnKind.FLOAT))
    cost_usd: float | None = field(default=None, metadata=_of(ColumnKind.FLOAT))
    baseline_thinking_tokens: int | None = field(default=None, metadata=_of(ColumnKind.INTEGER))  # unbudgeted
    latency_ms: float | None = field(default=None, metadata=_of(ColumnKind.FLOAT))
    prompt_text: str | None = field(default=None, metadata=_text(PROMPT_MAX_CHARS))  # only when opted in
    exploration: bool = field(default=False, metadata=_of(ColumnKind.BOOLEAN))  # adaptive: a larger budget
    grace_tokens: int = field(default=0, metadata=_of(ColumnKind.INTEGER))  # thinking past the budget before a cut
    route: str | None = field(default=None, metadata=_text(IDENTIFIER_MAX_CHARS))  # model group routed to
    route_reason: str | None = field(default=None, metadata=_text(4096))  # strategy and guard, in words
    estimated_cost_usd: float | None = field(default=None, metadata=_of(ColumnKind.FLOAT))  # before the call
    budget_remaining_usd: float | None = field(default=None, metadata=_of(ColumnKind.FLOAT))  # tightest budget
    baseline_cost_usd: float | None = field(default=None, metadata=_of(ColumnKind.FLOAT))  # same tokens, baseline
    extra: dict[str, Any] = field(default_factory=dict, metadata=_of(ColumnKind.JSON))

    def __post_init__(self) -> None:
        for name, max_chars in _TEXT_LIMITS:
            value = getattr(self, name)
            if value is not None:
                storable = storable_text(value, max_chars)
                if storable is not value:
                    object.__setattr__(self, name, storable)
        status = self.status
        if not isinstance(status, RequestStatus) and status in _STATUS_VALUES:
            object.__setattr__(self, "status", RequestStatus(status))
        extra = self.extra
        object.__setattr__(self, "extra", storable_object(extra) if isinstance(extra, Mapping) else {})

    def as_row(self) -> dict[str, Any]:
        """The record as a row of plain values (``status`` as its string), keyed by column name."""
        row = asdict(self)
        row["status"] = str(row["status"])
        return row


def _column_of(spec_field: Field[Any]) -> RecordColumn:
    spec = spec_field.metadata[_SPEC_KEY]
    if spec_field.default_factory is not MISSING:
        default = spec_field.default_factory()
    elif spec_field.default is not MISSING:
        default = spec_field.default
    else:
        default = None
    nullable = spec_field.default is None
    return RecordColumn(spec_field.name, spec, nullable, None if nullable else default)


def record_columns() -> tuple[RecordColumn, ...]:
    """Every column of a record, in field order (``extra``'s default is a fresh ``{}`` per call)."""
    return tuple(_column_of(f) for f in fields(RequestRecord))


RECORD_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(RequestRecord))
_TEXT_LIMITS: tuple[tuple[str, int], ...] = tuple(
    (c.name, c.spec.max_chars) for c in record_columns() if c.kind is ColumnKind.TEXT and c.spec.max_chars
)
_STATUS_VALUES = frozenset(s.value for s in RequestStatus)

"""record: per-request spend and energy rows in Postgres (schema ``thinkbudget``) or SQLite.

* :class:`RequestRecord` - the value the handler builds per client request.
* :class:`RecordWriter` - ``submit(record)`` from hooks; queue -> durable spool -> batched inserts.
* :func:`resolve_database_target` - which database, from the environment (pure).
* :func:`upgrade_database` - apply the packaged migrations (and the reporting views on Postgres).

Everything but ``RequestRecord`` is imported lazily, so importing the value does not load SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from thinkbudget_litellm.record.request_record import RequestRecord

if TYPE_CHECKING:
    from thinkbudget_litellm.record.database_url import DatabaseTarget, resolve_database_target
    from thinkbudget_litellm.record.migrate import UpgradeResult, upgrade_database
    from thinkbudget_litellm.record.writer import RecordWriter, WriterStats

__all__ = [
    "DatabaseTarget",
    "RecordWriter",
    "RequestRecord",
    "UpgradeResult",
    "WriterStats",
    "resolve_database_target",
    "upgrade_database",
]

_LAZY = {
    "DatabaseTarget": "thinkbudget_litellm.record.database_url",
    "resolve_database_target": "thinkbudget_litellm.record.database_url",
    "UpgradeResult": "thinkbudget_litellm.record.migrate",
    "upgrade_database": "thinkbudget_litellm.record.migrate",
    "RecordWriter": "thinkbudget_litellm.record.writer",
    "WriterStats": "thinkbudget_litellm.record.writer",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'thinkbudget_litellm.record' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(module), name)

"""record: per-request spend and energy rows in Postgres (schema ``thinkbudget``)."""

from thinkbudget_litellm.record.request_record import RequestRecord

__all__ = ["RequestRecord"]

"""Fixtures for the record tests: a throwaway Postgres with LiteLLM's tables (tests/pg_fixtures.py)."""

from tests.pg_fixtures import empty_db, litellm_db, pg_server

__all__ = ["empty_db", "litellm_db", "pg_server"]

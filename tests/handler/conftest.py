"""Fixtures the handler tests share: a throwaway Redis."""

from tests.redis_fixtures import redis_port  # noqa: F401

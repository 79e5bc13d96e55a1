"""Alembic migrations for schema ``thinkbudget``; applied by ``thinkbudget-litellm db upgrade``."""

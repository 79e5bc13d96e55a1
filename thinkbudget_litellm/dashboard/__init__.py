"""The live dashboard the LiteLLM proxy serves at ``/thinkbudget/ui`` (JSON under ``/thinkbudget/api/``).

``access`` decides who sees which rows, ``queries`` shapes record rows into what the page shows
(pure), ``store`` reads the rows from the records database, ``power`` turns meter snapshots into
watts, ``routes`` is the FastAPI router, ``static/`` the page. ``handler.litellm_io`` mounts the
router on LiteLLM's app and hands it LiteLLM's own auth.
"""

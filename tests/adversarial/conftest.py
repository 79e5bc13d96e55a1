"""One adversarial stack for the whole package: simulated backends, the test doubles (a hostile DCGM
exporter, an engine double for vLLM's text-completion and Responses endpoints), the records
database (a throwaway Postgres, else SQLite) and a real ``litellm`` proxy subprocess loading
thinkbudget, with emulated virtual keys (custom_auth) and the e2e recorder callback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.adversarial import stack_config
from tests.adversarial.doubles import running_engine_double, running_hostile_dcgm
from tests.adversarial.harness import AdvStack
from tests.proxy_stack import proxy_env, records_url, stack_logs_on_failure, stack_or_fail, start_sims
from thinkbudget_litellm.demo.stack import start_proxy


def _postgres() -> tuple[Any, str | None]:
    """A throwaway Postgres database for the records (no LiteLLM tables needed), or (None, None)."""
    from tests.pg_fixtures import PostgresUnavailable, ThrowawayPostgres

    try:
        pg = ThrowawayPostgres()
    except PostgresUnavailable:
        return None, None
    try:
        pg.start()
        return pg, pg.create_database(with_litellm=False)
    except BaseException:
        pg.destroy()
        raise


@pytest.fixture(scope="package")
def adv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdvStack]:
    log_dir = tmp_path_factory.mktemp("adversarial")
    pg, pg_db = _postgres()
    with (
        running_hostile_dcgm() as dcgm,
        running_engine_double() as engine,
        stack_or_fail("adversarial", on_stop=pg.destroy if pg is not None else None) as stack,
    ):
        sims = start_sims(stack, stack_config.SIMS, stack_config.COMMON_SIM_FLAGS, log_dir)
        cfg, keys = stack_config.write(log_dir)
        events = log_dir / "events.jsonl"
        database_url = records_url(pg.url(pg_db) if pg is not None else None, log_dir)
        env = proxy_env(sims, "ADV_SIM_", keys, events, database_url, log_dir)
        env[stack_config.HOSTILE_DCGM_ENV] = dcgm.url
        env[stack_config.ENGINE_DOUBLE_ENV] = engine.base + "/v1"
        env[stack_config.ENGINE_DOUBLE_METRICS_ENV] = engine.base + "/metrics"
        proxy = start_proxy(cfg, log_dir, env=env)
        stack.services.append(proxy)
        a = AdvStack(
            stack=stack,
            proxy=proxy,
            sims=sims,
            dcgm=dcgm,
            engine=engine,
            log_dir=log_dir,
            config_path=cfg,
            proxy_env=env,
            events_path=events,
            database_url=database_url,
            postgres=pg is not None,
        )
        try:
            yield a
        finally:
            a.dispose()


# Module order: the hostile strings last, so that a record writer one bad record blocks for good (as
# a NUL once did) fails them, not every test after them; the kill test replaces the proxy.
MODULE_ORDER = (
    "test_budget_bypass",
    "test_request_fields",
    "test_energy_hostile",
    "test_lifecycle",
    "test_kill_restart",
    "test_hostile_strings",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module is not None else ""  # type: ignore[attr-defined]
        return MODULE_ORDER.index(module) if module in MODULE_ORDER else len(MODULE_ORDER)

    ours = [i for i in items if "tests/adversarial/" in str(i.path).replace("\\", "/")]
    if not ours:
        return
    first = items.index(ours[0])
    rest = [i for i in items if i not in ours]
    items[:] = rest[:first] + sorted(ours, key=rank) + rest[first:]


pytest_runtest_makereport = stack_logs_on_failure("adv")

"""RecordWriter benchmark: sustained records/second into Postgres and the latency submit() adds.

Runs against a throwaway Postgres (tests/pg_fixtures.py, fsync on unless --no-fsync) holding
LiteLLM's real tables, or against --url. Prints figures; asserts nothing.

    PYTHONPATH=. python benchmarks/writer_bench.py [--records 50000] [--rate 2000] [--url URL]

Targets: >= 2,000 records/s sustained; submit() p99 < 0.1 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.pg_fixtures import PostgresUnavailable, ThrowawayPostgres, start_litellm_postgres
from thinkbudget_litellm.record import RequestRecord
from thinkbudget_litellm.record.database_url import clean_database_url
from thinkbudget_litellm.record.migrate import upgrade_database
from thinkbudget_litellm.record.writer import RecordWriter

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def records(prefix: str, n: int) -> list[RequestRecord]:
    return [
        RequestRecord(
            litellm_call_id=f"{prefix}-{i:09d}",
            created_at=T0 + timedelta(milliseconds=i),
            api_key_hash=f"{i % 50:064x}",
            key_alias=f"key-{i % 50}",
            team_id=f"team-{i % 7}",
            user_id=f"user-{i % 300}",
            model_group="qwen3-32b",
            deployment="dep-1",
            tier=("light", "standard", "deep")[i % 3],
            task="math",
            budget=1024,
            budget_scope="tier",
            enforcement="native",
            thinking_tokens=300 + i % 700,
            answer_tokens=120,
            prompt_tokens=400,
            energy_j=35.5,
            energy_source="measured:nvml",
            gpu_seconds=0.12,
            cost_usd=0.0004,
            baseline_thinking_tokens=900,
            latency_ms=850.0,
            extra={"engine": "vllm"},
        )
        for i in range(n)
    ]


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def throughput(url: str, spool: Path, n: int) -> None:
    batch = records("burst", n)
    writer = RecordWriter(url, spool_dir=spool)
    await writer.start()
    start = time.perf_counter()
    for record in batch:
        writer.submit(record)
    submitted = time.perf_counter() - start
    ok = await writer.wait_idle(600)
    elapsed = time.perf_counter() - start
    await writer.stop()
    print(f"burst of {n:,} records: submitted in {submitted * 1000:.0f} ms, in Postgres after {elapsed:.2f} s")
    print(f"  sustained write rate: {n / elapsed:,.0f} records/s (ok={ok})")


async def latency(url: str, spool: Path, n: int, rate: float) -> None:
    batch = records("paced", n)
    writer = RecordWriter(url, spool_dir=spool)
    await writer.start()
    samples: list[float] = []
    start = time.perf_counter()
    for i, record in enumerate(batch):
        t = time.perf_counter_ns()
        writer.submit(record)
        samples.append((time.perf_counter_ns() - t) / 1000.0)
        delay = start + (i + 1) / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    submit_done = time.perf_counter() - start
    ok = await writer.wait_idle(600)
    lag = time.perf_counter() - start - submit_done
    stats = writer.stats()
    await writer.stop()
    samples.sort()
    print(f"paced {n:,} records at {rate:,.0f}/s (achieved {n / submit_done:,.0f}/s):")
    print(
        f"  submit() latency: p50 {percentile(samples, 0.5):.2f} us, p99 {percentile(samples, 0.99):.2f} us, "
        f"p99.9 {percentile(samples, 0.999):.2f} us, max {samples[-1]:.1f} us, "
        f"mean {statistics.fmean(samples):.2f} us"
    )
    print(f"  database caught up {lag * 1000:.0f} ms after the last submit (ok={ok}); rows={stats.written:,}")


async def replay(server: ThrowawayPostgres, url: str, spool: Path, n: int) -> None:
    batch = records("outage", n)
    server.stop("fast")
    writer = RecordWriter(url, spool_dir=spool, retry_initial_s=0.05, retry_max_s=0.2)
    await writer.start()
    for record in batch:
        writer.submit(record)
    await asyncio.sleep(1.0)
    spooled = writer.stats().spooled
    start = time.perf_counter()
    await asyncio.to_thread(server.start)
    ok = await writer.wait_idle(600)
    elapsed = time.perf_counter() - start
    await writer.stop()
    print(f"outage: {spooled:,} records spooled while Postgres was down; in it {elapsed:.2f} s after restart")
    print(f"  replay rate (incl. server start): {n / elapsed:,.0f} records/s (ok={ok})")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--rate", type=float, default=2000.0, help="paced submit rate for the latency run")
    parser.add_argument("--url", help="use this database instead of a throwaway Postgres (no outage run)")
    parser.add_argument("--no-fsync", action="store_true", help="throwaway server with fsync=off")
    args = parser.parse_args()
    server: ThrowawayPostgres | None = None
    if args.url:
        url = args.url
    else:
        try:
            server = start_litellm_postgres(fsync=not args.no_fsync)
        except PostgresUnavailable as exc:
            sys.exit(f"no throwaway Postgres: {exc}")
        url = server.url(server.create_database(with_litellm=True))
        print(f"throwaway Postgres (fsync={'off' if args.no_fsync else 'on'}) at {url}")
    try:
        await upgrade_database(clean_database_url(url))
        with tempfile.TemporaryDirectory() as spool:
            await throughput(url, Path(spool), args.records)
            await latency(url, Path(spool), min(args.records, 20_000), args.rate)
            if server is not None:
                await replay(server, url, Path(spool), args.records)
    finally:
        if server is not None:
            server.destroy()


if __name__ == "__main__":
    asyncio.run(main())

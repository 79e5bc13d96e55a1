"""Subprocess for the SIGKILL test: submits records at a steady rate and prints "<n> <monotonic>" per record.

Usage: python writer_child.py URL SPOOL_DIR PREFIX RATE_PER_S
"""

from __future__ import annotations

import asyncio
import sys
import time

from tests.record.record_builders import make_record
from thinkbudget_litellm.record.writer import RecordWriter


async def main(url: str, spool_dir: str, prefix: str, rate: float) -> None:
    writer = RecordWriter(url, spool_dir=spool_dir, retry_initial_s=0.05, retry_max_s=0.2)
    await writer.start()
    print("ready", time.monotonic(), flush=True)
    start = time.monotonic()
    n = 0
    while True:
        writer.submit(make_record(n, prefix=prefix))
        print(n, time.monotonic(), flush=True)
        n += 1
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        elif n % 50 == 0:
            await asyncio.sleep(0)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))

"""Latency of ``classify()`` on the training prompts of at most 2,000 characters (never the test split).

Each prompt is timed in ``--rounds`` interleaved rounds after one untimed warm-up round, with the
garbage collector on; the figures are p50/p99 of every call ("raw") and of each prompt's best time
("best of N"). ``--stages`` times the rules (``rule_pass``) and the learned stage (``model.predict``
on the rules' result) the same way; ``--long`` adds the 100 kB and 1 MB prompts of
``classifier_bench.padded_prompts``.

``--against REF`` times the classifier of git revision REF in the same process, prompt by prompt
in alternation with this checkout's (its package copied under another name), so that both see the
same load on a shared machine.

    python benchmarks/classifier_latency.py [--rounds 7] [--stages] [--long] [--against HEAD~3]
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from thinkbudget_litellm.classify import classify  # noqa: E402
from thinkbudget_litellm.classify.classifier import rule_pass  # noqa: E402
from thinkbudget_litellm.classify.learned import shipped_model  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from classifier_bench import padded_prompts, prompt_chars  # noqa: E402

TRAIN = ROOT / "benchmarks" / "datasets" / "v2" / "train.jsonl"


def small_prompts(limit: int = 2_000) -> list[Any]:
    rows = [json.loads(line) for line in TRAIN.read_text(encoding="utf-8").splitlines() if line.strip()]
    prompts = [r["messages"] if "messages" in r else r["text"] for r in rows]
    return [p for p in prompts if prompt_chars(p) <= limit]


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def timed(fn: Callable[[Any], object], args: Sequence[Any], rounds: int) -> dict[str, float]:
    for a in args:
        fn(a)
    gc.collect()
    per: list[list[float]] = [[] for _ in args]
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for i, a in enumerate(args):
            t0 = clock()
            fn(a)
            per[i].append((clock() - t0) / 1000)
    return _figures(per)


def classifier_at(ref: str, into: Path) -> Callable[[Any], object]:
    """``classify`` of git revision ``ref``: its classify package and tiers module extracted under
    ``into`` as the package ``tb_at_ref`` (imports renamed), so that it loads beside this one."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "thinkbudget_litellm/classify", "thinkbudget_litellm/tiers.py"],
        check=True,
        capture_output=True,
    ).stdout
    tar_path = into / "ref.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into, filter="data")
    (into / "thinkbudget_litellm").rename(into / "tb_at_ref")
    (into / "tb_at_ref" / "__init__.py").write_text("", encoding="utf-8")
    for path in (into / "tb_at_ref").rglob("*.py"):
        path.write_text(path.read_text(encoding="utf-8").replace("thinkbudget_litellm", "tb_at_ref"), encoding="utf-8")
    sys.path.insert(0, str(into))
    return importlib.import_module("tb_at_ref.classify").classify


def timed_pair(
    a: Callable[[Any], object], b: Callable[[Any], object], args: Sequence[Any], rounds: int
) -> tuple[dict[str, float], dict[str, float]]:
    """``timed`` for two functions, alternating (and swapping which goes first) call by call."""
    for x in args:
        a(x)
        b(x)
    gc.collect()
    per: tuple[list[list[float]], list[list[float]]] = ([[] for _ in args], [[] for _ in args])
    clock = time.perf_counter_ns
    for r in range(rounds):
        order = ((0, a), (1, b)) if r % 2 == 0 else ((1, b), (0, a))
        for i, x in enumerate(args):
            for k, fn in order:
                t0 = clock()
                fn(x)
                per[k][i].append((clock() - t0) / 1000)
    return _figures(per[0]), _figures(per[1])


def _figures(per: list[list[float]]) -> dict[str, float]:
    calls = [t for ts in per for t in ts]
    best = [min(ts) for ts in per]
    return {
        "p50": pct(calls, 0.5),
        "p99": pct(calls, 0.99),
        "best_p50": pct(best, 0.5),
        "best_p99": pct(best, 0.99),
        "mean_best": sum(best) / len(best),
    }


def line(name: str, r: dict[str, float]) -> str:
    return (
        f"{name:<16} raw p50 {r['p50']:7.1f} p99 {r['p99']:7.1f} us | best-of-N p50 {r['best_p50']:7.1f} "
        f"p99 {r['best_p99']:7.1f} mean {r['mean_best']:6.1f} us"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--long", action="store_true", help="also time the 1 MB prompts")
    parser.add_argument("--stages", action="store_true", help="also time the rule stage and the learned stage")
    parser.add_argument("--against", metavar="REF", help="also time git revision REF, call by call in alternation")
    args = parser.parse_args(argv)
    import thinkbudget_litellm

    prompts = small_prompts()
    print(f"code: {Path(thinkbudget_litellm.__file__).parent.parent}")
    print(f"{len(prompts)} training prompts <= 2,000 chars, {args.rounds} rounds, load {os.getloadavg()}")
    if args.against:
        with tempfile.TemporaryDirectory() as tmp:
            theirs = classifier_at(args.against, Path(tmp))
            mine, ref = timed_pair(classify, theirs, prompts, args.rounds)
        print(line(args.against, ref))
        print(line("classify", mine))
    else:
        print(line("classify", timed(classify, prompts, args.rounds)))
    if args.stages:
        model = shipped_model()
        assert model is not None
        passes = [rule_pass(p) for p in prompts]
        print(line("rule_pass", timed(rule_pass, prompts, args.rounds)))
        print(line("model.predict", timed(model.predict, passes, args.rounds)))
    if args.long:
        for size in (100_000, 1_000_000):
            longs = [p for _, p in padded_prompts(size)]
            print(line(f"{size // 1000} kB", timed(classify, longs, 5)))
    print(f"load after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

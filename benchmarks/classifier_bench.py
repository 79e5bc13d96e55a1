"""Benchmark the prompt classifier against LiteLLM's complexity router.

    PYTHONPATH=. python benchmarks/classifier_bench.py [--json PATH] [--quick]

Accuracy is measured on the frozen v2 test split (benchmarks/datasets/v2/test.jsonl, written by
helpers who saw only the rubric, never tuned on), then by language, length band, task and
multi-turn on that split; the v1 test split and the training data are shown for reference
(the learned stage was fitted on the training data, so its figure there says nothing about
generalisation). For each:

- exact tier accuracy
- within-one accuracy
- under-budget rate: predicted tier below the label
- a confusion matrix

Our classifier is compared with LiteLLM's ``ComplexityRouter`` with ``classifier_type``
``heuristic`` (rules) and ``heuristic_v2`` (its trained success predictor), built directly
without a Router. It gets the ask and system prompt that the router itself extracts from the
messages. Its four tiers are mapped onto ours by name and intent:

- SIMPLE -> simple
- MEDIUM -> moderate
- COMPLEX -> complex
- REASONING -> deep

It has no trivial tier, so its SIMPLE is scored as simple. That mapping costs it nothing on
within-one accuracy for trivial labels.

Latency is p50/p99 per call (``time.perf_counter_ns`` around each call, after one untimed
warm-up round, with the garbage collector on; the collections during timing are counted), for
three sets:

- dataset prompts of <= 2,000 characters
- prompts padded to 20,000 characters
- prompts padded to 1 MB

The padding is realistic material: logs, documents and code, with the ask at the start or
at the end. On a shared machine single calls are disturbed by other processes. So two sets
of figures are printed:

- the raw percentiles over all calls
- percentiles over each prompt's best-of-N time, which is less sensitive to noise

The load average at the start and at the end is printed as well.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT / "benchmarks" / "datasets"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DATASETS))

import materials as mat  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from thinkbudget_litellm.classify import classify, classify_rules  # noqa: E402
from thinkbudget_litellm.tiers import TIER_ORDER  # noqa: E402

TIERS = [t.value for t in TIER_ORDER]
LITELLM_TO_OURS = {"SIMPLE": "simple", "MEDIUM": "moderate", "COMPLEX": "complex", "REASONING": "deep"}
TARGETS = {"exact": 0.85, "under": 0.03, "p99_2k_us": 50.0, "p99_1mb_ms": 5.0}

Prompt = str | list[dict[str, Any]]
Classifier = Callable[[Prompt], str]


# --------------------------------------------------------------------------------------------- data
def load_split(name: str) -> list[dict[str, Any]]:
    with (DATASETS / f"{name}.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def length_band(row: dict[str, Any]) -> str:
    n = prompt_chars(prompt_of(row))
    for edge, label in ((200, "< 200 chars"), (2_000, "200-2k chars"), (12_000, "2k-12k chars")):
        if n < edge:
            return label
    return ">= 12k chars"


def is_multi_turn(row: dict[str, Any]) -> bool:
    return sum(m.get("role") in ("user", "assistant") for m in row.get("messages") or []) > 1


GROUPINGS: dict[str, Callable[[dict[str, Any]], str]] = {
    "language": lambda r: r.get("lang", "en"),
    "length": length_band,
    "task": lambda r: r["task"],
    "multi-turn": lambda r: "multi-turn" if is_multi_turn(r) else "single turn",
}


def prompt_of(row: dict[str, Any]) -> Prompt:
    return row["messages"] if "messages" in row else row["text"]


def prompt_chars(p: Prompt) -> int:
    if isinstance(p, str):
        return len(p)
    total = 0
    for m in p:
        c = m.get("content")
        if isinstance(c, str):
            total += len(c)
        elif isinstance(c, list):
            total += sum(len(part.get("text", "")) for part in c if isinstance(part, dict))
    return total


# ---------------------------------------------------------------------------------------- classifiers
def ours(p: Prompt) -> str:
    return classify(p).tier.value


def make_litellm(classifier_type: str = "heuristic") -> tuple[Classifier, str]:
    """LiteLLM's ComplexityRouter (``heuristic`` or ``heuristic_v2``), built without a Router and
    fed exactly what the router extracts from messages."""
    import litellm
    from litellm.router_strategy.complexity_router.complexity_router import (
        ComplexityRouter,
        _extract_current_ask_and_system_prompt,
    )

    router = ComplexityRouter(
        model_name="bench", litellm_router_instance=None, complexity_router_config={"classifier_type": classifier_type}
    )

    def run(p: Prompt) -> str:
        messages = [{"role": "user", "content": p}] if isinstance(p, str) else p
        ask, system = _extract_current_ask_and_system_prompt(messages)
        if ask is None:
            return LITELLM_TO_OURS["MEDIUM"]  # the router's own fallback tier when there is no ask
        tier = router._classify_locally(ask, system).tier
        return LITELLM_TO_OURS[str(getattr(tier, "value", tier))]

    try:
        version = importlib.metadata.version("litellm")
    except importlib.metadata.PackageNotFoundError:
        version = getattr(litellm, "__version__", "?")
    return run, version


# ------------------------------------------------------------------------------------------- accuracy
def score(rows: Sequence[dict[str, Any]], clf: Classifier) -> dict[str, Any]:
    n = len(rows)
    exact = within = under = 0
    confusion = [[0] * len(TIERS) for _ in TIERS]
    for row in rows:
        gold = TIERS.index(row["tier"])
        pred = TIERS.index(clf(prompt_of(row)))
        exact += pred == gold
        within += abs(pred - gold) <= 1
        under += pred < gold
        confusion[gold][pred] += 1
    return {
        "n": n,
        "exact": exact / n,
        "within_one": within / n,
        "under_budget": under / n,
        "confusion": confusion,
    }


def task_accuracy(rows: Sequence[dict[str, Any]]) -> float:
    return sum(classify(prompt_of(r)).task.value == r["task"] for r in rows) / len(rows)


# -------------------------------------------------------------------------------------------- latency
def padded_prompts(size: int) -> list[tuple[str, Prompt]]:
    """Realistic long prompts of about ``size`` characters, each with its ask."""
    log = mat.app_log(size // 60 + 10, seed=101)[: size - 200]
    access = mat.access_log(size // 150 + 10, seed=102)[: size - 200]
    doc = mat.long_document(size // 400 + 4, seed=103)[: size - 200]
    code_unit = mat.PY_MODULE + "\n\n"
    code = (code_unit * (size // len(code_unit) + 1))[: size - 300]
    conversation_pad = mat.long_document(size // 800 + 4, seed=104)[: size // 2]
    return [
        ("log + thanks", log + "\n\nthanks!"),
        ("log + root cause", "Here are the logs from the outage:\n\n" + log + "\n\nWhat is the root cause?"),
        ("access log + lookup", access + "\n\nWhat's the timestamp on the first line?"),
        ("summarise document", "Summarise this report in five bullet points:\n\n" + doc),
        ("code + find the bug", "Find the bug in this module:\n```python\n" + code + "\n```"),
        ("code + what language", "```\n" + code + "\n```\nwhat language is this?"),
        (
            "conversation + follow-up",
            [
                {"role": "system", "content": "You are a careful analyst."},
                {"role": "user", "content": "Summarise this:\n\n" + conversation_pad},
                {"role": "assistant", "content": conversation_pad[: size // 2 - 100]},
                {"role": "user", "content": "and what are the main risks?"},
            ],
        ),
    ]


def time_calls(fn: Classifier, prompts: Sequence[Prompt], rounds: int) -> tuple[list[float], list[float]]:
    """All single-call times (us) and each prompt's best time (us), prompts interleaved per round."""
    per_prompt: list[list[float]] = [[] for _ in prompts]
    for _ in range(rounds):
        for i, p in enumerate(prompts):
            t0 = time.perf_counter_ns()
            fn(p)
            per_prompt[i].append((time.perf_counter_ns() - t0) / 1000)
    all_calls = [t for ts in per_prompt for t in ts]
    return all_calls, [min(ts) for ts in per_prompt]


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[idx]


def latency(fn: Classifier, prompts: Sequence[Prompt], rounds: int) -> dict[str, float]:
    """Percentiles in steady state: one untimed round first, the garbage collector left on.

    The untimed round is a warm-up of the interpreter (adaptive bytecode, CPU caches), as a
    long-running proxy is: the classifier keeps no per-input cache, so no later call is
    answered from it. Collections that run during the timed rounds are counted and reported.
    """
    for p in prompts:  # warm-up round, untimed
        fn(p)
    gc.collect()
    collections = [0]

    def count(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            collections[0] += 1

    gc.callbacks.append(count)
    try:
        calls, best = time_calls(fn, prompts, rounds)
    finally:
        gc.callbacks.remove(count)
    return {
        "prompts": len(prompts),
        "calls": len(calls),
        "gc_collections": collections[0],
        "p50_us": pct(calls, 0.5),
        "p99_us": pct(calls, 0.99),
        "max_us": max(calls),
        "best_of_n_p50_us": pct(best, 0.5),
        "best_of_n_p99_us": pct(best, 0.99),
    }


# ------------------------------------------------------------------------------------------- printing
def fmt_pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def fmt_time(us: float) -> str:
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.1f} us"


def print_accuracy(console: Console, title: str, results: dict[str, Any], who: Sequence[str]) -> None:
    table = Table(title=title)
    table.add_column("")
    table.add_column("n", justify="right")
    for w in who:
        table.add_column(f"{w} exact", justify="right")
        table.add_column(f"{w} within-1", justify="right")
        table.add_column(f"{w} under", justify="right")
    table.add_column("ours task", justify="right")
    for name, r in results.items():
        row = [name, str(r["n"])]
        for w in who:
            row += [fmt_pct(r[w]["exact"]), fmt_pct(r[w]["within_one"]), fmt_pct(r[w]["under_budget"])]
        row.append(fmt_pct(r["ours_task_accuracy"]))
        table.add_row(*row)
    console.print(table)


def evaluate(rows: Sequence[dict[str, Any]], classifiers: dict[str, Classifier]) -> dict[str, Any]:
    out: dict[str, Any] = {name: score(rows, clf) for name, clf in classifiers.items()}
    out["n"] = len(rows)
    out["ours_task_accuracy"] = task_accuracy(rows)
    return out


def print_confusion(console: Console, title: str, confusion: list[list[int]]) -> None:
    table = Table(title=title)
    table.add_column("label \\ predicted")
    for t in TIERS:
        table.add_column(t, justify="right")
    for gold, row in zip(TIERS, confusion, strict=True):
        table.add_row(gold, *[f"[bold]{v}[/bold]" if i == TIERS.index(gold) else str(v) for i, v in enumerate(row)])
    console.print(table)


def print_latency(console: Console, lat: dict[str, dict[str, dict[str, float]]]) -> None:
    table = Table(title="Latency per call (raw over all calls; best-of-N per prompt in brackets)")
    table.add_column("prompt set")
    table.add_column("prompts x rounds", justify="right")
    table.add_column("ours gc runs", justify="right")
    for who in ("ours", "LiteLLM"):
        table.add_column(f"{who} p50", justify="right")
        table.add_column(f"{who} p99", justify="right")
    for name, by in lat.items():
        o, lt = by["ours"], by["litellm"]
        table.add_row(
            name,
            f"{int(o['prompts'])} x {int(o['calls'] // o['prompts'])}",
            str(int(o["gc_collections"])),
            f"{fmt_time(o['p50_us'])} ({fmt_time(o['best_of_n_p50_us'])})",
            f"{fmt_time(o['p99_us'])} ({fmt_time(o['best_of_n_p99_us'])})",
            f"{fmt_time(lt['p50_us'])} ({fmt_time(lt['best_of_n_p50_us'])})",
            f"{fmt_time(lt['p99_us'])} ({fmt_time(lt['best_of_n_p99_us'])})",
        )
    console.print(table)


def print_long_prompt_tiers(console: Console, sets: dict[str, list[tuple[str, Prompt]]]) -> None:
    table = Table(title="Tiers given to the padded long prompts (ours)")
    table.add_column("prompt")
    for name in sets:
        table.add_column(name)
    labels = [label for label, _ in next(iter(sets.values()))]
    for i, label in enumerate(labels):
        table.add_row(label, *[ours(prompts[i][1]) for prompts in sets.values()])
    console.print(table)


# ------------------------------------------------------------------------------------------------ main
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--quick", action="store_true", help="fewer latency rounds (for a smoke run)")
    args = parser.parse_args(argv)
    console = Console(width=220)  # wide tables stay readable in a log file

    dev, test = load_split("dev"), load_split("test")
    v2_train, frozen = load_split("v2/train"), load_split("v2/test")
    heuristic, litellm_version = make_litellm("heuristic")
    heuristic_v2, _ = make_litellm("heuristic_v2")
    classifiers = {
        "ours": ours,
        "ours, rules only": lambda p: classify_rules(p).tier.value,
        "LiteLLM heuristic": heuristic,
        "LiteLLM heuristic_v2": heuristic_v2,
    }
    who = list(classifiers)
    splits = {
        "v2 test (frozen, never tuned on)": frozen,
        "v1 test (rules were tuned near it)": test,
        "training data (v2 train + v1 dev)": v2_train + dev,
    }
    results = {name: evaluate(rows, classifiers) for name, rows in splits.items()}
    print_accuracy(
        console,
        "Tier accuracy (LiteLLM mapped SIMPLE->simple, MEDIUM->moderate, COMPLEX->complex, REASONING->deep)",
        results,
        who,
    )
    groups: dict[str, dict[str, Any]] = {}
    for grouping, key in GROUPINGS.items():
        buckets: dict[str, list[dict[str, Any]]] = {}
        for row in frozen:
            buckets.setdefault(key(row), []).append(row)
        groups[grouping] = {g: evaluate(rows, classifiers) for g, rows in sorted(buckets.items())}
        print_accuracy(console, f"Frozen v2 test split by {grouping}", groups[grouping], who)
    print_confusion(console, "Ours, frozen v2 test: confusion matrix", results[next(iter(splits))]["ours"]["confusion"])

    load_before = os.getloadavg()
    rounds_small, rounds_20k, rounds_1mb = (5, 5, 2) if args.quick else (30, 30, 8)
    small = [p for p in map(prompt_of, dev + test + v2_train + frozen) if prompt_chars(p) <= 2000]
    long_sets = {"20,000 chars": padded_prompts(20_000), "1 MB": padded_prompts(1_000_000)}
    lat: dict[str, dict[str, dict[str, float]]] = {
        "<= 2,000 chars": {
            "ours": latency(ours, small, rounds_small),
            "litellm": latency(heuristic, small, max(3, rounds_small // 3)),
        },
    }
    for label, prompts_l in long_sets.items():
        ps = [p for _, p in prompts_l]
        rounds = rounds_20k if label.startswith("20") else rounds_1mb
        lat[label] = {
            "ours": latency(ours, ps, rounds),
            "litellm": latency(heuristic, ps, max(2, rounds // 4)),
        }
    print_latency(console, lat)
    print_long_prompt_tiers(console, long_sets)

    o_test = results[next(iter(splits))]["ours"]
    verdicts = {
        "exact >= 85% (frozen v2 test)": o_test["exact"] >= TARGETS["exact"],
        "under-budget <= 3% (frozen v2 test)": o_test["under_budget"] <= TARGETS["under"],
        "p99 <= 50 us (<= 2k chars, raw)": lat["<= 2,000 chars"]["ours"]["p99_us"] <= TARGETS["p99_2k_us"],
        "p99 <= 50 us (<= 2k chars, best-of-N)": lat["<= 2,000 chars"]["ours"]["best_of_n_p99_us"]
        <= TARGETS["p99_2k_us"],
        "p99 <= 5 ms (1 MB, raw)": lat["1 MB"]["ours"]["p99_us"] <= TARGETS["p99_1mb_ms"] * 1000,
    }
    env = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": load_before,
        "loadavg_at_end": os.getloadavg(),
        "litellm": litellm_version,
        "dataset": {"v1 dev": len(dev), "v1 test": len(test), "v2 train": len(v2_train), "v2 test": len(frozen)},
    }
    console.print(f"environment: {env}")
    for what, ok in verdicts.items():
        console.print(f"  {'[green]met[/green]' if ok else '[red]missed[/red]'}  {what}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "environment": env,
            "accuracy": results,
            "frozen_by_group": groups,
            "latency": lat,
            "targets": TARGETS,
            "verdicts": verdicts,
            "litellm_mapping": LITELLM_TO_OURS,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        console.print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Turn the savings benchmark's raw results (and the other benchmarks' JSON, when present) into
``benchmarks/results/report.md``, PNG plots and ``savings_summary.json``.

    PYTHONPATH=. python benchmarks/compare.py [--raw benchmarks/results/savings_raw.json]
        [--results-dir benchmarks/results]

The report is rendered by the pure :func:`render_report` from plain data; plotting is the shell.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.workloads.natural_lengths import table_rows  # noqa: E402
from benchmarks.workloads.results import BASELINE, RequestResult  # noqa: E402
from benchmarks.workloads.savings import ALL, GroupStats, compare_runs, steady_rates  # noqa: E402
from thinkbudget_litellm.tiers import DEFAULT_BUDGETS, TIER_ORDER  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
PLOTS = {
    "thinking": "thinking_per_tier.png",
    "energy_cost": "energy_cost_per_request.png",
    "latency": "latency.png",
    "cut": "cut_fraction.png",
}

# ---------------------------------------------------------------------------- formatting (pure)


def fmt_pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def fmt_num(x: float | None, digits: int = 0) -> str:
    return "n/a" if x is None else f"{x:,.{digits}f}"


def fmt_s(ms: float | None) -> str:
    return "n/a" if ms is None else f"{ms / 1000:.2f} s"


def fmt_usd_per_k(x: float | None) -> str:
    """USD per request shown per 1,000 requests."""
    return "n/a" if x is None else f"${1000 * x:.3f}"


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- comparisons (pure)


def load_rows(raw: Mapping[str, Any]) -> list[RequestResult]:
    return [RequestResult.from_dict(r) for r in raw.get("requests", [])]


def comparisons(
    rows: Sequence[RequestResult], runs: Sequence[Mapping[str, Any]] = ()
) -> dict[str, dict[str, list[GroupStats]]]:
    """workload -> mode -> per-tier stats against that workload's baseline run; steady-state
    rates come from the baseline run's counter delta and bill (``runs``)."""
    out: dict[str, dict[str, list[GroupStats]]] = {}
    for workload in dict.fromkeys(r.workload for r in rows):
        mine = [r for r in rows if r.workload == workload]
        base = [r for r in mine if r.run == BASELINE]
        info = next((i for i in runs if i.get("workload") == workload and i.get("run") == BASELINE), {})
        rates = steady_rates(base, info.get("counter_j"), info.get("bill_usd"))
        for mode in dict.fromkeys(r.run for r in mine if r.run != BASELINE):
            out.setdefault(workload, {})[mode] = compare_runs(base, [r for r in mine if r.run == mode], rates)
    return out


def raw_comparisons(raw: Mapping[str, Any]) -> dict[str, dict[str, list[GroupStats]]]:
    return comparisons(load_rows(raw), raw.get("runs", []))


def overall(stats: Sequence[GroupStats]) -> GroupStats | None:
    return next((s for s in stats if s.group == ALL), None)


def summary(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON summary: per workload and mode, every tier's stats."""
    comps = raw_comparisons(raw)
    return {
        "meta": raw.get("meta", {}),
        "runs": raw.get("runs", []),
        "comparisons": {w: {m: [s.as_dict() for s in st] for m, st in ms.items()} for w, ms in comps.items()},
    }


# ---------------------------------------------------------------------------- report (pure)


def token_energy(run: Mapping[str, Any], idle_watts: float | None) -> float | None:
    """The run's counter delta less the simulated GPU's idle power over its wall time: the energy of
    the tokens the backend actually generated (including any the client never saw)."""
    counter, wall = run.get("counter_j"), run.get("wall_s")
    if counter is None or wall is None or idle_watts is None:
        return None
    return float(counter) - idle_watts * float(wall)


def run_token_energy_saved(
    runs: Sequence[Mapping[str, Any]], workload: str, mode: str, idle_watts: float | None
) -> float | None:
    def find(run: str) -> Mapping[str, Any]:
        return next((r for r in runs if r.get("workload") == workload and r.get("run") == run), {})

    base, ext = token_energy(find(BASELINE), idle_watts), token_energy(find(mode), idle_watts)
    return None if base is None or ext is None or base <= 0 else 1.0 - ext / base


def _headline(
    comps: Mapping[str, Mapping[str, Sequence[GroupStats]]],
    runs: Sequence[Mapping[str, Any]] = (),
    idle_watts: float | None = None,
) -> str:
    rows = []
    for workload, modes in comps.items():
        for mode, stats in modes.items():
            s = overall(stats)
            if s is None:
                continue
            rows.append(
                [
                    workload,
                    mode,
                    str(s.n),
                    f"{fmt_num(s.think_base)} → {fmt_num(s.think_ext)}",
                    fmt_pct(s.think_saved),
                    fmt_pct(s.output_saved),
                    fmt_pct(s.energy_saved),
                    fmt_pct(run_token_energy_saved(runs, workload, mode, idle_watts)),
                    fmt_pct(s.cost_saved),
                    fmt_pct(s.cut_frac),
                    f"{fmt_s(s.ttfa_p50_base)} → {fmt_s(s.ttfa_p50_ext)}",
                    f"{fmt_s(s.latency_p50_base)} → {fmt_s(s.latency_p50_ext)}",
                ]
            )
    header = [
        "workload", "mode", "requests", "thinking tokens/request", "thinking saved", "output saved",
        "energy saved", "token energy saved (counters)", "cost saved", "cut", "p50 time to answer",
        "p50 total latency",
    ]  # fmt: skip
    return md_table(header, rows)


def saved_share_by_tier(stats: Sequence[GroupStats]) -> dict[str, float]:
    """Each tier's share of all thinking tokens saved (empty when nothing was saved)."""
    saved = {s.group: (s.think_base - s.think_ext) * s.n for s in stats if s.group != ALL}
    total = sum(saved.values())
    return {} if total <= 0 else {g: v / total for g, v in saved.items()}


def reading_notes(comps: Mapping[str, Mapping[str, Sequence[GroupStats]]]) -> list[str]:
    """Plain-language observations computed from the comparisons (no fixed claims)."""
    notes = []
    for workload, modes in comps.items():
        for mode, stats in modes.items():
            shares = saved_share_by_tier(stats)
            if shares:
                top = sorted(shares.items(), key=lambda kv: -kv[1])
                notes.append(
                    f"`{workload}`/`{mode}`: the thinking tokens saved come from "
                    + ", ".join(f"{g} {100 * v:.0f}%" for g, v in top if v >= 0.005)
                    + "."
                )
            low = [s.group for s in stats if s.group != ALL and (s.think_saved or 0.0) < 0.10]
            if low:
                notes.append(
                    f"`{workload}`/`{mode}`: little or nothing is saved on {', '.join(low)}: their natural "
                    "thinking mostly fits within their budget."
                )
        native, stream = overall(modes.get("native", [])), overall(modes.get("stream", []))
        if native and stream and native.cost_saved is not None and stream.cost_saved is not None:
            notes.append(
                f"`{workload}`: stream enforcement saves {fmt_pct(stream.cost_saved)} of the cost against "
                f"{fmt_pct(native.cost_saved)} for native: the continuation sends the prompt and the partial "
                "thinking again (prefilled again unless the engine caches prefixes), the client also sees the "
                "transition sentence, and the engine may generate a few tokens after the cut before it notices."
            )
    under = [
        (w, m, s.under_budget_frac)
        for w, ms in comps.items()
        for m, st in ms.items()
        if (s := overall(st)) is not None and s.under_budget_frac is not None
    ]
    if under:
        notes.append(
            "Requests the classifier put below their label (smaller budget than the rubric asks): "
            + ", ".join(f"{w}/{m} {fmt_pct(u)}" for w, m, u in under)
            + ". Those are where answer quality is at risk."
        )
    return notes


def _tier_table(stats: Sequence[GroupStats]) -> str:
    rows = [
        [
            s.group,
            str(s.n),
            fmt_num(s.think_base),
            fmt_num(s.think_ext),
            fmt_pct(s.think_saved),
            fmt_pct(s.cut_frac),
            fmt_pct(s.under_budget_frac),
            f"{fmt_num(s.energy_base)} → {fmt_num(s.energy_ext)}",
            f"{fmt_usd_per_k(s.cost_base)} → {fmt_usd_per_k(s.cost_ext)}",
            f"{fmt_num(s.metered_energy_base)} → {fmt_num(s.metered_energy_ext)}",
            f"{fmt_usd_per_k(s.metered_cost_base)} → {fmt_usd_per_k(s.metered_cost_ext)}",
            f"{fmt_s(s.ttft_p50_base)} → {fmt_s(s.ttft_p50_ext)}",
            f"{fmt_s(s.ttfa_p50_base)} → {fmt_s(s.ttfa_p50_ext)}",
            f"{fmt_s(s.latency_p50_base)} → {fmt_s(s.latency_p50_ext)}",
            f"{fmt_s(s.latency_p95_base)} → {fmt_s(s.latency_p95_ext)}",
        ]
        for s in stats
    ]
    header = [
        "label tier", "n", "thinking base", "thinking budgeted", "saved", "cut", "under-budgeted",
        "energy J/req", "cost per 1k req", "metered J/req", "metered cost per 1k", "p50 TTFT",
        "p50 time to answer", "p50 latency", "p95 latency",
    ]  # fmt: skip
    return md_table(header, rows)


def _runs_table(runs: Sequence[Mapping[str, Any]], idle_watts: float | None) -> str:
    rows = []
    for r in runs:
        wall = r.get("wall_s") or 0.0
        rows.append(
            [
                r["workload"],
                r["run"],
                r["deployment"],
                f"{wall:.1f} s",
                fmt_num(r.get("tokens")),
                fmt_num((r.get("tokens") or 0) / wall if wall else None),
                fmt_num(r.get("counter_j")),
                fmt_num(token_energy(r, idle_watts)),
                fmt_num(r.get("records_energy_j")),
                fmt_usd_per_k(r.get("bill_usd")),
                fmt_usd_per_k(r.get("records_cost_usd")),
                str(r.get("failures", 0)),
            ]
        )
    header = [
        "workload", "run", "deployment", "wall", "tokens received", "tokens/s", "counter delta J",
        "token energy J", "Σ records J", "GPU bill ×1000", "Σ records $ ×1000", "failed",
    ]  # fmt: skip
    return md_table(header, rows)


def _quality(rows: Sequence[RequestResult], simulated: bool) -> str:
    scored = [r for r in rows if r.answer_correct is not None]
    if simulated or not scored:
        why = (
            "The simulated backend generates filler text, not answers, so answer quality cannot be "
            "measured here: **no quality figure is claimed.**"
            if simulated
            else "No dataset item carries an `answer` field, so answer quality was not scored."
        )
        return (
            why + " With a real backend (`--backend-url`) and items that carry an `answer`, the "
            "benchmark scores each final answer (case, commas and spacing ignored) and this section "
            "shows the fraction correct per run. Published results say hard truncation costs accuracy "
            "(s1, L1; 'Do LLMs overthink basic math' reports a ~28% accuracy collapse when tokens are "
            "constrained), which is why the under-budgeted column above matters."
        )
    table = []
    for run in dict.fromkeys(r.run for r in scored):
        mine = [r for r in scored if r.run == run]
        table.append([run, str(len(mine)), fmt_pct(sum(bool(r.answer_correct) for r in mine) / len(mine))])
    return md_table(["run", "items with a known answer", "correct"], table)


def _assumptions(meta: Mapping[str, Any]) -> str:
    sim = meta.get("sim") or {}
    lines = []
    if meta.get("simulated"):
        lines += [
            f"- Backend: `thinkbudget-litellm sim-backend`, a SIMULATED vLLM serving `{sim.get('model')}` "
            f"(style `{sim.get('style')}`): it runs no model; it streams filler tokens at a set pace.",
            f"- Decode speed: {fmt_num(sim.get('tokens_per_second_per_stream'))} tokens/s per stream "
            "(single-stream decode of a 7-8B distill on an H100 is of this order).",
            f"- Energy: {sim.get('joules_per_token')} J per generated token, prompt tokens weighted "
            f"{sim.get('prefill_weight')}, plus {fmt_num(sim.get('idle_watts'))} W idle per GPU "
            "(between ML.ENERGY v3's 0.12 J/token at batch 64 and ~2.6 J/token at batch 1; idle of the "
            "order of an idle H100). The simulator exposes it as a DCGM-style energy counter.",
        ]
    lines += [
        f"- GPU price: ${meta.get('gpu_cost_per_hour')}/GPU-hour (an H100 rental price); cost = the "
        "request's share of GPU-seconds at that price (thinkbudget's own cost model).",
        f"- Concurrency: {meta.get('concurrency')} streams at a time; every request streams.",
        "- Budgets (thinking tokens): "
        + ", ".join(f"{t.value} {n}" for t, n in DEFAULT_BUDGETS.items())
        + " (the defaults).",
        f"- Classifier loaded by the proxy: {meta.get('classifier', 'unknown')}",
        f"- Token counts: {meta.get('token_counter')} at the client, identical method in both runs.",
    ]
    return "\n".join(lines)


def _lengths_table() -> str:
    rows = [
        [tier, fmt_num(median), f"{sigma}", fmt_num(mean), fmt_num(answer), fmt_num(DEFAULT_BUDGETS[t])]
        for (tier, median, sigma, mean, answer), t in zip(table_rows(), TIER_ORDER, strict=True)
    ]
    return md_table(["label tier", "thinking median", "sigma", "thinking mean", "answer median", "budget"], rows)


def _other_benchmarks(extras: Mapping[str, Any]) -> str:
    parts = []
    stream = extras.get("stream_bench")
    if stream:
        hook = stream.get("hook", {})
        thr = stream.get("throughput", {})
        parts.append(
            "### Streaming overhead (`benchmarks/stream_bench.py`)\n\n"
            f"- Per-chunk cost of our streaming hook (StreamEnforcer, in-process, synthetic chunks): "
            f"{fmt_num(hook.get('enforcer_us_per_chunk'), 1)} µs per chunk over a plain pass-through "
            f"({fmt_num(hook.get('passthrough_us_per_chunk'), 1)} µs); ThinkingStream.feed alone "
            f"{fmt_num(hook.get('feed_us_per_chunk'), 1)} µs.\n"
            f"- Proxy throughput, unpaced simulator, {thr.get('streams')} concurrent streams of "
            f"{fmt_num(thr.get('tokens_per_stream'))} tokens, {thr.get('rounds')} interleaved A/B rounds: "
            f"plain LiteLLM {fmt_num(thr.get('plain_tokens_per_s'))} tokens/s, with thinkbudget (stream "
            f"enforcement, meter and records on, nothing cut) {fmt_num(thr.get('ext_tokens_per_s'))} tokens/s; "
            f"**median per-round ratio {fmt_num(thr.get('ratio'), 3)}** (pooled "
            f"{fmt_num(thr.get('ratio_pooled'), 3)}; per round "
            + ", ".join(f"{x:.3f}" for x in thr.get("ratio_per_round", []))
            + "; target ≥ 0.95).\n"
            f"- Proxy process CPU per streamed chunk over those rounds: plain LiteLLM "
            f"{fmt_num(thr.get('proxy_cpu_us_per_chunk_plain'))} µs, with thinkbudget "
            f"{fmt_num(thr.get('proxy_cpu_us_per_chunk_ext'))} µs. LiteLLM's own per-chunk work dwarfs "
            "our hook's; round-to-round swings in throughput come from the shared 2-core machine."
        )
    cls = extras.get("classifier")
    if cls:
        parts.append("### Classifier (`benchmarks/classifier_bench.py`)\n\n" + classifier_lines(cls))
    writer = extras.get("writer")
    if writer:
        parts.append("### Record writer (`benchmarks/writer_bench.py`)\n\n```\n" + writer.strip() + "\n```")
    return "\n\n".join(parts) if parts else "(not run)"


def classifier_lines(cls: Mapping[str, Any]) -> str:
    """Accuracy and latency tables from classifier_bench's JSON (whatever parts of it are there)."""
    parts = []
    acc = cls.get("accuracy")
    if isinstance(acc, Mapping):
        rows = [
            [split, who, fmt_num(r.get("n")), fmt_pct(r.get("exact")), fmt_pct(r.get("within_one")),
             fmt_pct(r.get("under_budget"))]
            for split, by in acc.items() if isinstance(by, Mapping)
            for who, r in by.items() if isinstance(r, Mapping)
        ]  # fmt: skip
        parts.append(md_table(["split", "classifier", "n", "exact tier", "within one", "under-budget"], rows))
    lat = cls.get("latency")
    if isinstance(lat, Mapping):
        rows = [
            [prompts, who, fmt_num(r.get("p50_us"), 1), fmt_num(r.get("p99_us"), 1)]
            for prompts, by in lat.items() if isinstance(by, Mapping)
            for who, r in by.items() if isinstance(r, Mapping)
        ]  # fmt: skip
        parts.append(md_table(["prompts", "classifier", "p50 µs", "p99 µs"], rows))
    if not parts:
        return "(no accuracy or latency figures found in its JSON)"
    return "\n\n".join(parts) + (
        "\n\n`litellm` is LiteLLM's rule-based complexity router mapped onto our tiers; `under-budget`: "
        "predicted tier below the label. Latency is wall time per call on this shared machine."
    )


def render_report(raw: Mapping[str, Any], extras: Mapping[str, Any] | None = None, plots: bool = True) -> str:
    extras = extras or {}
    meta = raw.get("meta", {})
    rows = load_rows(raw)
    comps = raw_comparisons(raw)
    simulated = bool(meta.get("simulated"))
    idle = (meta.get("sim") or {}).get("idle_watts") if simulated else None
    runs = raw.get("runs", [])
    out = ["# thinkbudget benchmarks: what budgets save, and what they cost", ""]
    if simulated:
        out += [
            "> **Simulated backend.** Every figure below comes from the real LiteLLM proxy (1.106.2) with "
            "and without thinkbudget, in front of a SIMULATED reasoning backend. Token counts, budgets, "
            "cuts, classification and the proxy's behaviour are real; GPU energy, GPU time, cost and "
            "latency are SIMULATED from the assumptions listed below. Natural thinking lengths are chosen "
            "per ground-truth tier from published figures (table below), not measured on a model.",
            "",
        ]
    if "placeholder" in str(meta.get("classifier", "")).lower():
        out += [
            "> **Placeholder classifier.** This run used a crude placeholder instead of the real "
            "classifier, so tiers (and therefore budgets) are mostly wrong. Rerun after the classifier "
            "lands.",
            "",
        ]
    wl = meta.get("workloads", {})
    out += [
        f"Generated by `benchmarks/run_all.py` ({meta.get('machine', '?')}); savings run took "
        f"{meta.get('runtime_s', '?')} s. Dataset: {', '.join(meta.get('dataset', []))} "
        f"({meta.get('items')} items; {meta.get('excluded_non_text')} with images left out, the simulated "
        "model is text-only). Workloads: "
        + "; ".join(f"`{w}` {v['requests']} requests, modes {', '.join(v['modes'])}" for w, v in wl.items())
        + ".",
        "",
        "Savings are always against the **measured** baseline: the same requests, with the same natural "
        "lengths, streamed through plain LiteLLM (no thinkbudget callback). `native`: the backend caps "
        "thinking itself (vLLM `thinking_token_budget`); `stream`: the backend has no cap, the proxy "
        "cuts the stream at the budget, closes the upstream and asks for the answer.",
        "",
        "## Headline",
        "",
        _headline(comps, runs, idle),
        "",
        *[f"- {note}" for note in reading_notes(comps)],
        "",
        "`thinking saved` and `output saved` (thinking + answer) are token sums over all requests. "
        "`energy saved` and `cost saved` are steady-state figures: every request is charged its tokens "
        "(generated + 0.1 × prompt) at the energy and GPU-time price per token measured over the whole "
        "baseline run (the ML.ENERGY method), the same rates in both runs. `token energy saved "
        "(counters)` checks that from the simulated GPU's own counter: each run's counter delta less idle "
        "power × wall time, i.e. the energy of every token the backend generated, including tokens the "
        "client never saw (generated after a cut) and the continuation's prompt. Time to answer is the "
        "time to the first answer token.",
        "",
        "## Setup and simulator assumptions",
        "",
        _assumptions(meta),
        "",
        "### Natural thinking lengths (per ground-truth tier, lognormal, deterministic per item)",
        "",
        _lengths_table(),
        "",
        'Anchors: thinking models "overthink for hundreds of tokens on the simplest user queries" '
        "(OptimalThinkingBench, arXiv 2508.13141) → trivial 300; reasoning models produce ~18x more "
        "tokens than needed on basic math (arXiv 2507.04023) → simple 600; ML.ENERGY Leaderboard v3: "
        "6,988 mean output tokens per problem-solving response vs 717 for chat (~10x) → deep mean "
        "~6,800 (median 6,000, sigma 0.5), and simple→deep is the same 10x; moderate and complex sit on "
        "the geometric line between. Thinking is clipped to [32, 12000] (bounds the runtime; clips the "
        "top ~8% of deep items). Answer lengths are assumptions (the same in both runs).",
        "",
        "### Traffic mix",
        "",
        "Shares by ground-truth tier: "
        + ", ".join(f"{t} {100 * s:.0f}%" for t, s in (meta.get("traffic_mix") or {}).items())
        + ". Production chat traffic is mostly light: in OpenAI's study of ChatGPT messages (Chatterji "
        "et al., NBER w34255, 2025, as publicly summarised) practical guidance (~29%), seeking "
        "information (~24%) and writing (~24%, two thirds of it editing the user's own text) are ~77% of "
        "messages and programming is a few percent; conversations also carry greetings, thanks and "
        "acknowledgements. A developer-facing gateway would see more complex and deep traffic.",
        "",
    ]
    for workload, modes in comps.items():
        for mode, stats in modes.items():
            out += [
                f"## `{workload}` workload, `{mode}` enforcement, per ground-truth tier",
                "",
                _tier_table(stats),
                "",
            ]
    out += [
        "`under-budgeted`: the classifier put the request in a lower tier than its label, so it got a "
        "smaller budget than the rubric asks for (the quality risk). `cut`: thinking was stopped at the "
        "budget (a stream cut, or an engine cap that the thinking reached). `energy` and `cost`: steady "
        "state (see the headline); `metered`: as thinkbudget's meter attributed them during the run, which "
        "includes a share of the GPU's idle power and wall time while the request ran (see Runs).",
        "",
        "Every request (tier, budget, thinking and answer tokens, TTFT, latency, energy, cost, cut) is in "
        "`savings_requests.csv` (and `savings_raw.json`).",
        "",
        "## Runs",
        "",
        _runs_table(runs, idle),
        "",
        "`counter delta`: the simulated GPU's DCGM energy counter over the run; `token energy`: that less "
        "idle power × wall time. `Σ records`: the sum of thinkbudget's per-request records (its meter's "
        "token-share attribution of the counter); it should match the counter delta. `GPU bill`: the run's "
        "wall time at the GPU price. The `metered` per-request columns above are the baseline's counter "
        "delta and bill split by token share, against thinkbudget's records for the budgeted run. A short "
        "benchmark's wall time ends with its longest requests running almost alone, which is why the "
        "steady-state figures are the headline.",
        "",
        "## Answer quality",
        "",
        _quality(rows, simulated),
        "",
    ]
    if plots:
        out += [
            "## Plots",
            "",
            f"![thinking tokens per tier]({PLOTS['thinking']})",
            f"![energy and cost per request]({PLOTS['energy_cost']})",
            f"![latency]({PLOTS['latency']})",
            f"![fraction cut]({PLOTS['cut']})",
            "",
        ]
    out += ["## Other benchmarks", "", _other_benchmarks(extras), ""]
    return "\n".join(out)


# ---------------------------------------------------------------------------- plots (shell)


# (title, baseline field or None, budgeted field, scale, unit) per panel, one figure per entry
PANELS: dict[str, list[tuple[str, str | None, str, float, str]]] = {
    "thinking": [("mean thinking tokens per request", "think_base", "think_ext", 1.0, "tokens")],
    "energy_cost": [
        ("energy per request (J, steady state)", "energy_base", "energy_ext", 1.0, "J"),
        ("cost per 1,000 requests (steady state)", "cost_base", "cost_ext", 1000.0, "USD"),
    ],
    "latency": [
        ("p50 time to first token", "ttft_p50_base", "ttft_p50_ext", 1e-3, "s"),
        ("p50 time to first answer token", "ttfa_p50_base", "ttfa_p50_ext", 1e-3, "s"),
        ("p50 total latency", "latency_p50_base", "latency_p50_ext", 1e-3, "s"),
    ],
    "cut": [("fraction of requests cut", None, "cut_frac", 1.0, "fraction")],
}


def bar_series(
    stats_by_mode: Mapping[str, Sequence[GroupStats]], base: str | None, ext: str, scale: float
) -> tuple[list[str], list[tuple[str, list[float]]]]:
    """(groups, [(series name, values)]): the baseline (from the first mode's stats) then each mode."""
    modes = list(stats_by_mode)
    if not modes:
        return [], []

    def values(stats: Sequence[GroupStats], name: str) -> list[float]:
        return [(getattr(s, name) or 0.0) * scale for s in stats]

    series = [("baseline", values(stats_by_mode[modes[0]], base))] if base else []
    series += [(m, values(stats_by_mode[m], ext)) for m in modes]
    return [s.group for s in stats_by_mode[modes[0]]], series


def plot_all(comps: Mapping[str, Mapping[str, Sequence[GroupStats]]], out_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    workloads = list(comps)
    for name, panels in PANELS.items():
        fig, axes = plt.subplots(
            len(workloads), len(panels), figsize=(5.5 * len(panels), 3.6 * len(workloads)), squeeze=False
        )
        for i, workload in enumerate(workloads):
            for j, (title, base, ext, scale, unit) in enumerate(panels):
                ax = axes[i][j]
                groups, series = bar_series(comps[workload], base, ext, scale)
                width = 0.8 / max(len(series), 1)
                for k, (label, values) in enumerate(series):
                    ax.bar([x + k * width for x in range(len(groups))], values, width, label=label)
                ax.set_xticks([x + width * (len(series) - 1) / 2 for x in range(len(groups))], groups)
                ax.set_title(f"{workload}: {title}", fontsize=10)
                ax.set_ylabel(unit)
                ax.legend(fontsize=8)
        fig.suptitle("SIMULATED backend: token counts real; energy, cost and latency simulated", fontsize=9)
        fig.tight_layout()
        fig.savefig(out_dir / PLOTS[name], dpi=110)
        plt.close(fig)


# ---------------------------------------------------------------------------- main


def read_extras(results_dir: Path) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    for key, name in (("stream_bench", "stream_bench.json"), ("classifier", "classifier.json")):
        path = results_dir / name
        if path.exists():
            try:
                extras[key] = json.loads(path.read_text())
            except json.JSONDecodeError:
                print(f"warning: {path} is not valid JSON; left out of the report", file=sys.stderr)
    writer = results_dir / "writer_bench.txt"
    if writer.exists():
        extras["writer"] = writer.read_text()
    return extras


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--raw", type=Path, default=RESULTS / "savings_raw.json")
    p.add_argument("--results-dir", type=Path, default=RESULTS)
    p.add_argument("--no-plots", action="store_true")
    args = p.parse_args(argv)
    try:
        raw = json.loads(args.raw.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        sys.exit(f"cannot read {args.raw}: {exc}")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    comps = raw_comparisons(raw)
    if not args.no_plots:
        plot_all(comps, args.results_dir)
    report = render_report(raw, read_extras(args.results_dir), plots=not args.no_plots)
    (args.results_dir / "report.md").write_text(report)
    (args.results_dir / "savings_summary.json").write_text(json.dumps(summary(raw), indent=1) + "\n")
    rows = load_rows(raw)
    if rows:
        with (args.results_dir / "savings_requests.csv").open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0].as_dict()))
            writer.writeheader()
            writer.writerows(r.as_dict() for r in rows)
    print(f"wrote {args.results_dir / 'report.md'}")
    for workload, modes in comps.items():
        for mode, stats in modes.items():
            s = overall(stats)
            if s is not None:
                print(
                    f"  {workload}/{mode}: thinking {s.think_base:.0f} -> {s.think_ext:.0f} per request "
                    f"(saved {fmt_pct(s.think_saved)}), cost saved {fmt_pct(s.cost_saved)}, "
                    f"energy saved {fmt_pct(s.energy_saved)}, cut {fmt_pct(s.cut_frac)}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())

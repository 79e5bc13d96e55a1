"""Proxy configurations and the rendered report."""

from __future__ import annotations

import json

from benchmarks.compare import md_table, render_report, summary, token_energy
from benchmarks.workloads.proxy_configs import HANDLER, Backend, proxy_config
from benchmarks.workloads.results import RequestResult


def backends() -> dict[str, Backend]:
    return {
        "native": Backend("native", "http://127.0.0.1:1/v1", "hosted_vllm/m", "http://127.0.0.1:1/metrics"),
        "stream": Backend("stream", "http://127.0.0.1:2/v1", "hosted_vllm/m", None),
    }


def test_baseline_config_is_plain_litellm() -> None:
    cfg = proxy_config(backends(), with_extension=False)
    assert "litellm_settings" not in cfg and "thinkbudget" not in cfg
    assert [d["model_name"] for d in cfg["model_list"]] == ["r1-native", "r1-stream"]
    assert all("thinkbudget" not in d["model_info"] for d in cfg["model_list"])


def test_extension_config_registers_the_handler_per_deployment() -> None:
    cfg = proxy_config(backends(), with_extension=True, budgets={"deep": 100})
    assert cfg["litellm_settings"]["callbacks"] == [HANDLER]
    assert cfg["thinkbudget"]["budgets"]["deep"] == 100 and cfg["thinkbudget"]["budgets"]["trivial"] == 32
    native, stream = (d["model_info"]["thinkbudget"] for d in cfg["model_list"])
    assert native["enforcement"] == "native" and native["energy"]["source"] == "dcgm"
    assert stream["enforcement"] == "stream" and stream["energy"] == {"source": "none"}


def raw() -> dict:
    rows = []
    for rid, label, think in (("a", "trivial", 400), ("b", "deep", 6000)):
        rows.append(RequestResult("mix", "baseline", rid, rid, label, "chat", thinking_tokens=think,
                                  answer_tokens=20, latency_ms=1000.0).as_dict())  # fmt: skip
        rows.append(RequestResult("mix", "stream", rid, rid, label, "chat", thinking_tokens=min(think, 32),
                                  answer_tokens=20, tier="trivial", cut=think > 32, latency_ms=100.0,
                                  energy_j=1.0, cost_usd=1e-6).as_dict())  # fmt: skip
    runs = [
        {"workload": "mix", "run": "baseline", "deployment": "r1-stream", "wall_s": 10.0, "counter_j": 1700.0,
         "bill_usd": 0.01, "tokens": 6440, "failures": 0},
        {"workload": "mix", "run": "stream", "deployment": "r1-stream", "wall_s": 1.0, "counter_j": 90.0,
         "bill_usd": 0.001, "tokens": 104, "failures": 0, "records_energy_j": 2.0},
    ]  # fmt: skip
    meta = {
        "simulated": True,
        "sim": {"idle_watts": 70.0, "model": "m"},
        "classifier": "TEMP placeholder",
        "workloads": {"mix": {"requests": 2, "modes": ["stream"]}},
        "traffic_mix": {"trivial": 1.0},
    }
    return {"meta": meta, "runs": runs, "requests": rows}


def test_report_states_simulation_placeholder_and_measured_savings() -> None:
    text = render_report(raw(), {"stream_bench": {"throughput": {"ratio": 0.97}}}, plots=False)
    assert "Simulated backend" in text and "Placeholder classifier" in text
    assert "no quality figure is claimed" in text
    # thinking 6400 -> 64 (99.0%); token energy 1000 -> 20 (98.0%); everything cut except nothing
    assert "| mix | stream | 2 | 3,200 → 32 | 99.0% |" in text
    assert "98.0%" in text and "ratio 0.970" in text
    assert "![" not in text


def test_token_energy_removes_idle_power() -> None:
    assert token_energy({"counter_j": 1700.0, "wall_s": 10.0}, 70.0) == 1000.0
    assert token_energy({"counter_j": None, "wall_s": 10.0}, 70.0) is None


def test_summary_is_json_and_md_table_shape() -> None:
    data = json.loads(json.dumps(summary(raw())))
    assert data["comparisons"]["mix"]["stream"][-1]["group"] == "all"
    assert md_table(["a", "b"], [["1", "2"]]).splitlines() == ["| a | b |", "|---|---|", "| 1 | 2 |"]


def test_reading_notes_attribute_savings_to_tiers() -> None:
    from benchmarks.compare import raw_comparisons, reading_notes, saved_share_by_tier

    comps = raw_comparisons(raw())
    shares = saved_share_by_tier(comps["mix"]["stream"])
    assert shares == {"trivial": (400 - 32) / (400 - 32 + 6000 - 32), "deep": (6000 - 32) / (400 - 32 + 6000 - 32)}
    notes = reading_notes(comps)
    assert notes[0].startswith("`mix`/`stream`: the thinking tokens saved come from deep 94%, trivial 6%")
    assert any("below their label" in n and "mix/stream 50.0%" in n for n in notes)


def test_classifier_tables_tolerate_missing_parts() -> None:
    from benchmarks.compare import classifier_lines

    text = classifier_lines({"accuracy": {"test": {"ours": {"n": 153, "exact": 0.96, "within_one": 0.99}}}})
    assert "| test | ours | 153 | 96.0% | 99.0% | n/a |" in text
    assert classifier_lines({}).startswith("(no accuracy")

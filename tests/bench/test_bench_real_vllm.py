"""The real-vLLM benchmark's pieces that need no engine: its proxy configuration and its report."""

from __future__ import annotations

from benchmarks.real_vllm_bench import render
from benchmarks.workloads.proxy_configs import Backend, proxy_config
from benchmarks.workloads.real_vllm import vllm_argv
from benchmarks.workloads.results import RequestResult


def real_backend() -> dict[str, Backend]:
    b = Backend("native", "http://127.0.0.1:1/v1", "hosted_vllm/tiny", None, simulated=False,
                max_model_len=4096, template_preopens_think=True)  # fmt: skip
    return {"native": b}


def test_real_backend_window_reaches_both_proxies_and_the_template_flag_only_thinkbudget() -> None:
    base = proxy_config(real_backend(), with_extension=False)["model_list"][0]["model_info"]
    ext = proxy_config(real_backend(), with_extension=True)["model_list"][0]["model_info"]
    assert base["max_model_len"] == 4096 and "thinkbudget" not in base
    assert ext["max_model_len"] == 4096 and ext["thinkbudget"]["template_preopens_think"] is True


def test_simulated_backend_config_has_no_window_or_template_flag() -> None:
    b = {"native": Backend("native", "http://127.0.0.1:1/v1", "hosted_vllm/m")}
    info = proxy_config(b, with_extension=True)["model_list"][0]["model_info"]
    assert "max_model_len" not in info and "template_preopens_think" not in info["thinkbudget"]


def test_vllm_is_started_with_the_reasoning_parser_window_and_template() -> None:
    from pathlib import Path

    argv = vllm_argv(Path("/v"), Path("/m"), "strips", 4096, 8000)
    assert argv[:3] == ["/v/bin/vllm", "serve", "/m"]
    for flag, value in (("--reasoning-parser", "deepseek_r1"), ("--max-model-len", "4096"),
                        ("--chat-template", "/m/chat_template_strips.jinja"), ("--port", "8000")):  # fmt: skip
        assert argv[argv.index(flag) + 1] == value


def raw() -> dict:
    rows = []
    for run, think, rec, budget in (("baseline", 1000, None, None), ("native", 30, 31, 32), ("stream", 40, 32, 32)):
        rows.append(RequestResult("labelled", run, "r0", "i0", "trivial", "chat", thinking_tokens=think,
                                  answer_tokens=5, budget=budget, record_thinking_tokens=rec, latency_ms=2000.0,
                                  ttfa_ms=500.0).as_dict())  # fmt: skip
    failed = RequestResult("labelled", "stream", "r1", "i1", "deep", "chat", ok=False, error="HTTP 400: too long")
    rows.append(failed.as_dict())
    runs = [
        {"workload": "labelled", "run": "baseline", "wall_s": 10.0, "failures": 0, "engine_generation_tokens": 1000.0},
        {"workload": "labelled", "run": "native", "wall_s": 5.0, "failures": 0, "engine_generation_tokens": 250.0},
        {"workload": "labelled", "run": "stream", "wall_s": 5.0, "failures": 1, "engine_generation_tokens": None},
    ]
    meta = {"real_backend": {"model": "hosted_vllm/tiny", "max_model_len": 4096, "client_max_completion_tokens": 1024},
            "concurrency": 2, "machine": "m", "runtime_s": 1.0, "workloads": {}, "classifier": "c"}  # fmt: skip
    return {"meta": meta, "runs": runs, "requests": rows}


def test_report_says_what_is_real_and_what_is_not_and_shows_the_figures() -> None:
    text = render(raw())
    assert "REAL: token counts" in text and "NOT MEANINGFUL: the answers" in text and "NOT MEASURED: energy" in text
    assert "native: the engine generated 75.0% fewer tokens than the baseline; wall time 50.0% shorter" in text
    trivial = next(line for line in text.splitlines() if line.startswith("trivial"))
    assert trivial.split() == ["trivial", "32", "1,000", "30", "31", "40", "32"]
    assert "failed requests: 1" in text and "stream r1: HTTP 400: too long" in text


def test_the_cpu_engine_leaves_the_proxy_a_core() -> None:
    from benchmarks.workloads.real_vllm import engine_cpus

    assert engine_cpus({0, 1}) == [0]
    assert engine_cpus({0, 1, 2, 3}) == [0, 1, 2]
    assert engine_cpus({3}) is None  # one CPU: nothing to leave
    assert engine_cpus({0, 1}, "all") is None
    assert engine_cpus({0, 1, 2, 3}, "0-1,3") == [0, 1, 3]
    assert engine_cpus({0, 1}, " ") == [0]

"""Prometheus text of the simulated backend (a test double): vLLM token counters and DCGM-style GPU
energy/power, written in the names, units and labels the real exporters use. Pure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricsSnapshot:
    model_name: str
    prompt_tokens: int
    generation_tokens: int
    running: int
    gpu_energy_mj: tuple[float, ...]  # one per GPU
    gpu_power_w: float  # per GPU


def _labels(labels: dict[str, str]) -> str:
    def esc(v: str) -> str:
        return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{k}="{esc(v)}"' for k, v in labels.items()) + "}"


def _family(name: str, kind: str, doc: str, samples: list[tuple[dict[str, str], float]]) -> list[str]:
    return [f"# HELP {name} {doc}", f"# TYPE {name} {kind}"] + [
        f"{name}{_labels(labels)} {value!r}" for labels, value in samples
    ]


def render_metrics(s: MetricsSnapshot) -> str:
    model = {"model_name": s.model_name}
    gpus = [
        {
            "gpu": str(i),
            "UUID": f"GPU-00000000-0000-0000-0000-sim{i:09d}",
            "device": f"nvidia{i}",
            "modelName": "thinkbudget simulated GPU",
            "Hostname": "sim-backend",
        }
        for i in range(len(s.gpu_energy_mj))
    ]
    lines = [
        *_family(
            "vllm:prompt_tokens_total",
            "counter",
            "Number of prefill tokens processed.",
            [(model, float(s.prompt_tokens))],
        ),
        *_family(
            "vllm:generation_tokens_total",
            "counter",
            "Number of generation tokens processed.",
            [(model, float(s.generation_tokens))],
        ),
        *_family(
            "vllm:num_requests_running",
            "gauge",
            "Number of requests in model execution batches.",
            [(model, float(s.running))],
        ),
        *_family(
            "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
            "counter",
            "Total energy consumption since boot (in mJ). SIMULATED.",
            [(g, round(e, 3)) for g, e in zip(gpus, s.gpu_energy_mj, strict=True)],
        ),
        *_family(
            "DCGM_FI_DEV_POWER_USAGE",
            "gauge",
            "Power draw (in W). SIMULATED.",
            [(g, round(s.gpu_power_w, 3)) for g in gpus],
        ),
    ]
    return "\n".join(lines) + "\n"

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


_FAMILIES = (
    ("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed."),
    ("vllm:generation_tokens_total", "counter", "Number of generation tokens processed."),
    ("vllm:num_requests_running", "gauge", "Number of requests in model execution batches."),
    (
        "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
        "counter",
        "Total energy consumption since boot (in mJ). SIMULATED.",
    ),
    ("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W). SIMULATED."),
)


def _family(name: str, kind: str, doc: str, samples: list[tuple[dict[str, str], float]]) -> str:
    head = f"# HELP {name} {doc}\n# TYPE {name} {kind}\n"
    return head + "".join(f"{name}{_labels(labels)} {float(value)!r}\n" for labels, value in samples)


def render_metrics(s: MetricsSnapshot) -> str:
    model = {"model_name": s.model_name}
    gpus = [
        dict(gpu=str(i), UUID=f"GPU-00000000-0000-0000-0000-sim{i:09d}", device=f"nvidia{i}")
        | dict(modelName="thinkbudget simulated GPU", Hostname="sim-backend")
        for i in range(len(s.gpu_energy_mj))
    ]
    samples: tuple[list[tuple[dict[str, str], float]], ...] = (
        [(model, s.prompt_tokens)],
        [(model, s.generation_tokens)],
        [(model, s.running)],
        [(g, round(e, 3)) for g, e in zip(gpus, s.gpu_energy_mj, strict=True)],
        [(g, round(s.gpu_power_w, 3)) for g in gpus],
    )
    return "".join(_family(*family, rows) for family, rows in zip(_FAMILIES, samples, strict=True))

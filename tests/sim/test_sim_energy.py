import pytest
from prometheus_client.parser import text_string_to_metric_families

from thinkbudget_litellm.sim import energy
from thinkbudget_litellm.sim.config import SimConfig
from thinkbudget_litellm.sim.exposition import MetricsSnapshot, render_metrics


def test_energy_arithmetic() -> None:
    cfg = SimConfig(joules_per_token=2.0, prefill_weight=0.25, idle_watts=50.0, gpus=4)
    assert energy.token_joules(cfg, decode_tokens=10, prefill_tokens=8) == pytest.approx(2.0 * (10 + 2))
    assert energy.gpu_energy_millijoules(cfg, elapsed_s=2.0, token_energy_j=40.0) == pytest.approx(1000 * (50 * 2 + 10))
    events = [(0.5, 100.0), (1.5, 8.0), (1.9, 4.0)]
    assert energy.gpu_power_watts(cfg, recent=events, now=2.0) == pytest.approx(50 + 12 / 4)


def test_metrics_text_parses_with_real_names_and_labels() -> None:
    text = render_metrics(MetricsSnapshot('m"x', 12, 34, 1, (1000.5, 1000.5), 71.25))
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["vllm:prompt_tokens"].samples[0].value == 12
    assert families["vllm:prompt_tokens"].samples[0].labels == {"model_name": 'm"x'}
    assert families["vllm:generation_tokens"].samples[0].value == 34
    energy_family = families["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"]
    assert energy_family.type == "counter"
    assert [s.value for s in energy_family.samples] == [1000.5, 1000.5]
    assert [s.labels["gpu"] for s in energy_family.samples] == ["0", "1"]
    assert families["DCGM_FI_DEV_POWER_USAGE"].samples[0].value == 71.25
    # dcgm-exporter's exact spelling: no _total suffix on the sample (prometheus_client's parser adds one)
    assert "# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter\n" in text
    assert '\nDCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="1",' in text

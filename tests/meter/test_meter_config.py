"""One definition of the energy/GPU/token rules: the settings models. ``MeterConfig`` is built from them
(from a deployment's settings, or flat values that go through the same models), and
``check-config`` reports the cross-field rules before the proxy starts."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from thinkbudget_litellm.cli import check_cmd
from thinkbudget_litellm.meter.config import MeterConfig, MeterConfigError
from thinkbudget_litellm.settings import DeploymentSettings, SettingsError, parse_settings

RULES = [  # (block, where the error is, what it says)
    ({"energy": {"source": "dcgm"}}, "energy", "the dcgm source needs url"),
    ({"energy": {"source": "estimate"}}, "energy", "the estimate source needs watts"),
    ({"tokens": {"source": "vllm"}}, "tokens", "the vllm token source needs url"),
    ({"energy": {"source": "nvml", "devices": []}}, "energy.devices", "empty device list"),
    ({"energy": {"devices": [0, 0]}}, "energy.devices", "device indices repeat"),
    ({"energy": {"devices": [-1]}}, "energy.devices", "device indices must be >= 0"),
    ({"energy": {"source": "estimate", "watts": 1600}}, "energy", "watts (1600 W) is above max_watts_per_gpu (1500 W)"),
    ({"energy": {"idle_watts": 90, "max_watts_per_gpu": 80}}, "energy", "idle_watts (90 W) is above max_watts_per_gpu"),
    ({"energy": {"max_watts_per_gpu": 0}}, "energy.max_watts_per_gpu", "greater than 0"),
    ({"energy": {"url": "gpu1:9400/metrics"}}, "energy.url", "must start with http:// or https://"),
    ({"tokens": {"source": "vllm", "url": "vllm:8000"}}, "tokens.url", "must start with http:// or https://"),
    ({"energy": {"tick_s": 0.01}}, "energy.tick_s", "greater than or equal to 0.05"),
    ({"energy": {"price_per_kwh": "nan"}}, "energy.price_per_kwh", "finite number"),
    ({"gpu": {"cost_per_hour": "inf"}}, "gpu.cost_per_hour", "finite number"),
    ({"gpu": {"count": 0}}, "gpu.count", "greater than or equal to 1"),
]


@pytest.mark.parametrize(("block", "where", "says"), RULES)
def test_each_rule_is_a_settings_error(block: dict[str, object], where: str, says: str) -> None:
    with pytest.raises(SettingsError) as err:
        parse_settings(DeploymentSettings, block, "deployment r1 model_info.thinkbudget")
    assert f"deployment r1 model_info.thinkbudget.{where}: " in str(err.value) and says in str(err.value)


@pytest.mark.parametrize(("block", "where", "says"), RULES)
def test_flat_meter_config_goes_through_the_same_rules(
    block: dict[str, dict[str, object]], where: str, says: str
) -> None:
    flat = {}
    for section, values in block.items():
        prefix = {"energy": "", "gpu": "gpu_", "tokens": "token_"}[section]
        flat.update({f"{prefix}{k}": v for k, v in values.items()})
    with pytest.raises(MeterConfigError) as err:
        MeterConfig(**flat)
    assert str(err.value).startswith(f"{where}: ") and says in str(err.value)
    assert isinstance(err.value, SettingsError)


def test_flat_values_and_deployment_settings_give_the_same_config() -> None:
    settings = DeploymentSettings.model_validate(
        {
            "gpu": {"count": 4, "cost_per_hour": 2.0},
            "energy": {"source": "nvml", "devices": [4, 5, 6, 7], "max_watts_per_gpu": 900, "simulated": True},
            "tokens": {"source": "vllm", "url": "http://127.0.0.1:8000/metrics"},
        }
    )
    cfg = MeterConfig.from_settings(settings)
    assert cfg.energy is settings.energy and cfg.gpu is settings.gpu  # not re-validated, not copied
    flat = MeterConfig(
        source="nvml",
        devices=(4, 5, 6, 7),
        max_watts_per_gpu=900,
        simulated=True,
        gpu_count=4,
        gpu_cost_per_hour=2.0,
        token_source="vllm",
        token_url="http://127.0.0.1:8000/metrics",
    )
    assert cfg == flat and cfg != MeterConfig(source="nvml")
    assert cfg.nvml_devices == (4, 5, 6, 7) and cfg.uses_engine_tokens
    assert cfg.power_bound_w(None, 2800.0) == 3600.0
    assert MeterConfig(gpu_count=2).nvml_devices == (0, 1)
    with pytest.raises(AttributeError):
        cfg.energy = settings.energy  # type: ignore[misc]


def _cli() -> typer.Typer:
    app = typer.Typer()
    check_cmd.register(app)

    @app.callback()
    def _root() -> None:
        """test app"""

    return app


def test_check_config_reports_the_cross_field_rules(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: dcgm-without-url\n"
        "    litellm_params: {model: openai/x}\n"
        "    model_info: {thinkbudget: {energy: {source: dcgm}}}\n"
        "  - model_name: vllm-tokens-without-url\n"
        "    litellm_params: {model: openai/x}\n"
        "    model_info: {thinkbudget: {tokens: {source: vllm}}}\n"
        "  - model_name: fine\n"
        "    litellm_params: {model: openai/x}\n"
        "    model_info: {thinkbudget: {energy: {source: estimate, watts: 300, max_watts_per_gpu: 700}}}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(_cli(), ["check-config", str(config)], env={"COLUMNS": "400"})
    assert result.exit_code == 2, (result.output, result.exception)
    assert "dcgm-without-url model_info.thinkbudget.energy: Value error, the dcgm source needs url" in result.output
    assert "vllm-tokens-without-url model_info.thinkbudget.tokens: Value error, the vllm token source" in result.output
    assert "deployment fine: enforcement=native energy=estimate" in result.output

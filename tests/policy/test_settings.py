import pytest

from thinkbudget_litellm.policy.config_file import load_settings
from thinkbudget_litellm.settings import (
    DeploymentSettings,
    Enforcement,
    RequestOverrides,
    ScopeOverrides,
    SettingsError,
    parse_settings,
)
from thinkbudget_litellm.tiers import Tier


def test_config_block_from_litellm_yaml(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("model_list: []\nthinkbudget:\n  budgets: {deep: 4000}\n  fail_closed: true\n")
    s = load_settings(cfg)
    assert s.budgets[Tier.DEEP] == 4000 and s.budgets[Tier.TRIVIAL] == 32 and s.fail_closed


def test_config_file_reference(tmp_path):
    (tmp_path / "tb.yaml").write_text("budgets: {simple: 99}\n")
    cfg = tmp_path / "config.yaml"
    cfg.write_text("thinkbudget:\n  config_file: tb.yaml\n")
    assert load_settings(cfg).budgets[Tier.SIMPLE] == 99


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ({"budgets": {"deep": "lots"}}, "budgets.deep"),
        ({"budgets": {"huge": 5}}, "budgets.huge"),
        ({"max_thinking_tokens": -1}, "max_thinking_tokens"),
        ({"surprise": 1}, "surprise"),
        ("not a mapping", "expected a mapping"),
    ],
)
def test_invalid_scope_names_the_field(raw, needle):
    with pytest.raises(SettingsError) as err:
        parse_settings(ScopeOverrides, raw, "key k1 metadata.thinkbudget")
    assert needle in str(err.value) and "key k1 metadata.thinkbudget" in str(err.value)


def test_invalid_top_level_names_the_file(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("thinkbudget:\n  budgets: {deep: -5}\n")
    with pytest.raises(SettingsError, match="deep"):
        load_settings(cfg)


def test_deployment_env_refs(monkeypatch):
    monkeypatch.setenv("DCGM_URL", "http://gpu1:9400/metrics")
    d = parse_settings(
        DeploymentSettings,
        {"enforcement": "stream", "energy": {"source": "dcgm", "url": "os.environ/DCGM_URL"}},
        "deployment r1",
        operator_config=True,
    )
    assert d.enforcement is Enforcement.STREAM and d.energy.url == "http://gpu1:9400/metrics"
    with pytest.raises(SettingsError, match="NOPE_NOT_SET"):
        parse_settings(
            DeploymentSettings, {"energy": {"url": "os.environ/NOPE_NOT_SET"}}, "deployment r1", operator_config=True
        )


@pytest.mark.parametrize("ref", ["os.environ/HOME", "os.environ/NOPE_NOT_SET"])
def test_env_refs_are_not_resolved_in_caller_settings(ref):
    """Request bodies and key/team metadata: a set and an unset variable give the same answer."""
    for model in (RequestOverrides, ScopeOverrides):
        with pytest.raises(SettingsError, match="valid integer") as err:
            parse_settings(model, {"max_thinking_tokens": ref}, "request thinkbudget")
        assert "NOPE_NOT_SET" not in str(err.value) or ref.endswith("NOPE_NOT_SET")


@pytest.mark.parametrize("value", [True, False, 1.5, "12"])
def test_token_counts_must_be_integers(value):
    for model in (RequestOverrides, ScopeOverrides):
        with pytest.raises(SettingsError, match="max_thinking_tokens"):
            parse_settings(model, {"max_thinking_tokens": value}, "request thinkbudget")
    with pytest.raises(SettingsError, match=r"budgets\.deep"):
        parse_settings(ScopeOverrides, {"budgets": {"deep": True}}, "key k")

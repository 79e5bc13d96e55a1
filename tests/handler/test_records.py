"""Pure translation of a finished request into LiteLLM cost and our record."""

from __future__ import annotations

from request_states import make_state

from thinkbudget_litellm.handler.records import build_record, gpu_cost, spend_log_figures
from thinkbudget_litellm.meter.hub import RequestEnergy
from thinkbudget_litellm.settings import DeploymentSettings, Enforcement, GpuSettings, ThinkBudgetSettings


def _state(**kw):
    return make_state(started=0.0, **kw)


def _energy(j, s, cost):
    return RequestEnergy("c", "d", j, s, cost, 0.0, "measured:dcgm", "token_share")


def test_gpu_cost_only_when_priced_and_metered():
    priced = DeploymentSettings(gpu=GpuSettings(cost_per_hour=3.6))
    assert gpu_cost(_energy(10.0, 1.0, 0.001), priced) == 0.001
    assert gpu_cost(_energy(10.0, 1.0, 0.001), DeploymentSettings()) is None  # no price: keep LiteLLM's
    assert gpu_cost(_energy(None, None, None), priced) is None  # unmetered: never a silent zero
    assert gpu_cost(None, priced) is None


def test_cut_request_record_folds_the_continuation():
    dep = DeploymentSettings(enforcement=Enforcement.STREAM, gpu=GpuSettings(cost_per_hour=3.6))
    state = _state(deployment=dep, enforcement=Enforcement.STREAM, cut=True, thinking_tokens=128, answer_tokens=40)
    state.continuation_call_id = "c2"
    settings = ThinkBudgetSettings.model_validate({"baseline_thinking_tokens": {"simple": 700}})
    rec = build_record(state, [_energy(5.0, 0.5, 0.0005), _energy(2.0, 0.2, 0.0002)], settings)
    assert rec.energy_j == 7.0 and abs(rec.gpu_seconds - 0.7) < 1e-12
    assert abs(rec.cost_usd - 0.0007) < 1e-12
    assert rec.status == "cut" and rec.continuation_call_id == "c2" and rec.baseline_thinking_tokens == 700
    assert rec.team_id == "team" and rec.tier == "simple" and rec.enforcement == "stream"


def test_spend_log_figures_name_the_source():
    figs = spend_log_figures(_state(), _energy(3.0, 0.1, 0.01), 0.01)
    assert figs["thinkbudget_energy_source"] == "measured:dcgm" and figs["thinkbudget_gpu_cost_usd"] == 0.01


def test_native_cap_is_marked():
    state = _state(deployment=DeploymentSettings(), enforcement=Enforcement.NATIVE, thinking_tokens=128)
    assert build_record(state, [], ThinkBudgetSettings()).extra["engine_capped"] is True
    state.thinking_tokens = 90
    assert "engine_capped" not in build_record(state, [], ThinkBudgetSettings()).extra

"""Pure views of a request's one outcome: our record row, spend-log figures and headers."""

from __future__ import annotations

from request_states import CALLER

from tests.lifecycle.lifecycle_fakes import CALL, CONT, FakeClock, FakeMeter, admission
from thinkbudget_litellm.handler.records import build_record, energy_headers, spend_log_figures
from thinkbudget_litellm.lifecycle import Bill, RequestLifecycle, RequestOutcome
from thinkbudget_litellm.settings import Enforcement, ThinkBudgetSettings


async def _cut_outcome() -> RequestOutcome:
    lc = RequestLifecycle(admission(), FakeMeter(), FakeClock())
    await lc.attempt_started("dep", 10, priced=True, enforcement=Enforcement.STREAM)
    lc.tokens(4)
    lc.thinking_counts(4, 0)
    await lc.cut()
    lc.continuation_issued(CONT)
    await lc.continuation_started(CONT, "dep", 20, priced=True)
    lc.tokens(3)
    lc.thinking_counts(4, 3)
    step = await lc.continuation_ended(True)
    assert step.outcome is not None
    return step.outcome


async def test_cut_request_record_folds_the_continuation():
    outcome = await _cut_outcome()
    settings = ThinkBudgetSettings.model_validate({"baseline_thinking_tokens": {"simple": 700}})
    rec = build_record(outcome, CALLER, settings)
    assert rec.energy_j == (8 + 4) + (8 + 3) and rec.gpu_seconds == 23 / 8 and rec.cost_usd == 23 / 64
    assert rec.status == "cut" and rec.continuation_call_id == CONT and rec.baseline_thinking_tokens == 700
    assert rec.litellm_call_id == CALL and rec.team_id == "team" and rec.tier == "simple"
    assert rec.enforcement == "stream" and rec.budget_scope == "tier"
    assert (rec.thinking_tokens, rec.answer_tokens) == (4, 3)


async def test_spend_log_figures_and_headers_are_views_of_one_bill():
    outcome = await _cut_outcome()
    part = outcome.bill_for(CONT)
    figs = spend_log_figures(
        outcome.admission.decision, outcome.task, outcome.enforcement, 4, True, part, continuation_of=CALL
    )
    assert figs["thinkbudget_energy_source"] == "measured:dcgm" and figs["thinkbudget_gpu_cost_usd"] == 11 / 64
    assert figs["thinkbudget_continuation_of"] == CALL and figs["thinkbudget_budget_scope"] == "tier"
    assert energy_headers(outcome.bill)["X-ThinkBudget-Energy-J"] == "23"
    unmetered = Bill.of([])
    assert energy_headers(unmetered) == {}
    assert "thinkbudget_gpu_cost_usd" not in spend_log_figures(
        outcome.admission.decision, outcome.task, outcome.enforcement, 0, False, unmetered
    )


async def test_native_cap_is_marked():
    # budget 4: vLLM's cap gives budget - 1 reasoning tokens after a pre-opened "<think>\n" (counted exactly)
    for thinking, capped in ((4, True), (3, True), (2, False)):
        lc = RequestLifecycle(admission(stream=False), FakeMeter(), FakeClock())
        await lc.attempt_started("dep", 10, priced=False, enforcement=Enforcement.NATIVE)
        step = await lc.attempt_succeeded(thinking, 2)
        assert step.outcome is not None
        assert build_record(step.outcome, CALLER, ThinkBudgetSettings()).extra.get("engine_capped", False) is capped

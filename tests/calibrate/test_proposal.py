"""Proposals per cell: estimate, growth beyond the data, parent and default fallbacks, bounds; and
which records are censored."""

import pytest

from thinkbudget_litellm.calibrate.proposal import CellKey, Observation, Source, cell_counts, censored, propose
from thinkbudget_litellm.calibrate.survival import tally
from thinkbudget_litellm.settings import AdaptiveBounds, AdaptiveSettings
from thinkbudget_litellm.tiers import DEFAULT_BUDGETS, Task, Tier

M, T = "m", Tier.MODERATE
MATH, CHAT = CellKey(M, T, Task.MATH), CellKey(M, T, Task.CHAT)
TIER_CELL = CellKey(M, T)
S = AdaptiveSettings(enabled=True, quantile=0.9, min_samples=10, bounds=AdaptiveBounds(min=16, max=4000))


def finished(*lengths):
    return tally((n, False) for n in lengths)


def test_enough_samples_the_cell_gets_its_own_quantile():
    out = propose({MATH: finished(*range(100, 200, 10))}, DEFAULT_BUDGETS, S)
    assert (out[MATH].source, out[MATH].budget, out[MATH].estimate) == (Source.ESTIMATE, 180, 180)  # the 9th of 10


def test_few_samples_take_the_parent_which_pools_every_task():
    cells = {MATH: finished(*range(100, 200, 10)), CHAT: finished(1000, 1000)}
    out = propose(cells, DEFAULT_BUDGETS, S)
    assert out[TIER_CELL].samples == 12 and out[TIER_CELL].source is Source.ESTIMATE
    # S is 2/12 after 190 and 0 at 1000: the line between them crosses 0.1 at 190 + 0.4 x 810
    assert out[TIER_CELL].budget == 514
    assert (out[CHAT].source, out[CHAT].budget, out[CHAT].samples) == (Source.PARENT, 514, 2)
    assert out[MATH].source is Source.ESTIMATE


def test_too_few_samples_everywhere_fall_back_to_the_configured_default():
    out = propose({CHAT: finished(5, 6)}, {**DEFAULT_BUDGETS, T: 777}, S)
    assert (out[CHAT].source, out[CHAT].budget) == (Source.DEFAULT, 777)
    assert (out[TIER_CELL].source, out[TIER_CELL].budget) == (Source.DEFAULT, 777)
    assert not out[CHAT].adaptive


def test_quantile_beyond_the_data_grows_from_the_largest_censoring_point():
    counts = tally([(50, False)] * 5 + [(128, True)] * 10)
    out = propose({MATH: counts}, DEFAULT_BUDGETS, S)
    assert (out[MATH].source, out[MATH].lower_bound, out[MATH].budget) == (Source.GROWTH, 128, 256)


@pytest.mark.parametrize(
    ("lengths", "expected"),
    [((1,) * 10, 16), ((9000,) * 10, 4000)],
    ids=["raised-to-min", "lowered-to-max"],
)
def test_proposals_stay_within_bounds(lengths, expected):
    assert propose({MATH: finished(*lengths)}, DEFAULT_BUDGETS, S)[MATH].budget == expected


def test_expected_figures_come_from_the_cell_s_own_curve():
    p = propose({MATH: finished(*range(10, 110, 10))}, DEFAULT_BUDGETS, S)[MATH]
    assert p.expected_over_budget(50) == pytest.approx(0.5)
    assert p.expected_thinking(1000) == pytest.approx(55.0)
    assert p.expected_thinking(50) == pytest.approx((10 + 20 + 30 + 40 + 50 * 6) / 10)


def obs(**kw):
    base = dict(
        model_group=M,
        tier="moderate",
        task="math",
        budget=100,
        enforcement="stream",
        status="success",
        cut=False,
        thinking_tokens=40,
    )
    return Observation(**{**base, **kw})


@pytest.mark.parametrize(
    ("record", "is_censored"),
    [
        (obs(), False),
        (obs(cut=True, status="cut", thinking_tokens=100), True),
        (obs(enforcement="native", thinking_tokens=100), True),  # the engine capped it at the budget
        (obs(enforcement="native", thinking_tokens=99), False),
        (obs(enforcement="off", thinking_tokens=5000), False),  # unenforced: a natural length
        (obs(enforcement="stream", thinking_tokens=100), False),  # closed right at the budget, not cut
    ],
)
def test_which_records_are_censored(record, is_censored):
    assert censored(record) is is_censored


@pytest.mark.parametrize(
    "record",
    [
        obs(status="failure"),
        obs(status="cancelled"),
        obs(model_group=None),
        obs(tier="legendary"),
        obs(tier=None),
        obs(enforcement=None),
    ],
)
def test_records_that_say_nothing_about_natural_length_are_left_out(record):
    assert cell_counts([record]) == {}


def test_cell_counts_group_by_cell_and_length():
    rows = [obs(count=3), obs(cut=True, status="cut", thinking_tokens=100, count=2), obs(task=None)]
    out = cell_counts(rows)
    assert out[MATH][40].events == 3 and out[MATH][100].censored == 2
    assert out[CellKey(M, T, Task.OTHER)][40].events == 1

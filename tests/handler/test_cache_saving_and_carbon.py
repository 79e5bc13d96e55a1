"""Cache-hit savings (what the original request cost) and grams of CO2e per request: pure rules."""

from __future__ import annotations

import pytest

from thinkbudget_litellm.handler.cache_hits import CacheSaving, CacheSavings, SavingSource, cache_hit_headers
from thinkbudget_litellm.meter.carbon import CarbonIntensity, gauge_value, grams_co2e
from thinkbudget_litellm.settings import CarbonSettings, SettingsError, parse_settings


@pytest.mark.parametrize(
    ("joules", "g_per_kwh", "grams"),
    [(3.6e6, 400.0, 400.0), (1800.0, 400.0, 0.2), (0.0, 400.0, 0.0), (None, 400.0, None), (10.0, None, None)],
)
def test_grams_co2e(joules: float | None, g_per_kwh: float | None, grams: float | None) -> None:
    assert grams_co2e(joules, g_per_kwh) == (pytest.approx(grams) if grams is not None else None)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({}, "carbon needs g_per_kwh"),
        ({"url": "http://x/metrics"}, "both url and metric"),
        ({"g_per_kwh": -1}, "greater than or equal to 0"),
        ({"g_per_kwh": 100, "url": "ftp://x", "metric": "m"}, "http://"),
    ],
)
def test_carbon_settings_refuse_what_cannot_work(raw: dict, problem: str) -> None:
    with pytest.raises(SettingsError, match=problem):
        parse_settings(CarbonSettings, raw, "carbon")


def test_gauge_value_reads_the_first_series_and_refuses_garbage() -> None:
    text = '# TYPE grid_intensity gauge\ngrid_intensity{zone="DE"} 381.5\ngrid_intensity{zone="FR"} 55\n'
    assert gauge_value(text, "grid_intensity") == 381.5
    with pytest.raises(ValueError):
        gauge_value("grid_intensity NaN\n", "grid_intensity")
    with pytest.raises(ValueError):
        gauge_value("other 1\n", "grid_intensity")


def test_intensity_fixed_value_and_unknown_deployment() -> None:
    carbon = CarbonIntensity()
    carbon.configure("d1", CarbonSettings(g_per_kwh=250.0))
    assert carbon.g_per_kwh("d1") == 250.0
    assert carbon.g_per_kwh("d2") is None and carbon.g_per_kwh(None) is None
    carbon.configure("d1", None)
    assert carbon.g_per_kwh("d1") is None


def test_savings_come_from_the_original_else_litellm_price() -> None:
    book = CacheSavings(max_entries=2)
    original = CacheSaving(SavingSource.ORIGINAL, 0.002, 40.0, 0.004, 300, "call-1")
    book.remember("chatcmpl-1", original)
    assert book.saving_for("chatcmpl-1", 0.5) == original
    assert book.saving_for("chatcmpl-x", 0.5) == CacheSaving(SavingSource.LITELLM_PRICE, 0.5)
    assert book.saving_for("chatcmpl-x") is None
    book.remember("chatcmpl-2", original)
    book.remember("chatcmpl-3", original)
    assert len(book) == 2 and book.saving_for("chatcmpl-1") is None  # least recently used went first
    headers = cache_hit_headers(original)
    assert headers["X-ThinkBudget-Cache"] == "hit" and headers["X-ThinkBudget-Energy-J"] == "0"
    assert headers["X-ThinkBudget-Saved-Cost"] == "0.002"
    assert original.as_extra() == {
        "source": "original_request",
        "cost_usd": 0.002,
        "energy_j": 40.0,
        "co2e_g": 0.004,
        "thinking_tokens": 300,
        "original_call_id": "call-1",
    }

"""Measured prices per deployment: recent bills over weighted tokens, else the configured prices."""

from __future__ import annotations

import pytest

from thinkbudget_litellm.routing.prices import PriceBook, Prices, PriceSource, configured_prices

CONFIGURED = configured_prices(1e-7, 4e-7)


def test_no_bills_falls_back_to_configured() -> None:
    book = PriceBook()
    assert book.prices("dep", CONFIGURED) == CONFIGURED
    assert configured_prices(None, None).source is PriceSource.UNKNOWN


@pytest.mark.parametrize(
    ("bills", "per_output"),
    [
        ([(1.0e-3, 0, 1000)], 1e-6),
        ([(1.0e-3, 1000, 900)], 1e-6),  # a prompt token weighs 0.1
        ([(1.0e-3, 0, 1000), (3.0e-3, 0, 1000)], 2e-6),  # summed over the window
        ([(None, 0, 1000), (0.0, 0, 1000), (2.0e-3, 0, 1000)], 2e-6),  # unpriced bills teach nothing
    ],
)
def test_measured(bills: list[tuple[float | None, int, int]], per_output: float) -> None:
    book = PriceBook(window=10, prefill_weight=0.1)
    for cost, prompt, out in bills:
        book.observe("dep", cost, prompt, out)
    got = book.prices("dep", CONFIGURED)
    assert got.source is PriceSource.MEASURED
    assert got.output_usd == pytest.approx(per_output)
    assert got.prompt_usd == pytest.approx(per_output * 0.1)


def test_window_forgets_old_bills() -> None:
    book = PriceBook(window=2)
    for cost in (9e-3, 1e-3, 1e-3):
        book.observe("dep", cost, 0, 1000)
    assert book.prices("dep", CONFIGURED) == Prices(1e-7, 1e-6, PriceSource.MEASURED)

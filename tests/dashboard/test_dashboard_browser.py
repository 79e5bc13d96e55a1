"""The dashboard in a real browser: headless Chromium (Debian's ``chromium`` and ``chromium-driver``,
driven by Selenium) opens ``/thinkbudget/ui`` on the running proxy, shows the requests just sent in
its feed and charts, classifies a prompt, logs no JavaScript error, and leaves a screenshot in
benchmarks/results/dashboard.png (the README shows it)."""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.conftest import MASTER, Dash
from thinkbudget_litellm.dashboard.routes import plotly_js_path

pytestmark = [pytest.mark.proxy, pytest.mark.browser]

SCREENSHOT = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "dashboard.png"
PROMPTS = (
    ("sk-dash-team-a", "hi there!", False, 300),
    ("sk-dash-team-a", "Compare REST and GraphQL for a public API.", True, 900),
    ("sk-dash-team-b", "Prove that there are infinitely many primes of the form 4k+3.", False, 2400),
    ("sk-dash-team-b", "Write a Python function that reverses the words in a sentence.", True, 1200),
)


def _browser() -> Any:
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the dev extra)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip("no headless Chromium here: apt-get install -y chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1500,2100",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=driver_path)
    return webdriver.Chrome(options=options, service=service)


def _wait(driver: Any, script: str, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"the page never satisfied: {script}")


def test_the_dashboard_shows_what_was_just_sent(dash: Dash) -> None:
    if plotly_js_path() is None:
        pytest.skip("plotly is not installed (the dashboard extra): no charts to check")
    driver = _browser()
    try:
        tag = uuid.uuid4().hex[:6]
        calls = [
            dash.ask(key, f"{prompt} [{tag}]", stream=stream, think=think)[0] for key, prompt, stream, think in PROMPTS
        ]
        assert len(dash.records(calls)) == len(calls)
        driver.get(f"{dash.url}/thinkbudget/ui#key={MASTER}")
        ids = _wait(
            driver,
            "return Array.from(document.querySelectorAll('#feed tbody tr')).map(r => r.dataset.callId)"
            ".filter(Boolean).length >= 4 && Array.from(document.querySelectorAll('#feed tbody tr'))"
            ".map(r => r.dataset.callId)",
        )
        assert set(calls) <= set(ids)
        groups = _wait(
            driver,
            "const c = document.getElementById('chart-history'); "
            "return c && c.data && c.data.length && c.data.map(t => t.name)",
        )
        assert {"team-a", "team-b"} <= set(groups)
        tiers = _wait(
            driver,
            "const c = document.getElementById('chart-tiers'); return c && c.data && c.data[0].values",
        )
        assert sum(tiers) >= len(calls)
        assert _wait(driver, "return document.querySelectorAll('#chart-saving .main-svg').length")
        assert _wait(driver, "return document.querySelectorAll('#gpu tbody tr').length")
        cards = driver.execute_script("return document.getElementById('cards').innerText")
        assert "requests" in cards and "saved vs baseline" in cards
        driver.find_element("id", "prompt").send_keys("Prove that the square root of 2 is irrational.")
        driver.find_element("css selector", "#classify button").click()
        classified = _wait(driver, "const d = document.querySelector('#classified dl'); return d && d.innerText")
        assert "tier" in classified and "budget" in classified and "no model called" in classified
        # a refresh without reloading: a request sent now appears in the feed on the next refresh
        later = dash.ask("sk-dash-team-a", f"What is 2 + 2? [{tag}]")[0]
        assert dash.records([later])
        _wait(driver, f"return !!document.querySelector('#feed tr[data-call-id=\"{later}\"]')", timeout_s=20)
        time.sleep(0.5)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SCREENSHOT))
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        assert errors == [], errors
    finally:
        driver.quit()

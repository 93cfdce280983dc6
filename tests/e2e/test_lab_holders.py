"""Token holders in a real browser: from the Similarity Lab to the holders page, submit a mint, watch the
fan-out over the WebSocket, read the holders, first buyers, classes, clusters, supply pictures and risk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver

from tests.e2e.test_lab import (
    FLOW_TIMEOUT_S,
    UI_TIMEOUT_S,
    _find,
    _find_all,
    _log_in,
    _same_page,
    _screenshot,
    _script_errors,
    _user,
    _visible,
    _wait,
)
from tests.support.stack import Stack
from wallets.simulated_market import Launch, SimulatedMarket

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MARKET = SimulatedMarket(seed=0)


def launch(kind: str) -> Launch:
    return next(item for item in MARKET.launches() if item.kind == kind)


@pytest.fixture
def screenshots(artifacts_dir: Path) -> Path:
    path = artifacts_dir / "e2e"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _open_holders(driver: WebDriver, stack: Stack) -> None:
    _log_in(driver, stack, _user())
    _find(driver, "nav-holders").click()
    _wait(driver, _visible("holders-form"), UI_TIMEOUT_S, "the holders page")
    _wait(
        driver,
        lambda d: _find(d, "ws-status").get_attribute("data-state") == "open",
        UI_TIMEOUT_S,
        "the WebSocket to open",
    )
    assert _find(driver, "nav-holders").get_attribute("aria-current") == "page"
    driver.execute_script("window.labTestMarker = 'same page';")


def _error_fields(driver: WebDriver) -> list[str]:
    # Read in one script: the page replaces the list when the next answer comes (stale elements otherwise).
    return list(
        driver.execute_script(
            "return [...document.querySelectorAll('[data-testid=field-error]')].map((e) => e.dataset.field);"
        )
    )


def _submit(driver: WebDriver, mint: str, *, top: str = "50", early: str = "50") -> None:
    for testid, value in (("mint-input", mint), ("top-input", top), ("early-input", early)):
        box = _find(driver, testid)
        box.clear()
        box.send_keys(value)
    _find(driver, "submit-button").click()


def test_the_holders_of_a_bundled_launch_live(
    live_stack: Stack, browser: WebDriver, screenshots: Path
) -> None:
    bundled = launch("bundled")
    roles = {p.wallet: p.role for p in bundled.participants}
    _open_holders(browser, live_stack)
    _submit(browser, bundled.mint)
    _wait(browser, lambda d: _find(d, "job-id").text.strip(), UI_TIMEOUT_S, "the job id")
    seen: set[str] = set()

    def completed(driver: WebDriver) -> bool:
        seen.add(_find(driver, "stage").text)
        return _find(driver, "job-status").get_attribute("data-status") == "completed"

    _wait(browser, completed, FLOW_TIMEOUT_S, "the holders job to complete")
    _wait(browser, _visible("results"), UI_TIMEOUT_S, "the results")
    assert _find(browser, "progress-value").text == "100%"
    assert "Syncing wallet histories" in seen or "Profiling wallets" in seen, seen

    assert _find(browser, "risk-level").text.lower() == "high"
    assert _find_all(browser, "risk-reasons") and "null" not in _find(browser, "risk").text
    holders = _find_all(browser, "holder-row")
    early = _find_all(browser, "early-row")
    assert len(holders) == bundled.holder_count and len(early) == len(bundled.participants)
    for row in early:
        classes = set(filter(None, (row.get_attribute("data-classes") or "").split(",")))
        planted = next(
            p.classes for p in bundled.participants if p.wallet == row.get_attribute("data-wallet")
        )
        assert classes - {"bot"} == set(planted)
    bundlers = [w for w, role in roles.items() if role == "bundler"]
    clusters = {
        tuple((node.get_attribute("data-wallets") or "").split(",")) for node in _find_all(browser, "cluster")
    }
    assert any(set(bundlers) <= set(wallets) for wallets in clusters), clusters

    bars = {
        bar.get_attribute("data-class"): float(bar.get_attribute("data-pct") or "nan")
        for bar in _find_all(browser, "class-bar")
    }
    assert set(bars) == {"creator", "bundler", "sniper", "insider", "fresh", "bot"}
    assert bars["bundler"] > 5 and bars["insider"] > bars["bundler"]
    assert _find_all(browser, "cluster-segment")
    assert [pool.text.split()[0] for pool in _find_all(browser, "pool")]
    assert _find(browser, "failed-none").text
    assert _same_page(browser), "the page reloaded"
    assert _script_errors(browser) == []
    shot = _screenshot(browser, screenshots / "holders-completed.png")
    assert shot.stat().st_size > 10_000
    (screenshots / "holders-completed.json").write_text(
        json.dumps({"mint": bundled.mint, "stages_seen": sorted(seen), "class_bars": bars}, indent=2)
    )


def test_the_holders_page_explains_bad_input_and_a_mint_that_is_none(
    live_stack: Stack, browser: WebDriver, screenshots: Path
) -> None:
    _open_holders(browser, live_stack)
    _submit(browser, "not-a-mint!")
    _wait(browser, _visible("form-error"), UI_TIMEOUT_S, "the error for a malformed mint")
    [field] = _find_all(browser, "field-error")
    assert field.get_attribute("data-field") == "mint" and "is not base58" in field.text
    assert _find(browser, "mint-input").get_attribute("aria-invalid") == "true"

    _submit(browser, launch("organic").mint, top="0")
    _wait(browser, lambda d: "top" in _error_fields(d), UI_TIMEOUT_S, "the error for a count out of range")
    assert not _find(browser, "job-panel").is_displayed()

    wallet = MARKET.sample_wallets(1)[0]
    _submit(browser, wallet)
    _wait(browser, _visible("job-error"), FLOW_TIMEOUT_S, "the failure to be shown")
    message = _find(browser, "job-error-message").text
    assert "is not a token mint" in message and "not_a_token_mint" in message, message
    assert not _find(browser, "results").is_displayed()
    assert _same_page(browser)
    _screenshot(browser, screenshots / "holders-failed.png")

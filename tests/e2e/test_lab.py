"""The Similarity Lab in a real browser: log in, submit, watch the job over the WebSocket, read the result."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from core.redis import SIMULATED_FAULT_RATE_KEY, SIMULATED_LATENCY_KEY
from tests.support.stack import Stack
from wallets.simulated_market import SimulatedMarket

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MARKET = SimulatedMarket(seed=0)
PASSWORD = "lab-password-for-tests"
FLOW_TIMEOUT_S = 120
# Three attempts with backoff per wallet before the job gives up (~10 s), plus slack for a busy machine.
FAILURE_TIMEOUT_S = 90
UI_TIMEOUT_S = 15
CHANNELS = {
    "combined",
    "capital_cosine",
    "binary_cosine",
    "jaccard_traded",
    "holdings_jaccard",
    "holdings_cosine",
    "co_trade",
    "funding",
}


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    yield client
    client.delete(SIMULATED_FAULT_RATE_KEY, SIMULATED_LATENCY_KEY)


@pytest.fixture
def screenshots(artifacts_dir: Path) -> Path:
    path = artifacts_dir / "e2e"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _user() -> str:
    username = f"analyst-{uuid.uuid4().hex[:8]}"
    get_user_model().objects.create_user(username=username, password=PASSWORD)
    return username


def _by_testid(testid: str) -> tuple[str, str]:
    return By.CSS_SELECTOR, f'[data-testid="{testid}"]'


def _find(driver: WebDriver, testid: str) -> WebElement:
    return driver.find_element(*_by_testid(testid))


def _find_all(driver: WebDriver, testid: str) -> list[WebElement]:
    return driver.find_elements(*_by_testid(testid))


def _wait(driver: WebDriver, condition: Callable[[WebDriver], Any], timeout_s: float, what: str) -> Any:
    return WebDriverWait(driver, timeout_s, poll_frequency=0.1).until(condition, message=what)


def _visible(testid: str) -> Callable[[WebDriver], bool]:
    def check(driver: WebDriver) -> bool:
        elements = _find_all(driver, testid)
        return bool(elements) and elements[0].is_displayed()

    return check


def _log_in(driver: WebDriver, stack: Stack, username: str) -> None:
    driver.get(f"{stack.base_url}/")
    _wait(driver, lambda d: "/accounts/login/" in d.current_url, UI_TIMEOUT_S, "the login redirect")
    _find(driver, "login-username").send_keys(username)
    _find(driver, "login-password").send_keys(PASSWORD)
    _find(driver, "login-submit").click()
    _wait(driver, _visible("analyze-form"), UI_TIMEOUT_S, "the Lab page after login")
    # The page opens the socket on daphne's port with the session cookie of gunicorn's host.
    _wait(
        driver,
        lambda d: _find(d, "ws-status").get_attribute("data-state") == "open",
        UI_TIMEOUT_S,
        "the WebSocket to open",
    )
    # Survives only while the page is not reloaded: every assertion below happens on this one page load.
    driver.execute_script("window.labTestMarker = 'same page';")


def _submit(driver: WebDriver, text: str) -> None:
    box = _find(driver, "wallets-input")
    box.clear()
    box.send_keys(text)
    _find(driver, "submit-button").click()


def _same_page(driver: WebDriver) -> bool:
    return bool(driver.execute_script("return window.labTestMarker === 'same page';"))


def _screenshot(driver: WebDriver, path: Path) -> Path:
    """The whole page: the window grows to the document's height (plus its own frame) first."""
    height = int(
        driver.execute_script(
            "return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight;"
        )
    )
    driver.set_window_size(1400, min(max(height, 800), 10_000))
    driver.save_screenshot(str(path))
    return path


def _script_errors(driver: WebDriver) -> list[str]:
    # Refused requests (the 400 of bad input) are logged by the browser too; only script errors count here.
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]
    ]


def test_lab_runs_a_similarity_analysis_live(
    live_stack: Stack, browser: WebDriver, screenshots: Path, artifacts_dir: Path
) -> None:
    family = MARKET.families()[0]
    wallets = [*family.members, *MARKET.sample_wallets(2)]
    _log_in(browser, live_stack, _user())

    _submit(browser, "\n".join(wallets))
    _wait(browser, lambda d: _find(d, "job-id").text.strip(), UI_TIMEOUT_S, "the job id")
    progress_seen: set[int] = set()

    def completed(driver: WebDriver) -> bool:
        progress_seen.add(int(_find(driver, "progress-bar").get_attribute("aria-valuenow") or 0))
        return (
            _find(driver, "job-status").get_attribute("data-status") == "completed" and 100 in progress_seen
        )

    _wait(browser, completed, FLOW_TIMEOUT_S, "the job to complete with progress 100")
    assert _find(browser, "progress-value").text == "100%"
    assert not _find(browser, "job-error").is_displayed()

    _wait(browser, _visible("results"), UI_TIMEOUT_S, "the results")
    heatmap = _find(browser, "heatmap")
    assert heatmap.is_displayed()
    assert heatmap.get_attribute("data-wallet-count") == str(len(wallets))
    assert heatmap.get_attribute("data-channel") == "combined"
    channel = Select(_find(browser, "channel-select"))
    assert {option.get_attribute("value") for option in channel.options} == CHANNELS
    channel.select_by_value("co_trade")
    assert _find(browser, "heatmap").get_attribute("data-channel") == "co_trade"
    channel.select_by_value("combined")

    clusters = [
        (node.get_attribute("data-wallets") or "").split(",") for node in _find_all(browser, "cluster")
    ]
    if not clusters:
        assert _find(browser, "clusters-empty").text.strip()
    assert _find_all(browser, "pair"), "no top pairs shown"
    # The family copies its leader: some pair of it names the leader, with the share of co-buys it led.
    leaders = {node.get_attribute("data-leader") for node in _find_all(browser, "pair-leader")}
    assert family.leader in leaders, (family.leader, leaders)
    assert _find_all(browser, "hubs") or _find(browser, "hubs-empty").text.strip()
    summaries = _find_all(browser, "wallet-summary")
    assert len(summaries) == len(wallets)
    # PnL totals, invested SOL, trades and tokens are figures for any wallet that traded: never all dashes.
    assert all(row.text.count("—") <= 7 for row in summaries), [row.text for row in summaries]
    # Issue 17: every wallet shows its reconciliation with the chain and the cost held in unpriced tokens,
    # and its open positions with their price status.
    states = [cell.get_attribute("data-state") for cell in _find_all(browser, "reconciliation")]
    assert len(states) == len(wallets) and set(states) <= {"balanced", "unexplained"}, states
    assert all("SOL" in cell.text for cell in _find_all(browser, "unpriced"))
    holding = [row for row in summaries if row.find_elements(*_by_testid("positions-toggle"))]
    assert holding, "no wallet holds an open position"
    # Open the positions of a wallet holding unpriced tokens when there is one: the view that matters.
    with_unpriced = [
        row for row in holding if not row.find_element(*_by_testid("unpriced")).text.startswith("0 ")
    ]
    (with_unpriced or holding)[0].find_element(*_by_testid("positions-toggle")).click()
    positions = _wait(
        browser,
        lambda d: [row for row in _find_all(d, "open-position") if row.is_displayed()],
        UI_TIMEOUT_S,
        "the open positions",
    )
    statuses = {row.get_attribute("data-price-status") for row in positions}
    assert statuses and statuses <= {"priced", "unpriced"}, statuses
    if with_unpriced:
        assert "unpriced" in statuses
    _screenshot(browser, screenshots / "lab-positions.png")
    assert "Every wallet" in _find(browser, "failed-wallets").text

    _wait(
        browser,
        lambda d: _find(d, "enrichment-status").get_attribute("data-status") == "completed",
        FLOW_TIMEOUT_S,
        "enriched balances",
    )
    rows = _find_all(browser, "balance-row")
    assert len(rows) == len(wallets)
    assert all(row.get_attribute("data-enriched") == "true" for row in rows)
    assert any("$" in total.text for total in _find_all(browser, "balance-total"))
    assert _find_all(browser, "balance-token"), "no priced token symbols shown"
    assert _same_page(browser), "the page reloaded"
    assert _script_errors(browser) == []

    shot = _screenshot(browser, screenshots / "lab-completed.png")
    assert shot.stat().st_size > 10_000
    (screenshots / "lab-completed.json").write_text(
        json.dumps(
            {
                "family": list(family.members),
                "wallets": wallets,
                "clusters_shown": clusters,
                "progress_seen": sorted(progress_seen),
                "wallet_summaries_rows": len(summaries),
                "reconciliation_states": states,
                "open_position_statuses": sorted(statuses),
            },
            indent=2,
        )
    )
    # Last, so that a calibration change splitting the family does not hide everything checked above.
    if clusters:
        assert any(set(family.members) <= set(members) for members in clusters), (family.members, clusters)


def test_lab_shows_why_a_job_failed(
    live_stack: Stack, browser: WebDriver, screenshots: Path, broker: redis.Redis
) -> None:
    broker.set(SIMULATED_FAULT_RATE_KEY, 1.0)
    wallets = MARKET.sample_wallets(42)[40:]  # never synced in this run: every sync has to reach the upstream
    _log_in(browser, live_stack, _user())

    _submit(browser, ", ".join(wallets))
    _wait(browser, _visible("job-error"), FAILURE_TIMEOUT_S, "the failure to be shown")
    message = _find(browser, "job-error-message").text
    assert "could be synced" in message and "simulated upstream fault" in message, message
    assert "insufficient_data" in message
    assert _find(browser, "job-status").get_attribute("data-status") == "failed"
    assert not _find(browser, "cancel-button").is_enabled()
    assert not _find(browser, "results").is_displayed()
    assert _same_page(browser)
    _screenshot(browser, screenshots / "lab-failed.png")


def test_lab_cancels_a_running_job(live_stack: Stack, browser: WebDriver, broker: redis.Redis) -> None:
    broker.set(SIMULATED_LATENCY_KEY, 1000)  # slow upstream calls keep the job running long enough to cancel
    wallets = MARKET.sample_wallets(46)[43:]
    _log_in(browser, live_stack, _user())
    assert not _find(browser, "cancel-button").is_enabled()

    _submit(browser, "\n".join(wallets))
    _wait(
        browser,
        lambda d: _find(d, "job-status").get_attribute("data-status") == "running",
        UI_TIMEOUT_S,
        "the job to run",
    )
    _find(browser, "cancel-button").click()
    _wait(
        browser,
        lambda d: _find(d, "job-status").get_attribute("data-status") == "cancelled",
        UI_TIMEOUT_S,
        "the job to be cancelled",
    )
    assert "cancelled" in _find(browser, "job-notice").text
    assert not _find(browser, "cancel-button").is_enabled()
    assert not _find(browser, "results").is_displayed()


def test_lab_explains_bad_input_without_reloading(
    live_stack: Stack, browser: WebDriver, screenshots: Path
) -> None:
    [wallet] = MARKET.sample_wallets(1)
    _log_in(browser, live_stack, _user())

    _submit(browser, wallet)
    _wait(browser, _visible("form-error"), UI_TIMEOUT_S, "the error for a single wallet")
    assert "needs at least 2 distinct address(es), got 1" in _find(browser, "form-error-message").text
    [field] = _find_all(browser, "field-error")
    assert field.get_attribute("data-field") == "wallets"

    _submit(browser, f"{wallet}\nnot-a-wallet!")
    _wait(
        browser,
        lambda d: "1 invalid address" in _find(d, "form-error-message").text,
        UI_TIMEOUT_S,
        "the error for a malformed address",
    )
    [field] = _find_all(browser, "field-error")
    assert field.get_attribute("data-field") == "wallets[1]"
    assert "is not base58" in field.text
    assert _find(browser, "wallets-input").get_attribute("aria-invalid") == "true"
    assert not _find(browser, "job-panel").is_displayed()
    assert _same_page(browser)
    _screenshot(browser, screenshots / "lab-bad-input.png")


# A result as the engine writes it (the keys of similarity.engine's to_dict), with a hub, a cluster held by
# funding, a pair with a leader and a pair with funding evidence: rendered by the Lab's own module.
LINKED = [MARKET.sample_wallets(6)[i] for i in range(6)]
FUNDER = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM"


def _pair(a: str, b: str, **scores: Any) -> dict[str, Any]:
    channels = dict.fromkeys(sorted(CHANNELS), 0.0)
    channels.update(scores)
    return {
        "wallet_a": a,
        "wallet_b": b,
        **channels,
        "shared_tokens": [],
        "co_trade_evidence": {
            "count": 0,
            "weighted": 0.0,
            "median_lag_s": None,
            "leader": None,
            "lead_share": None,
        },
        "funding_evidence": None,
    }


def _linked_result() -> dict[str, Any]:
    _hub, a, b, _, leader, follower = LINKED
    funded = _pair(a, b, funding=1.0, combined=0.35)
    funded["funding_evidence"] = {
        "shared_funder": FUNDER,
        "direct": False,
        "transfers": [
            {
                "from": FUNDER,
                "to": a,
                "lamports": 3 * 10**9,
                "sol": 3.0,
                "at": 1_789_000_000,
                "signature": "s1",
            },
            {
                "from": FUNDER,
                "to": b,
                "lamports": 4 * 10**9,
                "sol": 4.0,
                "at": 1_789_000_060,
                "signature": "s2",
            },
        ],
    }
    copied = _pair(leader, follower, co_trade=0.86, combined=0.41)
    copied["co_trade_evidence"] = {
        "count": 28,
        "weighted": 28.0,
        "median_lag_s": 61.0,
        "leader": leader,
        "lead_share": 0.9286,
    }
    copied["shared_tokens"] = [{"mint": FUNDER, "weight_a": 0.1, "weight_b": 0.2, "lag_s": 61}]
    n = len(LINKED)
    identity = [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]
    return {
        "wallets": LINKED,
        "failed_wallets": [],
        "matrices": dict.fromkeys(CHANNELS, identity),
        "pairs": [copied, funded],
        "clusters": [
            {
                "id": 0,
                "wallets": [a, b],
                "mean_combined": 0.35,
                "cohesion": 1.0,
                "reasons": ["funding"],
                "channel_means": {**dict.fromkeys(sorted(CHANNELS - {"combined"}), 0.0), "funding": 1.0},
            }
        ],
        "hubs": [{"wallet": LINKED[0], "links": 15, "groups": 15, "cluster": None}],
        "funders": {},
        "global": {"cluster_threshold": 0.3, "median_similarity": 0.0, "channel_weights": {}},
    }


def test_lab_shows_hubs_cluster_reasons_leaders_and_funding(
    live_stack: Stack, browser: WebDriver, screenshots: Path
) -> None:
    _log_in(browser, live_stack, _user())
    rendered = browser.execute_async_script(
        """
        const [result, done] = arguments;
        const page = document.querySelector('script[type="module"]').src;
        import(new URL("render.js", page).href).then((lab) => {
          const layout = lab.clusterLayout(result);
          lab.renderClusters(document.getElementById("clusters"), result, layout);
          lab.renderPairs(document.getElementById("pairs"), result, new Map(), 50, new Set());
          document.getElementById("results").hidden = false;
          done(true);
        }, (error) => done(String(error)));
        """,
        _linked_result(),
    )
    assert rendered is True, rendered
    hub, *_, leader, _follower = LINKED
    assert [node.get_attribute("data-wallet") for node in _find_all(browser, "hub")] == [hub]
    assert "15 unrelated groups" in _find(browser, "hub").text
    (reasons,) = _find_all(browser, "cluster-reasons")
    assert reasons.get_attribute("data-reasons") == "funding" and "Funding" in reasons.text
    (named,) = _find_all(browser, "pair-leader")
    assert named.get_attribute("data-leader") == leader and "93%" in named.text
    (funding,) = _find_all(browser, "pair-funding")
    assert funding.get_attribute("data-funder") == FUNDER and "same funder" in funding.text
    toggles = _find_all(browser, "pair-evidence-toggle")
    toggles[1].click()
    transfers = _find_all(browser, "funding-transfer")
    assert len(transfers) == 2 and "4.000" in transfers[1].text
    assert _script_errors(browser) == []
    shot = _screenshot(browser, screenshots / "lab-linking.png")
    assert shot.stat().st_size > 10_000

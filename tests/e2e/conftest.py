"""Browser tests: headless Debian Chromium driven by selenium, against the integration tests' live stack.

`live_stack` is the integration fixture's own code, scoped to this package: imported as it is (session scope)
it would start a second stack beside theirs, two sets of workers consuming one broker, and stay up while
the integration tests kill and count workers.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver

from tests.integration import conftest as integration
from tests.integration.conftest import ApiUser, api_user, make_api_user
from tests.support.stack import Stack

__all__ = ["ApiUser", "api_user", "browser", "live_stack", "make_api_user"]

CALL_FAILED = pytest.StashKey[bool]()
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1000",
)


@pytest.fixture(scope="package")
def live_stack(django_db_setup: None, django_db_blocker: Any, artifacts_dir: Path) -> Iterator[Stack]:
    yield from integration.live_stack.__wrapped__(django_db_setup, django_db_blocker, artifacts_dir)  # type: ignore[attr-defined]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    # The browser fixture's teardown reads this to keep a failed test's page and console for the artifacts.
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@pytest.fixture
def browser(request: pytest.FixtureRequest, artifacts_dir: Path) -> Iterator[WebDriver]:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(f"browser tests need {', '.join(missing)}: run ./scripts/test (it installs chromium)")
    profile = Path(tempfile.mkdtemp(prefix="lab-chromium-"))
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    log_dir = artifacts_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(log_dir / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
        if request.node.stash.get(CALL_FAILED, False):
            _keep_evidence(driver, artifacts_dir / "e2e" / f"failed-{request.node.name}")
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _keep_evidence(driver: WebDriver, stem: Path) -> None:
    stem.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(stem.with_suffix(".png")))
    console = "\n".join(f"{entry['level']} {entry['message']}" for entry in driver.get_log("browser"))
    stem.with_suffix(".console.txt").write_text(console + "\n")

"""The synchronous path cannot starve the web tier: everything is checked, and the concurrent calls bounded,
before any work starts (issue 15, item 1).

The bounds are observed from outside: calls go to a live WSGI server from real threads, and "no work" means
the simulated upstream counted no call and no wallet of the refused request reached the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.metrics import metric_counters
from core.redis import SIMULATED_LATENCY_KEY, get_redis
from core.throttles import submit_throttle_reset
from tests.support.stack import wait_for
from wallets.models import Wallet
from wallets.simulated_market import SimulatedMarket

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/analyses/similarity"
MARKET = SimulatedMarket(seed=0)


def upstream_calls() -> int:
    return sum(
        value
        for name, labels, value in metric_counters()
        if name == "upstream_calls_total" and labels.get("api") == "simulated"
    )


def new_token() -> str:
    user = get_user_model().objects.create_user(username=f"sync-{uuid.uuid4().hex[:8]}")
    submit_throttle_reset(user_id=user.pk)
    return Token.objects.create(user=user).key


@pytest.fixture
def client() -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {new_token()}")
    return api


@pytest.fixture
def slow_upstream() -> Iterator[None]:
    """Every simulated upstream call sleeps 150 ms: a call of two wallets lasts a second or more."""
    get_redis().set(SIMULATED_LATENCY_KEY, 150)
    yield
    get_redis().delete(SIMULATED_LATENCY_KEY)


def test_unknown_and_bad_options_are_refused_before_any_upstream_call(client: APIClient) -> None:
    wallets = MARKET.sample_wallets(3)
    before = upstream_calls()

    response = client.post(
        URL, {"wallets": wallets, "options": {"bogus": 1, "cluster_threshold": 7}}, format="json"
    )

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert set(error["fields"]) == {"options.bogus", "options.cluster_threshold"}
    assert upstream_calls() == before
    assert not Wallet.objects.exists()


def test_more_wallets_than_the_synchronous_bound_are_refused_before_any_work(
    client: APIClient, settings: Any
) -> None:
    assert settings.SYNC_ANALYSIS_MAX_WALLETS < settings.MAX_WALLETS_PER_JOB
    wallets = MARKET.sample_wallets(settings.SYNC_ANALYSIS_MAX_WALLETS + 1)
    before = upstream_calls()

    response = client.post(URL, {"wallets": wallets}, format="json")

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert list(error["fields"]) == ["wallets"]
    assert f"at most {settings.SYNC_ANALYSIS_MAX_WALLETS}" in error["message"]
    assert "/jobs/similarity/analyze" in error["message"]
    assert upstream_calls() == before
    assert not Wallet.objects.exists()


def _post(url: str, token: str, wallets: list[str]) -> requests.Response:
    return requests.post(
        url, json={"wallets": wallets}, headers={"Authorization": f"Token {token}"}, timeout=60
    )


def _refused_before_work(response: requests.Response, code: str, wallets: list[str]) -> None:
    assert response.status_code == 429, response.text[:300]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert int(response.headers["Retry-After"]) >= 1
    assert not Wallet.objects.filter(address__in=wallets).exists()


def test_a_second_concurrent_call_of_one_user_is_refused_before_any_work(
    live_server: Any, slow_upstream: None
) -> None:
    url = f"{live_server.url}{URL}"
    token = new_token()
    first_wallets, second_wallets = MARKET.sample_wallets(4)[:2], MARKET.sample_wallets(4)[2:]

    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(_post, url, token, first_wallets)
        # The first call is syncing its first wallet (its row exists) and has seconds of work left.
        wait_for(lambda: Wallet.objects.filter(address=first_wallets[0]).exists(), timeout_s=20, what="sync")
        refused = _post(url, token, second_wallets)
        assert first.result().status_code == 200

    _refused_before_work(refused, "too_many_concurrent_calls", second_wallets)
    # The slot is free again once the first call has answered.
    assert _post(url, token, second_wallets).status_code == 200


def test_calls_beyond_the_total_bound_are_refused_for_every_user(
    live_server: Any, slow_upstream: None, settings: Any
) -> None:
    settings.SYNC_ANALYSIS_MAX_CONCURRENT = 1
    url = f"{live_server.url}{URL}"
    first_wallets, other_wallets = MARKET.sample_wallets(4)[:2], MARKET.sample_wallets(4)[2:]

    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(_post, url, new_token(), first_wallets)
        wait_for(lambda: Wallet.objects.filter(address=first_wallets[0]).exists(), timeout_s=20, what="sync")
        refused = _post(url, new_token(), other_wallets)
        assert first.result().status_code == 200

    _refused_before_work(refused, "server_busy", other_wallets)

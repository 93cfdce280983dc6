"""Enrichment through the real workers (docs/ARCHITECTURE.md §5; README, Using the API): enriched balances
arrive over the WebSocket after the
job completes and are merged into its result; a price source that is down leaves the job completed with
`enrichment.status == "failed"` and a reason."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
import requests
from django.conf import settings

from core.redis import SIMULATED_DEXSCREENER_FAULT_RATE_KEY
from enrichment.models import TokenMetadata
from jobs.models import DeadLetter
from tests.integration.conftest import ApiUser
from tests.support.stack import Stack, wait_for
from tests.support.ws import JobSocket
from wallets.simulated_market import SOL_USD_PRICE, SimulatedMarket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FLOW_TIMEOUT_S = 90
# Three attempts of the enrichment task, 3 s apart (docs/ARCHITECTURE.md §3), plus the job's own run.
ENRICHMENT_FAILURE_TIMEOUT_S = 30
MARKET = SimulatedMarket(seed=0)


@pytest.fixture
def dexscreener_down() -> Iterator[None]:
    client = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    client.set(SIMULATED_DEXSCREENER_FAULT_RATE_KEY, 1.0)
    try:
        yield
    finally:
        client.delete(SIMULATED_DEXSCREENER_FAULT_RATE_KEY)


def _submit(stack: Stack, user: ApiUser, wallets: list[str]) -> str:
    response = requests.post(
        f"{stack.base_url}/jobs/similarity/analyze",
        json={"wallets": wallets},
        headers=user.headers,
        timeout=10,
    )
    assert response.status_code == 202, response.text
    job_id: str = response.json()["job_id"]
    return job_id


def _result(stack: Stack, user: ApiUser, job_id: str) -> dict[str, Any]:
    response = requests.get(f"{stack.base_url}/jobs/{job_id}/result", headers=user.headers, timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_enriched_balances_arrive_after_completion_and_land_in_the_result(
    live_stack: Stack, api_user: ApiUser
) -> None:
    TokenMetadata.objects.all().delete()  # every price comes from the (simulated) upstream this time
    wallets = MARKET.sample_wallets(34)[32:34]  # both hold listed tokens
    with JobSocket(live_stack.ws_url, token=api_user.token) as socket:
        job_id = _submit(live_stack, api_user, wallets)
        socket.subscribe(job_id)
        socket.wait_for(lambda e: e["type"] in {"job-completed", "job-failed"}, timeout_s=FLOW_TIMEOUT_S)
        enriched = socket.wait_for(lambda e: e["type"] == "enrichment-completed", timeout_s=FLOW_TIMEOUT_S)

    types = [event["type"] for event in socket.received]
    assert "job-failed" not in types
    assert types.index("job-completed") < types.index("enrichment-completed")
    assert enriched["job_id"] == job_id and enriched["status"] == "completed"
    assert enriched["sol_price_usd"] == SOL_USD_PRICE
    assert enriched["priced_tokens"] > 0
    assert {balance["wallet"] for balance in enriched["balances"]} == set(wallets)
    tokens = [token for balance in enriched["balances"] for token in balance["tokens"]]
    priced = [token for token in tokens if token["price_usd"] is not None]
    assert priced, tokens
    for token in priced:
        assert token["symbol"] and token["name"] and token["image_url"]
        assert token["price_usd"] > 0
        if token["price_status"] == "unpriced":  # a pool below PRICE_MIN_LIQUIDITY_USD values nothing
            assert (
                token["liquidity_usd"] < 1_000 and token["value_usd"] is None and token["value_sol"] is None
            )
            continue
        assert token["value_usd"] == pytest.approx(token["amount"] * token["price_usd"])
        assert token["value_sol"] == pytest.approx(token["value_usd"] / SOL_USD_PRICE, rel=2e-3)
    assert any(token["price_status"] == "priced" for token in priced)
    for balance in enriched["balances"]:  # totals count usable prices only
        own = [t["value_usd"] for t in balance["tokens"] if t["value_usd"] is not None]
        assert balance["total_value_usd"] == pytest.approx(sum(own) + (balance["sol_value_usd"] or 0.0))

    enrichment = _result(live_stack, api_user, job_id)["result"]["enrichment"]
    assert enrichment == {key: value for key, value in enriched.items() if key not in {"type", "job_id"}}
    stored = TokenMetadata.objects.filter(mint__in={token["mint"] for token in priced})
    assert stored.count() == len({token["mint"] for token in priced})
    assert set(stored.values_list("status", flat=True)) == {TokenMetadata.Status.KNOWN}


def test_price_source_down_leaves_the_job_completed_with_enrichment_failed(
    live_stack: Stack, api_user: ApiUser, dexscreener_down: None
) -> None:
    TokenMetadata.objects.all().delete()  # no fresh rows to answer instead of the failing upstream
    wallets = MARKET.sample_wallets(37)[35:37]
    with JobSocket(live_stack.ws_url, token=api_user.token) as socket:
        job_id = _submit(live_stack, api_user, wallets)
        socket.subscribe(job_id)
        completed = socket.wait_for(
            lambda e: e["type"] in {"job-completed", "job-failed"}, timeout_s=FLOW_TIMEOUT_S
        )
        assert completed["type"] == "job-completed", completed
        announced = socket.wait_for(
            lambda e: e["type"] == "enrichment-completed", timeout_s=ENRICHMENT_FAILURE_TIMEOUT_S
        )

    body = wait_for(
        lambda: (
            (b := _result(live_stack, api_user, job_id))["result"]["enrichment"]["status"] != "pending" and b
        ),
        timeout_s=ENRICHMENT_FAILURE_TIMEOUT_S,
        interval_s=0.5,
        what="the enrichment outcome in the job's result",
    )
    assert body["status"] == "completed"
    assert sorted(body["result"]["wallets"]) == sorted(wallets)
    enrichment = body["result"]["enrichment"]
    assert enrichment["status"] == "failed"
    assert "simulated upstream fault in DexScreener" in enrichment["reason"]
    assert announced["status"] == "failed" and announced["reason"] == enrichment["reason"]
    letter = DeadLetter.objects.get(job_id=job_id, task_name="jobs.enrich_job_balances")
    assert letter.attempts == 3 and letter.queue == "enrichment-operations"

"""Issue 18 must-shows through the real job and workers, on crafted histories served by the fake upstream.

A stack of its own (four queue workers, gunicorn, daphne) runs with `CHAIN_PROVIDER=helius` pointed at a
`FakeUpstream` that serves the crafted wallets (tests/support/crafted.py) over real HTTP, on its own Redis
database so it never shares queues with the session's simulated stack. Each case submits one similarity
job over HTTP and reads the stored result:

- a sniper bot that bought 300 launches plus 15 strangers who each bought one of them 120 s after it: no
  cluster of strangers, and the bot is a hub;
- three wallets funded by one fresh funder, trading different tokens at different times, form a cluster held
  together by `funding`; three wallets funded from an exchange hot wallet do not;
- a copy trader buying 30-90 s after its leader: the pair names the leader with lead_share >= 0.8.
"""

from __future__ import annotations

import os
import random
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from django.conf import settings

from jobs.models import Job
from tests.integration.conftest import ApiUser, _database_url
from tests.support.crafted import CraftedMarket, address, mint_of
from tests.support.fake_upstream import DEFAULT_API_KEY, FakeUpstream
from tests.support.stack import Stack, wait_for
from wallets.custodians import CUSTODIANS

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FLOW_TIMEOUT_S = 150
START = 1_789_000_000  # inside the simulated market's month, so nothing looks out of place
HOUR = 3_600
BINANCE_HOT_WALLET = next(c.address for c in CUSTODIANS if c.exchange == "Binance")

BOT = address("sniper-bot")
STRANGERS = [address(f"stranger-{i}") for i in range(15)]
FRESH_FUNDER = address("fresh-funder")
FUNDED = [address(f"funded-{i}") for i in range(3)]
EXCHANGE_CUSTOMERS = [address(f"exchange-customer-{i}") for i in range(3)]
LEADER = address("copy-leader")
FOLLOWER = address("copy-follower")


def _sniper_case(market: CraftedMarket) -> None:
    launches = [START + 2 * HOUR + k * HOUR for k in range(300)]
    market.fund(BOT, funder=address("bot-funder"), timestamp=START)
    for k, launch in enumerate(launches):
        market.buy(BOT, mint_of(f"launch-{k}"), timestamp=launch + 2)
    for i, stranger in enumerate(STRANGERS):
        market.fund(stranger, funder=address(f"stranger-funder-{i}"), timestamp=START + i)
        market.buy(stranger, mint_of(f"launch-{20 * i}"), timestamp=launches[20 * i] + 2 + 120)


def _funding_case(market: CraftedMarket) -> None:
    for i, wallet in enumerate(FUNDED):
        market.fund(wallet, funder=FRESH_FUNDER, timestamp=START + 60 * i, lamports=(3 + i) * 10**9)
        for k in range(4):  # tokens of its own, days apart from the others'
            market.buy(wallet, mint_of(f"funded-{i}-{k}"), timestamp=START + (1 + i) * 86_400 + k * HOUR)
    for i, wallet in enumerate(EXCHANGE_CUSTOMERS):
        market.fund(wallet, funder=BINANCE_HOT_WALLET, timestamp=START + 300 * i)
        for k in range(4):
            market.buy(wallet, mint_of(f"customer-{i}-{k}"), timestamp=START + (5 + i) * 86_400 + k * HOUR)


def _copy_lags() -> dict[int, int]:
    """The follower's lag behind the leader per copied token: 30-90 s, drawn anew each time (a person, not
    a bot), except twice when it happens to be first; it skips two of the leader's 30 tokens."""
    rng = random.Random(18)
    return {
        k: -10 if k in (3, 17) else rng.randint(30, 90)
        for k in range(30)
        if k % 15 != 14  # the two the follower skipped
    }


COPY_LAGS = _copy_lags()


def _copy_case(market: CraftedMarket) -> None:
    market.fund(LEADER, funder=address("leader-funder"), timestamp=START)
    market.fund(FOLLOWER, funder=address("follower-funder"), timestamp=START + 7)
    for k in range(30):
        at = START + HOUR + k * 5 * HOUR
        market.buy(LEADER, mint_of(f"copied-{k}"), timestamp=at)
        if k in COPY_LAGS:
            market.buy(FOLLOWER, mint_of(f"copied-{k}"), timestamp=at + COPY_LAGS[k])
    for k in range(5):
        market.buy(FOLLOWER, mint_of(f"follower-own-{k}"), timestamp=START + 200 * HOUR + k * HOUR)


@pytest.fixture(scope="module")
def crafted_upstream() -> Iterator[FakeUpstream]:
    market = CraftedMarket()
    _sniper_case(market)
    _funding_case(market)
    _copy_case(market)
    with FakeUpstream(seed=settings.SIMULATED_SEED) as upstream:
        market.serve(upstream)
        yield upstream
        assert upstream.internal_errors == []


class _OwnRedisStack(Stack):
    """A stack whose workers listen on another Redis database than the test process's Celery app."""

    def consumed_queues(self) -> set[str]:
        # The test process's Celery app talks to the other database: each worker's own log says it is up.
        logs = {name: self.log_dir / f"{name}.log" for name in self.processes}
        return {name for name, log in logs.items() if log.exists() and " ready." in log.read_text()}


def _own_redis_database(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/3"))


@pytest.fixture(scope="module")
def linking_stack(
    django_db_setup: None, django_db_blocker: object, crafted_upstream: FakeUpstream, artifacts_dir: Path
) -> Iterator[Stack]:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": _own_redis_database(settings.REDIS_URL),
        "CHAIN_PROVIDER": "helius",
        "HELIUS_API_KEY": DEFAULT_API_KEY,
        "HELIUS_API_URL": crafted_upstream.url,
        "SOLANA_RPC_URL": crafted_upstream.url,
        "DEXSCREENER_API_URL": crafted_upstream.url,
        "HELIUS_RPC_RATE_LIMIT": "2000/second",
        "HELIUS_API_RATE_LIMIT": "2000/second",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    stack = _OwnRedisStack(env=env, log_dir=artifacts_dir / "logs" / "linking")
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def _analyze(stack: Stack, user: ApiUser, wallets: list[str]) -> dict[str, Any]:
    response = requests.post(
        f"{stack.base_url}/jobs/similarity/analyze",
        json={"wallets": wallets},
        headers=user.headers,
        timeout=30,
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    job: Job = wait_for(
        lambda: (j := Job.objects.get(id=job_id)).is_terminal and j,
        timeout_s=FLOW_TIMEOUT_S,
        interval_s=0.2,
        what="the similarity job to end",
    )
    assert job.status == Job.Status.COMPLETED, (job.status, job.error)
    answer = requests.get(f"{stack.base_url}/jobs/{job_id}/result", headers=user.headers, timeout=30)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()["result"]
    assert result["failed_wallets"] == []
    return result


def test_a_sniper_bot_merges_no_strangers_and_is_reported_as_a_hub(
    linking_stack: Stack, api_user: ApiUser
) -> None:
    result = _analyze(linking_stack, api_user, [BOT, *STRANGERS])

    assert result["clusters"] == []
    assert [hub["wallet"] for hub in result["hubs"]] == [BOT]
    assert result["hubs"][0]["groups"] == len(STRANGERS) and result["hubs"][0]["cluster"] is None
    for pair in result["pairs"]:
        assert isinstance(pair["co_trade"], float)  # a score, not the evidence object it used to be
        if BOT in (pair["wallet_a"], pair["wallet_b"]):
            # One co-buy 120 s after the bot: real, but below CO_TRADE_MIN_EVENTS, so co_trade says nothing.
            assert pair["co_trade_evidence"]["count"] == 1 and pair["co_trade"] == 0.0
            assert pair["co_trade_evidence"]["median_lag_s"] == 120.0
            assert pair["co_trade_evidence"]["leader"] == BOT
            assert pair["combined"] < result["global"]["cluster_threshold"]


def test_a_fresh_funders_wallets_cluster_on_funding_and_exchange_customers_do_not(
    linking_stack: Stack, api_user: ApiUser
) -> None:
    result = _analyze(linking_stack, api_user, [*EXCHANGE_CUSTOMERS, *FUNDED])

    (cluster,) = result["clusters"]
    assert sorted(cluster["wallets"]) == sorted(FUNDED)
    assert cluster["reasons"][0] == "funding" and cluster["cohesion"] == 1.0
    assert cluster["channel_means"]["co_trade"] == 0.0 and cluster["channel_means"]["funding"] == 1.0
    funded_pairs = [p for p in result["pairs"] if {p["wallet_a"], p["wallet_b"]} <= set(FUNDED)]
    assert len(funded_pairs) == 3
    for pair in funded_pairs:
        assert pair["funding"] == 1.0
        evidence = pair["funding_evidence"]
        assert evidence["shared_funder"] == FRESH_FUNDER and evidence["direct"] is False
        assert {t["to"] for t in evidence["transfers"]} == {pair["wallet_a"], pair["wallet_b"]}
        assert all(t["from"] == FRESH_FUNDER and t["lamports"] >= 3 * 10**9 for t in evidence["transfers"])
    for wallet in FUNDED:
        assert result["funders"][wallet]["status"] == "funder"
        assert result["funders"][wallet]["funder"] == FRESH_FUNDER
        assert result["funders"][wallet]["history_complete"] is True
    for wallet in EXCHANGE_CUSTOMERS:
        report = result["funders"][wallet]
        assert report["status"] == "ignored" and report["funder"] == BINANCE_HOT_WALLET
        assert "Binance" in report["reason"]
    assert not any(
        p["funding"] for p in result["pairs"] if {p["wallet_a"], p["wallet_b"]} & set(EXCHANGE_CUSTOMERS)
    )


def test_a_copy_trader_names_its_leader_with_a_high_lead_share(
    linking_stack: Stack, api_user: ApiUser
) -> None:
    result = _analyze(linking_stack, api_user, [FOLLOWER, LEADER])

    (pair,) = result["pairs"]
    evidence = pair["co_trade_evidence"]
    assert evidence["count"] == 28
    assert evidence["leader"] == LEADER
    assert evidence["lead_share"] >= 0.8 and evidence["lead_share"] == pytest.approx(26 / 28, abs=1e-4)
    assert 30 <= evidence["median_lag_s"] <= 90
    # 28 co-buys (only the pair bought each: weight 1); those within 30 % of the median lag count, over
    # sqrt(30 x 33) tokens. Its lag wanders over 30-90 s, so only 17 of 28 keep it, and co_trade is 0.19.
    usual = statistics.median(COPY_LAGS.values())
    steady = sum(1 for lag in COPY_LAGS.values() if abs(lag - usual) <= 0.3 * abs(usual))
    assert steady == 17 and evidence["steady_share"] == pytest.approx(steady / 28, abs=1e-4)
    assert pair["co_trade"] == pytest.approx(28 * (2 * steady / 28 - 1) / (30 * 33) ** 0.5, abs=1e-4)
    assert pair["combined"] >= result["global"]["cluster_threshold"]
    (cluster,) = result["clusters"]
    assert sorted(cluster["wallets"]) == sorted([LEADER, FOLLOWER]) and cluster["reasons"][0] == "co_trade"

"""Token metadata in the database (docs/ARCHITECTURE.md §5; README, Using the API): the freshness window
spares upstream calls, unknown tokens
are recorded and not asked for again within it, batches stay at 30 mints, enriched balances carry values,
the 6-hourly refresh, the simulated price source's fault knob and the shared rate limiter."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from django.utils import timezone

from core.http import UpstreamTransientError
from core.redis import (
    SIMULATED_DEXSCREENER_FAULT_RATE_KEY,
    SIMULATED_DEXSCREENER_LATENCY_KEY,
    SIMULATED_FAULT_RATE_KEY,
    enrichment_key,
)
from enrichment.models import TokenMetadata
from enrichment.providers import DexScreenerClient, SimulatedPriceProvider
from enrichment.services import (
    enrichment_enrich_balances,
    enrichment_prices_sol,
    enrichment_quotes,
    token_metadata_refresh,
)
from enrichment.tasks import refresh_token_metadata_task
from tests.support.fake_upstream import FakeUpstream
from wallets.simulated_market import SimulatedMarket
from wallets.swaps import SOL_MINT

pytestmark = pytest.mark.django_db

MARKET = SimulatedMarket(seed=0)
POPDOG = "EATGZHJViJsk7nEKkrdJicwNbfpkJfAtmrEmrjXR8NBj"
UNKNOWN = MARKET.sample_wallets(2)  # valid addresses that are no listed token


def market_mints(count: int, *, skip: int = 0) -> list[str]:
    return [token.mint for token in MARKET.tokens()[skip : skip + count]]


def deep_market_mints(count: int) -> list[str]:
    """Tokens whose simulated pool holds at least PRICE_MIN_LIQUIDITY_USD: their price marks positions."""
    pairs = MARKET.get_dex_pairs(market_mints(30))
    deep = [pair["baseToken"]["address"] for pair in pairs if pair["liquidity"]["usd"] >= 1_000]
    assert len(deep) >= count
    return deep[:count]


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(market=MARKET) as server:
        yield server
        assert server.internal_errors == []


@pytest.fixture
def client(upstream: FakeUpstream) -> DexScreenerClient:
    return DexScreenerClient(
        base_url=upstream.url,
        timeout_s=5.0,
        rate_limit="300/minute",
        rate_limiter=lambda api, limit: None,
        retries=0,
    )


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(django_settings.REDIS_URL, decode_responses=True)
    yield connection
    connection.delete(
        SIMULATED_DEXSCREENER_FAULT_RATE_KEY, SIMULATED_DEXSCREENER_LATENCY_KEY, SIMULATED_FAULT_RATE_KEY
    )


def test_second_call_within_the_window_makes_no_upstream_call(
    upstream: FakeUpstream, client: DexScreenerClient
) -> None:
    mints = [*market_mints(5), SOL_MINT]
    first = enrichment_quotes(mints=mints, provider=client)
    assert upstream.requests_by_route["dexscreener"] == 1

    upstream.reset_counters()
    later = timezone.now() + timedelta(seconds=299)
    second = enrichment_quotes(mints=list(reversed(mints)), provider=client, now=later)

    assert upstream.total_requests == 0
    assert second == first
    assert second[SOL_MINT].price_usd == pytest.approx(100.17)  # the recorded SOL/USDC reference pair

    expired = timezone.now() + timedelta(seconds=301)
    enrichment_quotes(mints=mints, provider=client, now=expired)
    assert upstream.dex_batch_sizes == [len(mints)]


def test_only_missing_or_stale_tokens_are_asked_for(
    upstream: FakeUpstream, client: DexScreenerClient
) -> None:
    cached, new = market_mints(3), market_mints(2, skip=3)
    enrichment_quotes(mints=cached, provider=client)
    upstream.reset_counters()

    quotes = enrichment_quotes(mints=[*cached, *new], provider=client)

    assert set(quotes) == {*cached, *new}
    assert list(upstream.requests_by_path) == [f"/tokens/v1/solana/{','.join(sorted(new))}"]


def test_unknown_tokens_are_recorded_and_not_asked_for_again(
    upstream: FakeUpstream, client: DexScreenerClient
) -> None:
    known = market_mints(2)
    quotes = enrichment_quotes(mints=[*known, *UNKNOWN], provider=client)

    assert set(quotes) == set(known)
    rows = {row.mint: row for row in TokenMetadata.objects.all()}
    assert {mint: rows[mint].status for mint in UNKNOWN} == dict.fromkeys(UNKNOWN, "unknown")
    assert all(rows[mint].price_usd is None for mint in UNKNOWN)
    assert rows[known[0]].status == "known" and rows[known[0]].symbol

    upstream.reset_counters()
    assert enrichment_quotes(mints=UNKNOWN, provider=client) == {}
    assert upstream.total_requests == 0

    enrichment_quotes(mints=UNKNOWN, provider=client, now=timezone.now() + timedelta(minutes=6))
    assert upstream.dex_batch_sizes == [len(UNKNOWN)]  # asked again once the window has passed


def test_a_token_seen_only_on_the_quote_side_is_unknown(
    upstream: FakeUpstream, client: DexScreenerClient
) -> None:
    gudb = "2zcGjrs2eTw3rqpND9jaaXGcW45mTvbFLVWZSKu7Mz8K"  # base of the popdog fixture's third pair
    quotes = enrichment_quotes(mints=[POPDOG], provider=client)

    assert quotes[POPDOG].price_usd == pytest.approx(0.003025)
    assert gudb not in quotes and not TokenMetadata.objects.filter(mint=gudb).exists()


def test_many_mints_go_in_batches_of_at_most_30(upstream: FakeUpstream, client: DexScreenerClient) -> None:
    mints = market_mints(75)

    quotes = enrichment_quotes(mints=[*mints, *mints[:10]], provider=client)

    assert len(quotes) == 75
    assert sorted(upstream.dex_batch_sizes) == [15, 30, 30]
    assert max(upstream.dex_batch_sizes) <= 30


class FailingOnSecondCall:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def get_pairs(self, mints: Sequence[str]) -> list[dict[str, Any]]:
        self.calls.append(list(mints))
        if len(self.calls) == 2:
            raise UpstreamTransientError("DexScreener answered HTTP 503 after retries")
        return MARKET.get_dex_pairs(mints)


def test_a_failure_part_way_keeps_the_batches_that_came_back() -> None:
    mints = sorted(market_mints(45))
    provider = FailingOnSecondCall()

    with pytest.raises(UpstreamTransientError):
        enrichment_quotes(mints=mints, provider=provider)
    assert TokenMetadata.objects.count() == 30

    quotes = enrichment_quotes(mints=mints, provider=provider)  # the task's retry
    assert len(quotes) == 45
    assert provider.calls[2] == mints[30:]


def test_enriched_balances_carry_prices_and_values_and_are_cached(
    upstream: FakeUpstream, client: DexScreenerClient, broker: redis.Redis
) -> None:
    token, other = deep_market_mints(2)
    balances = [
        {
            "wallet": UNKNOWN[0],
            "sol": 2.0,
            "tokens": [
                {"mint": token, "ui_amount": 1000.0},
                {"mint": UNKNOWN[1], "ui_amount": 5.0},
                {"mint": POPDOG, "ui_amount": 100.0},
            ],
        },
        {"wallet": UNKNOWN[1], "sol": 0.5, "tokens": [{"mint": other, "ui_amount": 1.0}]},
    ]

    enriched = enrichment_enrich_balances(job_id="job-1", balances=balances, provider=client)

    assert enriched["status"] == "completed"
    assert enriched["sol_price_usd"] == pytest.approx(100.17)
    assert (enriched["priced_tokens"], enriched["unpriced_tokens"]) == (3, 1)
    first = enriched["balances"][0]
    by_mint = {item["mint"]: item for item in first["tokens"]}
    priced = by_mint[token]
    price_usd = float(MARKET.get_dex_pairs([token])[0]["priceUsd"])
    assert priced["price_usd"] == pytest.approx(price_usd)
    assert priced["value_usd"] == pytest.approx(1000.0 * price_usd)
    assert priced["value_sol"] == pytest.approx(1000.0 * (MARKET.price_sol(token) or 0.0), rel=1e-3)
    assert priced["symbol"] and priced["name"] and priced["image_url"].startswith("https://")
    popdog = by_mint[POPDOG]
    assert (popdog["symbol"], popdog["value_usd"]) == ("POPDOG", pytest.approx(0.3025))
    assert popdog["value_sol"] == pytest.approx(100 * 0.00001655)
    assert by_mint[UNKNOWN[1]] | {"mint": None} == {
        "mint": None,
        "amount": 5.0,
        "symbol": None,
        "name": None,
        "image_url": None,
        "price_usd": None,
        "price_sol": None,
        "price_status": "unpriced",
        "unpriced_reason": "no pair lists the token as its base",
        "value_usd": None,
        "value_sol": None,
        "liquidity_usd": None,
        "market_cap_usd": None,
    }
    assert first["sol_value_usd"] == pytest.approx(2.0 * 100.17)
    assert first["total_value_usd"] == pytest.approx(
        priced["value_usd"] + popdog["value_usd"] + first["sol_value_usd"]
    )
    assert [item["mint"] for item in first["tokens"]][-1] == UNKNOWN[1]  # most valuable first
    assert json.loads(broker.get(enrichment_key("job-1")) or "null") == enriched
    assert 0 < broker.ttl(enrichment_key("job-1")) <= 300


def test_prices_in_sol_for_unrealized_pnl(upstream: FakeUpstream, client: DexScreenerClient) -> None:
    token = deep_market_mints(1)[0]

    prices, sol_usd = enrichment_prices_sol(mints=[token, UNKNOWN[0]], provider=client)

    assert sol_usd == pytest.approx(100.17)
    assert prices == {token: pytest.approx(MARKET.price_sol(token), rel=1e-3)}


def test_refresh_renews_recently_requested_known_tokens_only(
    upstream: FakeUpstream, client: DexScreenerClient
) -> None:
    recent, old = market_mints(3), market_mints(2, skip=3)
    enrichment_quotes(mints=[*recent, *old, *UNKNOWN], provider=client)
    TokenMetadata.objects.filter(mint__in=old).update(last_requested_at=timezone.now() - timedelta(days=30))
    upstream.reset_counters()

    assert token_metadata_refresh(provider=client) == {"refreshed": 0, "now_unknown": 0}  # all fresh
    assert upstream.total_requests == 0

    seven_hours = timezone.now() + timedelta(hours=7)
    assert token_metadata_refresh(provider=client, now=seven_hours) == {"refreshed": 3, "now_unknown": 0}
    assert upstream.requests_by_path == {f"/tokens/v1/solana/{','.join(sorted(recent))}": 1}
    assert set(TokenMetadata.objects.filter(fetched_at=seven_hours).values_list("mint", flat=True)) == set(
        recent
    )
    # A refresh is not a request: the tokens do not look wanted for longer because of it.
    assert not TokenMetadata.objects.filter(last_requested_at=seven_hours).exists()


def test_refresh_task_uses_the_simulated_market_by_default(broker: redis.Redis) -> None:
    mints = market_mints(4)
    enrichment_quotes(mints=mints, provider=SimulatedPriceProvider(seed=0))
    TokenMetadata.objects.update(fetched_at=timezone.now() - timedelta(hours=6), price_usd=None)

    outcome = refresh_token_metadata_task.apply().get()

    assert outcome == {"refreshed": 4, "now_unknown": 0}
    assert not TokenMetadata.objects.filter(price_usd__isnull=True).exists()


def test_refresh_task_retries_a_failing_upstream_then_gives_up(broker: redis.Redis) -> None:
    enrichment_quotes(mints=market_mints(2), provider=SimulatedPriceProvider(seed=0))
    TokenMetadata.objects.update(fetched_at=timezone.now() - timedelta(hours=6))
    broker.set(SIMULATED_DEXSCREENER_FAULT_RATE_KEY, 1.0)

    result = refresh_token_metadata_task.apply()

    assert isinstance(result.result, UpstreamTransientError)
    assert result.state == "FAILURE"


def test_dexscreener_fault_knob_wins_over_the_market_wide_one(broker: redis.Redis) -> None:
    provider = SimulatedPriceProvider(seed=0)
    mints = market_mints(2)
    assert len(provider.get_pairs(mints)) == 2

    broker.set(SIMULATED_DEXSCREENER_FAULT_RATE_KEY, 1.0)
    with pytest.raises(UpstreamTransientError, match="simulated upstream fault in DexScreener"):
        provider.get_pairs(mints)

    broker.set(SIMULATED_DEXSCREENER_FAULT_RATE_KEY, 0)
    broker.set(SIMULATED_FAULT_RATE_KEY, 1.0)
    assert len(provider.get_pairs(mints)) == 2  # the price-only key wins

    broker.delete(SIMULATED_DEXSCREENER_FAULT_RATE_KEY)
    with pytest.raises(UpstreamTransientError):
        provider.get_pairs(mints)  # without it, the market-wide fault rate applies to prices too

    broker.delete(SIMULATED_FAULT_RATE_KEY)
    broker.set(SIMULATED_DEXSCREENER_LATENCY_KEY, 200)
    started = time.monotonic()
    provider.get_pairs(mints)
    assert time.monotonic() - started >= 0.2


def test_the_default_limiter_is_shared_between_clients(upstream: FakeUpstream, broker: redis.Redis) -> None:
    """Two clients (as two workers would hold) draw from one Redis window: 4 calls at 2/second take ~1 s."""
    for key in broker.scan_iter("ratelimit*"):
        broker.delete(key)  # a window left by an earlier run in this Redis database
    clients = [
        DexScreenerClient(base_url=upstream.url, timeout_s=5.0, rate_limit="2/second", retries=0)
        for _ in range(2)
    ]

    started = time.monotonic()
    for index in range(4):
        clients[index % 2].get_pairs(market_mints(1))

    assert time.monotonic() - started >= 0.9
    assert upstream.requests_by_route["dexscreener"] == 4

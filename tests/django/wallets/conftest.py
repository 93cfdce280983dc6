"""Wallet services in-process against the fake upstream over real HTTP, with the real HeliusChainProvider
(urllib3 retries, timeouts, the Redis rate limiter on this run's REDIS_URL) and the database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pytest_django.fixtures import Settings

from core.redis import get_redis
from tests.support.fake_upstream import DEFAULT_API_KEY, FakeUpstream
from wallets.extraction import extract_wallet_swaps
from wallets.models import Swap
from wallets.providers import get_chain_provider
from wallets.simulated_market import SimulatedMarket

BIG_WALLET = "BxS8mTARsT2Qvnp9iXvRAmqPruEPrLfb4RU7nMi7fKev"
MID_WALLET = "A3M6hwyPraHDdczujRFAQJY42nhDjSXQjmhMfxNnFYg2"
SMALL_WALLET = "GtFdUr1oX636jWLDMg9QE7CKw85CeFUdukqy9KyKtfs8"
FIXTURE_WALLET = "3JoVBiQEA2QKsq7TzW5ez5jVRtbbYgTNijoZzp5qgkr2"
HISTORY_SIZES = {BIG_WALLET: 5000, MID_WALLET: 1200, SMALL_WALLET: 400}
GENEROUS_LIMIT = "2000/second"

LegKey = tuple[str, str, str, int, int, str, int | None, int]


@pytest.fixture(scope="session")
def market() -> SimulatedMarket:
    # One market for the session: the 5,000-transaction history is generated once.
    return SimulatedMarket(0, history_sizes=HISTORY_SIZES)


@pytest.fixture
def upstream(market: SimulatedMarket) -> Iterator[FakeUpstream]:
    with FakeUpstream(market=market) as server:
        yield server
        assert server.internal_errors == []


@pytest.fixture(autouse=True)
def whole_histories_in_one_sync(settings: Settings) -> None:
    """These tests sync histories of up to 5,000 transactions whole: a first sync's window covers them all
    (the window and deepening are tested in test_history_depth.py, which sets its own caps)."""
    settings.WALLET_SYNC_INITIAL_SIGNATURES = settings.WALLET_HISTORY_MAX_SIGNATURES


@pytest.fixture(autouse=True)
def clean_redis() -> Iterator[None]:
    # This run's own Redis database: sync locks, rate-limit windows and balance copies start empty.
    get_redis().flushdb()
    yield
    get_redis().flushdb()


@pytest.fixture
def helius(settings: Settings, upstream: FakeUpstream) -> Iterator[FakeUpstream]:
    """Point the real Helius provider at the fake upstream, with path prefixes as real base URLs may have."""
    settings.CHAIN_PROVIDER = "helius"
    settings.HELIUS_API_KEY = DEFAULT_API_KEY
    settings.HELIUS_API_URL = upstream.url + "/helius"
    settings.SOLANA_RPC_URL = upstream.url + "/rpc/mainnet"
    settings.HELIUS_RPC_RATE_LIMIT = GENEROUS_LIMIT
    settings.HELIUS_API_RATE_LIMIT = GENEROUS_LIMIT
    settings.UPSTREAM_TIMEOUT_S = 10.0
    get_chain_provider.cache_clear()
    yield upstream
    get_chain_provider.cache_clear()


def upstream_history(upstream: FakeUpstream, address: str) -> list[dict[str, Any]]:
    """Every transaction of the wallet, failed ones included (their fees were paid), read straight from the
    fake's data (no HTTP)."""
    if address in upstream.fixtures.wallets:
        return list(upstream.fixtures.wallets[address])
    entries: list[dict[str, Any]] = []
    before: str | None = None
    while True:
        page = upstream.market.get_signatures(address, before=before, limit=1000)
        entries.extend(page)
        if len(page) < 1000:
            break
        before = page[-1]["signature"]
    signatures = [entry["signature"] for entry in entries]
    return [
        tx
        for start in range(0, len(signatures), 100)
        for tx in upstream.market.get_transactions(signatures[start : start + 100])
    ]


def expected_legs(upstream: FakeUpstream, address: str) -> set[LegKey]:
    legs = extract_wallet_swaps(upstream_history(upstream, address), address).legs
    return {
        (
            leg.signature,
            leg.mint,
            leg.direction,
            leg.token_amount_raw,
            leg.quote_amount_raw,
            leg.quote_mint or "",
            leg.sol_value_lamports,
            leg.fee_lamports,
        )
        for leg in legs
    }


def stored_legs(address: str) -> set[LegKey]:
    rows = Swap.objects.filter(wallet_id=address).values_list(
        "signature",
        "mint",
        "direction",
        "token_amount_raw",
        "quote_amount_raw",
        "quote_mint",
        "sol_value_lamports",
        "fee_lamports",
    )
    keys = {(s, m, d, int(t), int(q), qm, v, f) for s, m, d, t, q, qm, v, f in rows}
    assert len(keys) == Swap.objects.filter(wallet_id=address).count()
    return keys

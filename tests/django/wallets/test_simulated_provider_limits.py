"""The simulated market behind the provider interface retries like the Helius client and, with
SIMULATED_RATE_LIMITS, takes a slot of the Helius limits for every attempt (a benchmark bound by the
upstream's limits needs both)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import pytest
from pytest_django.fixtures import Settings

from core.http import UpstreamTransientError
from core.ratelimit import rate_limit_acquire
from core.upstream import RetryPolicy
from enrichment.providers import get_price_provider, get_sol_usd_history_provider
from wallets.providers import SimulatedChainProvider, get_chain_provider

WALLET = "GtFdUr1oX636jWLDMg9QE7CKw85CeFUdukqy9KyKtfs8"
BIG = "BxS8mTARsT2Qvnp9iXvRAmqPruEPrLfb4RU7nMi7fKev"  # 500+ transactions in the default market


@pytest.fixture
def fresh_providers() -> Iterator[None]:
    for cached in (get_chain_provider, get_price_provider, get_sol_usd_history_provider):
        cached.cache_clear()
    yield
    for cached in (get_chain_provider, get_price_provider, get_sol_usd_history_provider):
        cached.cache_clear()


def test_a_flaky_simulated_upstream_is_retried_with_a_slot_per_attempt() -> None:
    slots: Counter[str] = Counter()
    provider = SimulatedChainProvider(
        seed=0,
        latency_ms=0,
        fault_rate=0.3,
        retry=RetryPolicy(retries=8, backoff_factor=0.0),
        rate_limits={"helius-rpc": "5/second", "helius-api": "1/second"},
        rate_limiter=lambda api, limit: slots.update([f"{api} {limit}"]),
    )

    signatures = [entry["signature"] for entry in provider.get_signatures(WALLET, limit=100)]
    transactions = [provider.get_transactions(signatures) for _ in range(10)]
    balances = {provider.get_sol_balance(WALLET) for _ in range(30)}

    assert all(len(batch) == len(signatures) for batch in transactions)
    assert balances == {provider.market.get_sol_balance(WALLET)}
    # 41 calls answered; with 30 % faults the attempts (each with its slot) were many more.
    assert slots["helius-api 1/second"] >= 10 and slots["helius-rpc 5/second"] >= 31
    assert sum(slots.values()) > 41


def test_without_retries_a_fault_reaches_the_caller() -> None:
    provider = SimulatedChainProvider(seed=0, latency_ms=0, fault_rate=1.0)

    with pytest.raises(UpstreamTransientError, match="HTTP 503"):
        provider.get_sol_balance(WALLET)


def test_the_settings_give_the_simulated_upstreams_the_real_limits_and_retries(
    settings: Settings, fresh_providers: None
) -> None:
    settings.CHAIN_PROVIDER = "simulated"
    settings.SIMULATED_RATE_LIMITS = True
    settings.HELIUS_RPC_RATE_LIMIT = "11/second"
    settings.HELIUS_API_RATE_LIMIT = "3/second"
    settings.DEXSCREENER_RATE_LIMIT = "120/minute"
    settings.SOL_PRICE_HISTORY_RATE_LIMIT = "90/10seconds"
    settings.UPSTREAM_RETRIES = 4
    settings.UPSTREAM_RETRY_BACKOFF_S = 0.25

    chain = get_chain_provider()
    prices = get_price_provider()
    history = get_sol_usd_history_provider()

    assert isinstance(chain, SimulatedChainProvider)
    assert chain.rate_limits == {"helius-rpc": "11/second", "helius-api": "3/second"}
    assert chain.rate_limiter is rate_limit_acquire
    assert chain.retry == RetryPolicy(retries=4, backoff_factor=0.25, max_retry_after_s=30.0)
    assert getattr(prices, "rate_limit", None) == "120/minute"
    assert getattr(history, "rate_limit", None) == "90/10seconds"


def test_by_default_the_simulated_market_answers_at_its_own_pace(
    settings: Settings, fresh_providers: None
) -> None:
    settings.CHAIN_PROVIDER = "simulated"
    settings.SIMULATED_RATE_LIMITS = False

    chain = get_chain_provider()

    assert isinstance(chain, SimulatedChainProvider)
    assert chain.rate_limits == {}
    assert getattr(get_price_provider(), "rate_limit", None) == ""


def test_transactions_come_100_a_call_three_calls_at_once_in_request_order() -> None:
    slots: list[str] = []
    provider = SimulatedChainProvider(
        seed=0,
        latency_ms=300,
        fault_rate=0.0,
        rate_limits={"helius-api": "1/second"},
        rate_limiter=lambda api, limit: slots.append(api),
    )
    signatures = [entry["signature"] for entry in provider.market.get_signatures(BIG, limit=250)]

    started = time.monotonic()
    transactions = provider.get_transactions(signatures)
    elapsed = time.monotonic() - started

    assert [tx["signature"] for tx in transactions] == signatures
    assert slots == ["helius-api"] * 3  # 100, 100 and 50 signatures
    assert elapsed < 0.8  # one after the other they take 0.9 s: the three ran at once

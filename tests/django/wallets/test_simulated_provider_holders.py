"""The simulated chain provider answers the token-holder calls like the Helius one: supply (a non-mint is a
fatal upstream error), DAS token accounts by page, account owners in batches, with its latency and faults."""

from __future__ import annotations

import pytest

from core.http import UpstreamFatalError, UpstreamTransientError
from wallets.providers import SimulatedChainProvider


@pytest.fixture(scope="module")
def provider() -> SimulatedChainProvider:
    return SimulatedChainProvider(seed=0, latency_ms=0, fault_rate=0.0)


def test_supply_of_a_launch_and_a_fatal_error_for_a_wallet(provider: SimulatedChainProvider) -> None:
    bundled = next(item for item in provider.market.launches() if item.kind == "bundled")
    assert int(provider.get_token_supply(bundled.mint)["amount"]) == bundled.supply_raw
    with pytest.raises(UpstreamFatalError, match="not a Token mint"):
        provider.get_token_supply(bundled.creator)


def test_token_accounts_and_account_owners(provider: SimulatedChainProvider) -> None:
    bundled = next(item for item in provider.market.launches() if item.kind == "bundled")
    page = provider.get_mint_token_accounts(bundled.mint, page=1, limit=5)
    assert page["total"] == 5 and page["token_accounts"][0]["owner"] == bundled.pool
    owners = [account["owner"] for account in page["token_accounts"]] * 30
    assert len(provider.get_multiple_accounts(owners)) == 150


def test_the_configured_fault_rate_applies(provider: SimulatedChainProvider) -> None:
    flaky = SimulatedChainProvider(seed=0, latency_ms=0, fault_rate=1.0)
    flaky.market = provider.market
    with pytest.raises(UpstreamTransientError):
        flaky.get_mint_token_accounts(flaky.market.launches()[0].mint, page=1)

"""A mint read through the real Helius provider from the fake upstream (wallets.mint_services): supply,
holders with the pool set apart, the creation and the first buyers; a non-mint fails clearly; the
million-holder mint stops at its bounds and says so."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from tests.support.fake_upstream import FakeUpstream
from wallets import mint_services
from wallets.mint_services import (
    OFF_CURVE,
    SYSTEM_PROGRAM,
    NotATokenMintError,
    mint_account_owners,
    mint_discover,
)
from wallets.simulated_market import Launch, SimulatedMarket

pytestmark = pytest.mark.django_db


def launch(market: SimulatedMarket, kind: str) -> Launch:
    return next(item for item in market.launches() if item.kind == kind)


def no_checkpoint() -> None:
    return None


def test_a_launch_reads_as_its_supply_holders_pool_creation_and_first_buyers(
    helius: FakeUpstream, market: SimulatedMarket
) -> None:
    bundled = launch(market, "bundled")
    found = mint_discover(
        mint=bundled.mint, top=50, early=10, max_accounts=1000, max_signatures=5000, checkpoint=no_checkpoint
    )
    assert (found.supply.amount_raw, found.supply.decimals) == (bundled.supply_raw, bundled.decimals)
    accounts = market.get_mint_token_accounts(bundled.mint, page=1, limit=1000)["token_accounts"]
    held = {a["owner"]: a["amount"] for a in accounts if a["owner"] != bundled.pool}
    assert dict(found.ranked.wallets) == held
    assert [amount for _, amount in found.ranked.wallets] == sorted(held.values(), reverse=True)
    ((pool, pool_amount, program),) = found.ranked.pools
    assert pool == bundled.pool and pool_amount + sum(held.values()) == bundled.supply_raw
    assert program not in (SYSTEM_PROGRAM, OFF_CURVE)
    assert found.accounts.capped is False and found.history.reached_first is True and found.notes == []
    creation = found.early.creation
    assert creation is not None
    assert (creation.creator, creation.slot) == (bundled.creator, bundled.creation_slot)
    first = sorted(bundled.participants, key=lambda p: (p.first_buy_at, p.first_buy_slot))[:10]
    assert [(b.wallet, b.slot, b.timestamp) for b in found.early.buys] == [
        (p.wallet, p.first_buy_slot, p.first_buy_at) for p in first
    ]
    assert found.to_dict()["creation"]["creator"] == bundled.creator


def test_a_wallet_is_not_a_token_mint(helius: FakeUpstream, market: SimulatedMarket) -> None:
    wallet = market.sample_wallets(1)[0]
    with pytest.raises(NotATokenMintError, match=rf"{wallet} is not a token mint .*Invalid param"):
        mint_discover(
            mint=wallet, top=5, early=5, max_accounts=1000, max_signatures=1000, checkpoint=no_checkpoint
        )
    assert [method for method, _ in helius.rpc_calls] == ["getTokenSupply"]


def test_the_million_holder_mint_stops_at_its_bounds_and_says_which(
    helius: FakeUpstream, market: SimulatedMarket
) -> None:
    mega = launch(market, "mega")
    found = mint_discover(
        mint=mega.mint, top=20, early=20, max_accounts=2500, max_signatures=3000, checkpoint=no_checkpoint
    )
    assert found.accounts.capped is True and found.accounts.accounts_read == 2500
    assert found.accounts.pages == 3  # 1,000 + 1,000 + a last page asked for the 500 left
    assert len(found.ranked.wallets) == 20 and found.ranked.owners_checked == 100
    assert found.history.reached_first is False and found.history.signatures_read == 3000
    assert found.early.creation is None and found.early.buys == []
    assert any("HOLDERS_MAX_ACCOUNTS" in note for note in found.notes)
    assert any("HOLDERS_MAX_MINT_SIGNATURES" in note for note in found.notes)
    # Paging stopped at the bounds: 3 DAS pages, 3 signature pages, no enhanced transactions.
    methods = [method for method, _ in helius.rpc_calls]
    assert methods.count("getTokenAccounts") == 3 and methods.count("getSignaturesForAddress") == 3
    assert helius.requests_by_route["transactions"] == 0


class _Accounts:
    """Answers `getMultipleAccounts` with what a test says: a program-owned account, a system account, or
    none at all."""

    def __init__(self, answers: dict[str, dict[str, Any] | None]) -> None:
        self.answers = answers

    def get_multiple_accounts(self, addresses: Sequence[str]) -> list[dict[str, Any] | None]:
        return [self.answers[address] for address in addresses]


def test_owners_without_an_account_are_wallets_on_the_curve_and_pools_off_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wallet_gone = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"  # on the curve, spent all its SOL
    pda_gone = "4wTV1YmiEkRvAtNtsSGPtUrqRYQMe5SKy2uB4Jjaxnjf"  # off the curve, no account
    curve, system_pda = (
        "CurveProgramAccount1111111111111111111111111",
        "5Q544fKrFoe6tsEbD7S8EmxGTJYAKtTVhAW5Q5pge4j1",
    )
    answers: dict[str, dict[str, Any] | None] = {
        wallet_gone: None,
        pda_gone: None,
        curve: {"owner": "6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P"},
        system_pda: {"owner": SYSTEM_PROGRAM},
    }
    monkeypatch.setattr(mint_services, "get_chain_provider", lambda: _Accounts(answers))
    assert mint_account_owners(addresses=list(answers)) == {
        wallet_gone: None,
        pda_gone: OFF_CURVE,
        curve: "6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P",
        system_pda: "Raydium AMM v4 authority",
    }

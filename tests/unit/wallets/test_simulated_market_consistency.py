"""Every simulated transaction balances: lamports and tokens are conserved, the wallet's SOL change is what
its legs, fee, tip and rent say, failed attempts still pay their fee, token accounts open and close."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from wallets.extraction import extract_swaps
from wallets.simulated_market import (
    TOKEN_2022_ACCOUNT_RENT,
    TOKEN_ACCOUNT_RENT,
    Archetype,
    SimulatedMarket,
    b58encode,
)
from wallets.simulated_market.universe import JITO_TIP_ACCOUNTS, SYSTEM_PROGRAM
from wallets.swaps import SOL_MINT, USDC_MINT

ARCHETYPES: tuple[Archetype, ...] = ("flipper", "holder", "sniper", "bot")
RENTS = (TOKEN_ACCOUNT_RENT, TOKEN_2022_ACCOUNT_RENT)


@cache
def market() -> SimulatedMarket:
    return SimulatedMarket(seed=0)


@cache
def wallets() -> tuple[str, ...]:
    m = market()
    picked = [w for archetype in ARCHETYPES for w in m.sample_wallets(2, archetype=archetype)]
    family = m.families()[0]
    funded = next(f for f in m.families() if f.kind == "funded")
    stable = next(
        w for w in m.sample_wallets(30) if any(t.quote_mint == USDC_MINT for t in m.intended_trades(w))
    )
    assert funded.funder is not None
    bundled = next(item for item in m.launches() if item.kind == "bundled")
    bundler = next(p.wallet for p in bundled.participants if p.role == "bundler")
    insiders = [p.wallet for p in bundled.participants if p.role == "insider"]
    return (
        *picked,
        family.leader,
        family.members[1],
        stable,
        m.sniper_bots()[0],
        funded.members[0],
        funded.funder,
        bundled.creator,
        bundler,
        *insiders,
    )


def history(m: SimulatedMarket, wallet: str) -> Iterator[dict[str, Any]]:
    """The wallet's enhanced transactions, oldest first."""
    signatures: list[str] = []
    before: str | None = None
    while True:
        page = m.get_signatures(wallet, before=before)
        signatures += [entry["signature"] for entry in page]
        if len(page) < 1000:
            break
        before = page[-1]["signature"]
    signatures.reverse()
    for start in range(0, len(signatures), 100):
        yield from m.get_transactions(signatures[start : start + 100])


def wallet_entry(tx: dict[str, Any], wallet: str) -> dict[str, Any]:
    (entry,) = [entry for entry in tx["accountData"] if entry["account"] == wallet]
    return entry


def sol_and_wsol_change(tx: dict[str, Any], wallet: str) -> int:
    change = wallet_entry(tx, wallet)["nativeBalanceChange"]
    for entry in tx["accountData"]:
        for token in entry["tokenBalanceChanges"]:
            if token["userAccount"] == wallet and token["mint"] == SOL_MINT:
                change += int(token["rawTokenAmount"]["tokenAmount"])
    return change


def rent_deposited(tx: dict[str, Any], wallet: str) -> int:
    """Lamports the wallet moved into its own token accounts (rent), minus what they refunded to it."""
    own_accounts = {
        token["tokenAccount"]
        for entry in tx["accountData"]
        for token in entry["tokenBalanceChanges"]
        if token["userAccount"] == wallet and token["mint"] != SOL_MINT
    }
    deposited = 0
    for transfer in tx["nativeTransfers"]:
        if transfer["fromUserAccount"] == wallet and transfer["toUserAccount"] in own_accounts:
            deposited += transfer["amount"]
        elif transfer["toUserAccount"] == wallet and transfer["fromUserAccount"] in own_accounts:
            deposited -= transfer["amount"]
    return deposited


@pytest.mark.parametrize("index", range(18))
def test_every_transaction_conserves_lamports_and_tokens(index: int) -> None:
    m = market()
    for tx in history(m, wallets()[index]):
        assert sum(entry["nativeBalanceChange"] for entry in tx["accountData"]) == -tx["fee"]
        by_mint: dict[str, int] = defaultdict(int)
        for entry in tx["accountData"]:
            for token in entry["tokenBalanceChanges"]:
                by_mint[token["mint"]] += int(token["rawTokenAmount"]["tokenAmount"])
        # WSOL is lamports: wrapping SOL into a temporary account that is closed in the same transaction
        # shows only on the pool's side, exactly as on chain. Its lamports are conserved above.
        by_mint.pop(SOL_MINT, None)
        if tx["type"] == "CREATE":  # a creation mints the supply: it appears, all of it in the pool's account
            (minted,) = by_mint.values()
            assert minted > 0
            continue
        assert all(total == 0 for total in by_mint.values()), tx["signature"]


def check_reconciliation(m: SimulatedMarket, wallet: str) -> int:
    """Per transaction with SOL-quoted legs: the legs' cash flow equals the wallet's SOL + WSOL change with
    rent added back, to the lamport. Returns how many transactions were checked."""
    checked = 0
    for tx in history(m, wallet):
        legs = extract_swaps(tx, wallet)
        if not legs or any(leg.quote_mint != SOL_MINT for leg in legs):
            continue
        cash = sum(leg.quote_amount_raw if leg.direction == "sell" else -leg.quote_amount_raw for leg in legs)
        cash -= sum(leg.fee_lamports for leg in legs)
        assert cash == sol_and_wsol_change(tx, wallet) + rent_deposited(tx, wallet), tx["signature"]
        checked += 1
    return checked


def test_sol_quoted_histories_reconcile_to_the_lamport() -> None:
    m = market()
    assert sum(check_reconciliation(m, wallet) for wallet in wallets()) > 500


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.binary(min_size=32, max_size=32))
def test_any_wallets_history_reconciles_to_the_lamport(key: bytes) -> None:
    wallet = b58encode(key)
    assume(wallet != SYSTEM_PROGRAM)  # all zeros: a wallet cannot be the system program it calls
    check_reconciliation(market(), wallet)


def test_failed_attempts_pay_their_fee_and_bots_fail_often() -> None:
    m = market()
    failed_share: dict[str, list[float]] = defaultdict(list)
    for archetype in ARCHETYPES:
        for wallet in m.sample_wallets(3, archetype=archetype):
            entries = m.get_signatures(wallet)
            failed = [entry for entry in entries if entry["err"] is not None]
            failed_share[archetype].append(len(failed) / len(entries))
            for tx in m.get_transactions([entry["signature"] for entry in failed[:100]]):
                assert tx["feePayer"] == wallet
                assert tx["fee"] > 5_000  # the priority fee is paid too
                assert wallet_entry(tx, wallet)["nativeBalanceChange"] == -tx["fee"]
                assert tx["tokenTransfers"] == [] and tx["nativeTransfers"] == []
    assert min(failed_share["bot"]) >= 0.15
    assert max(failed_share["holder"]) <= 0.1
    assert sum(failed_share["bot"]) > sum(failed_share["sniper"]) > sum(failed_share["flipper"])


def test_token_accounts_open_with_rent_and_close_with_a_refund() -> None:
    m = market()
    opened = closed = 0
    for wallet in wallets():
        open_accounts: set[str] = set()
        for trade in m.intended_trades(wallet):
            if trade.opened_account:
                assert trade.direction == "buy" and trade.mint not in open_accounts
                open_accounts.add(trade.mint)
                opened += 1
            if trade.closed_account:
                assert trade.direction == "sell" and trade.mint in open_accounts
                open_accounts.remove(trade.mint)
                closed += 1
        held = {
            entry["account"]["data"]["parsed"]["info"]["mint"]
            for entry in m.get_token_accounts(wallet)
            if entry["account"]["data"]["parsed"]["info"]["mint"] not in (SOL_MINT, USDC_MINT)
        }
        assert held <= open_accounts  # a dust bag keeps its account open
    assert opened > 100 and closed > 100


def test_tips_go_to_jito_tip_accounts() -> None:
    m = market()
    tipped = 0
    for wallet in m.sample_wallets(2, archetype="bot"):
        trades = {trade.signature: trade for trade in m.intended_trades(wallet) if trade.tip_lamports}
        for tx in m.get_transactions(list(trades)[:100]):
            (tip,) = [t for t in tx["nativeTransfers"] if t["toUserAccount"] in JITO_TIP_ACCOUNTS]
            assert tip["fromUserAccount"] == wallet
            assert tip["amount"] == trades[tx["signature"]].tip_lamports
            tipped += 1
    assert tipped > 50

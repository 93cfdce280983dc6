"""Buys of a mint and its creation, read from the mint's own transactions (wallets.mints), and the curve test
that tells a wallet's address from a program-derived one (wallets.addresses.is_on_curve)."""

from __future__ import annotations

from typing import Any

import pytest

from wallets.addresses import InvalidAddressError, is_on_curve
from wallets.custodians import CUSTODIANS
from wallets.mints import first_buys, mint_buys, mint_creation
from wallets.simulated_market import SimulatedMarket
from wallets.swaps import SOL_MINT

MINT, OTHER_MINT = "mint-address", "other-mint"


def tx(signature: str, *entries: dict[str, Any], error: Any = None, fee_payer: str = "") -> dict[str, Any]:
    return {
        "signature": signature,
        "slot": 100,
        "timestamp": 1_700_000_000,
        "feePayer": fee_payer,
        "transactionError": error,
        "accountData": list(entries),
    }


def account(owner: str, native: int, *changes: tuple[str, int]) -> dict[str, Any]:
    return {
        "account": owner,
        "nativeBalanceChange": native,
        "tokenBalanceChanges": [
            {
                "userAccount": owner,
                "tokenAccount": f"{owner}-{mint}",
                "mint": mint,
                "rawTokenAmount": {"tokenAmount": str(raw), "decimals": 6},
            }
            for mint, raw in changes
        ],
    }


def test_a_buy_is_tokens_in_while_paying_sol_or_another_token() -> None:
    transactions = [
        tx("sol", account("a", -1_000_000, (MINT, 500))),
        tx("wsol", account("b", -5_000, (MINT, 400), (SOL_MINT, -900_000))),
        tx("swap", account("c", -5_000, (MINT, 300), (OTHER_MINT, -70))),
        tx("gift", account("d", 0, (MINT, 200))),  # a transfer in: the receiver paid nothing
        tx("sell", account("e", 2_000_000, (MINT, -100))),
        tx("failed", account("f", -5_000, (MINT, 100)), error={"InstructionError": [0, "Custom"]}),
    ]
    buys = mint_buys(transactions, MINT)
    assert [(buy.wallet, buy.signature, buy.amount_raw) for buy in buys] == [
        ("a", "sol", 500),
        ("b", "wsol", 400),
        ("c", "swap", 300),
    ]


def test_first_buys_keep_each_wallets_first_in_order() -> None:
    transactions = [
        tx("1", account("a", -1, (MINT, 5))),
        tx("2", account("b", -1, (MINT, 5))),
        tx("3", account("a", -1, (MINT, 7))),
    ]
    assert [(w, b.signature) for w, b in first_buys(mint_buys(transactions, MINT)).items()] == [
        ("a", "1"),
        ("b", "2"),
    ]


def test_the_creation_is_the_oldest_successful_transaction_and_its_fee_payer_the_creator() -> None:
    transactions = [
        tx("failed", error={"err": 1}, fee_payer="someone"),
        tx("created", account("dev", -3_000_000, (MINT, 10)), fee_payer="dev"),
    ]
    creation = mint_creation(transactions)
    assert creation is not None and (creation.creator, creation.signature) == ("dev", "created")
    assert mint_creation([]) is None


def test_the_simulated_launch_buyers_come_out_in_the_order_they_bought() -> None:
    market = SimulatedMarket(seed=0)
    bundled = next(item for item in market.launches() if item.kind == "bundled")
    entries = list(reversed(market.get_signatures(bundled.mint, limit=1000)))
    signatures = [entry["signature"] for entry in entries if entry["err"] is None]
    transactions = [
        t for i in range(0, len(signatures), 100) for t in market.get_transactions(signatures[i : i + 100])
    ]
    creation = mint_creation(transactions)
    assert creation is not None and creation.creator == bundled.creator
    assert creation.slot == bundled.creation_slot
    buyers = [
        b for b in first_buys(mint_buys(transactions, bundled.mint)).values() if b.wallet != bundled.pool
    ]
    expected = sorted(bundled.participants, key=lambda p: (p.first_buy_at, p.first_buy_slot))
    assert {b.wallet: b.slot for b in buyers} == {p.wallet: p.first_buy_slot for p in expected}
    assert buyers[0].wallet == bundled.creator


def test_wallet_addresses_lie_on_the_curve_and_program_derived_ones_do_not() -> None:
    assert all(is_on_curve(entry.address) for entry in CUSTODIANS)  # exchange hot wallets: keypairs
    assert not is_on_curve("5Q544fKrFoe6tsEbD7S8EmxGTJYAKtTVhAW5Q5pge4j1")  # Raydium AMM v4 authority (PDA)
    assert not is_on_curve("4wTV1YmiEkRvAtNtsSGPtUrqRYQMe5SKy2uB4Jjaxnjf")  # pump.fun's global state (PDA)
    with pytest.raises(InvalidAddressError):
        is_on_curve("not-an-address")

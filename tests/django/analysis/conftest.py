"""Swaps written straight into the database, so every expectation can be worked out by hand."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime

import base58
import pytest

from wallets.models import BalanceSnapshot, Swap, Wallet
from wallets.simulated_market import SimulatedMarket
from wallets.swaps import LAMPORTS_PER_SOL, SOL_MINT

MARKET = SimulatedMarket(seed=0)
# A token the simulated DexScreener prices with a pool deep enough to mark positions, and one it has never
# heard of.
PRICED = next(
    token
    for token in MARKET.tokens()
    if MARKET.get_dex_pairs([token.mint])[0]["liquidity"]["usd"] >= 1_000 and token.decimals == 6
)
UNPRICED_MINT = base58.b58encode(b"\x07" * 32).decode()
UNIT = 10**6  # both test tokens have 6 decimals
T0 = 1_790_000_000

_counter = itertools.count()


def address(n: int) -> str:
    return base58.b58encode(bytes([n]) * 32).decode()


AddLeg = Callable[..., Swap]


@pytest.fixture
def add_leg() -> AddLeg:
    def add(
        wallet: str,
        *,
        mint: str,
        direction: str,
        qty: float,
        sol: float,
        ts: int,
        fee_lamports: int = 5_000,
    ) -> Swap:
        Wallet.objects.get_or_create(address=wallet)
        return Swap.objects.create(
            wallet_id=wallet,
            signature=f"sig{next(_counter)}",
            slot=ts * 2,
            timestamp=ts,
            mint=mint,
            direction=direction,
            token_amount_raw=int(qty * UNIT),
            token_decimals=6,
            quote_mint=SOL_MINT,
            quote_amount_raw=int(sol * LAMPORTS_PER_SOL),
            quote_decimals=9,
            sol_value_lamports=int(sol * LAMPORTS_PER_SOL),
            fee_lamports=fee_lamports,
            source="TEST",
        )

    return add


@pytest.fixture
def add_snapshot() -> Callable[..., BalanceSnapshot]:
    def add(wallet: str, *, at: int, holdings: dict[str, float]) -> BalanceSnapshot:
        Wallet.objects.get_or_create(address=wallet)
        return BalanceSnapshot.objects.create(
            wallet_id=wallet,
            fetched_at=datetime.fromtimestamp(at, tz=UTC),
            sol_lamports=LAMPORTS_PER_SOL,
            tokens=[
                {"mint": mint, "amount_raw": str(int(qty * UNIT)), "decimals": 6, "ui_amount": qty}
                for mint, qty in holdings.items()
            ],
        )

    return add

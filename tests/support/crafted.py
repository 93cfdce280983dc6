"""Crafted wallet histories in the Helius enhanced-transaction format the simulated market emits.

For scenarios the market does not hold as such (a sniper bot and strangers, a fresh funder's wallets, a copy
trader with a chosen lag), served by `FakeUpstream.add_history` and synced through the real client. Every
transaction balances like the market's: the fee payer's `nativeBalanceChange` is what its transfers, rent
and fee say, so `wallets.extraction` and `wallets.transfers` read them as they read real ones.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import base58

from wallets.simulated_market import slot_at

SOL_MINT = "So11111111111111111111111111111111111111112"
SYSTEM_PROGRAM = "11111111111111111111111111111111"
TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
RAYDIUM_PROGRAM = "675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8"
FEE_LAMPORTS = 5_000
TOKEN_ACCOUNT_RENT = 2_039_280
TOKEN_DECIMALS = 6


def address(label: str) -> str:
    """A valid base58 32-byte address, the same for the same label in every process."""
    return str(base58.b58encode(hashlib.sha256(f"crafted-address:{label}".encode()).digest()).decode())


def _signature(label: str) -> str:
    digest = hashlib.sha512(f"crafted-signature:{label}".encode()).digest()
    return str(base58.b58encode(digest).decode())


def _account(account: str, native_change: int, *token_changes: dict[str, Any]) -> dict[str, Any]:
    return {
        "account": account,
        "nativeBalanceChange": native_change,
        "tokenBalanceChanges": list(token_changes),
    }


def _token_change(owner: str, account: str, mint: str, raw: int) -> dict[str, Any]:
    return {
        "userAccount": owner,
        "tokenAccount": account,
        "rawTokenAmount": {"tokenAmount": str(raw), "decimals": TOKEN_DECIMALS},
        "mint": mint,
    }


def _envelope(signature: str, timestamp: int, *, kind: str, source: str, fee_payer: str) -> dict[str, Any]:
    return {
        "description": "",
        "type": kind,
        "source": source,
        "fee": FEE_LAMPORTS,
        "feePayer": fee_payer,
        "signature": signature,
        "slot": slot_at(timestamp),
        "timestamp": timestamp,
        "tokenTransfers": [],
        "nativeTransfers": [],
        "accountData": [],
        "transactionError": None,
        "instructions": [],
        "events": {},
    }


def funding_tx(funder: str, wallet: str, lamports: int, timestamp: int) -> dict[str, Any]:
    """A plain SOL transfer from `funder`, who pays the fee (as a withdrawal or a funding wallet does)."""
    body = _envelope(
        _signature(f"fund:{funder}:{wallet}:{timestamp}"),
        timestamp,
        kind="TRANSFER",
        source="SYSTEM_PROGRAM",
        fee_payer=funder,
    )
    body["nativeTransfers"] = [{"fromUserAccount": funder, "toUserAccount": wallet, "amount": lamports}]
    body["accountData"] = [
        _account(funder, -(lamports + FEE_LAMPORTS)),
        _account(wallet, lamports),
        _account(SYSTEM_PROGRAM, 0),
    ]
    return body


def mint_of(label: str) -> str:
    return address(f"mint:{label}")


def buy_tx(wallet: str, mint: str, lamports: int, timestamp: int) -> dict[str, Any]:
    """A SOL -> token buy on a Raydium-like pool, opening the wallet's token account (rent)."""
    raw = max(1, lamports * 1_000)
    pool_authority = address(f"pool-authority:{mint}")
    token_vault, sol_vault = address(f"pool-token-vault:{mint}"), address(f"pool-sol-vault:{mint}")
    token_account = address(f"token-account:{wallet}:{mint}")
    temporary_wsol = address(f"tmp-wsol:{wallet}:{mint}:{timestamp}")
    body = _envelope(
        _signature(f"buy:{wallet}:{mint}:{timestamp}"),
        timestamp,
        kind="SWAP",
        source="RAYDIUM",
        fee_payer=wallet,
    )
    body["tokenTransfers"] = [
        {
            "fromTokenAccount": temporary_wsol,
            "toTokenAccount": sol_vault,
            "fromUserAccount": wallet,
            "toUserAccount": pool_authority,
            "tokenAmount": lamports / 10**9,
            "mint": SOL_MINT,
            "tokenStandard": "Fungible",
        },
        {
            "fromTokenAccount": token_vault,
            "toTokenAccount": token_account,
            "fromUserAccount": pool_authority,
            "toUserAccount": wallet,
            "tokenAmount": raw / 10**TOKEN_DECIMALS,
            "mint": mint,
            "tokenStandard": "Fungible",
        },
    ]
    body["nativeTransfers"] = [
        {"fromUserAccount": wallet, "toUserAccount": temporary_wsol, "amount": lamports},
        {"fromUserAccount": wallet, "toUserAccount": token_account, "amount": TOKEN_ACCOUNT_RENT},
    ]
    body["accountData"] = [
        _account(wallet, -(lamports + TOKEN_ACCOUNT_RENT + FEE_LAMPORTS)),
        _account(token_account, TOKEN_ACCOUNT_RENT, _token_change(wallet, token_account, mint, raw)),
        _account(temporary_wsol, 0),
        _account(token_vault, 0, _token_change(pool_authority, token_vault, mint, -raw)),
        _account(sol_vault, lamports, _token_change(pool_authority, sol_vault, SOL_MINT, lamports)),
        _account(SYSTEM_PROGRAM, 0),
        _account(TOKEN_PROGRAM, 0),
        _account(RAYDIUM_PROGRAM, 0),
        _account(mint, 0),
        _account(SOL_MINT, 0),
    ]
    return body


@dataclass
class CraftedMarket:
    """Histories under construction: each wallet starts with its funding transfer, then buys."""

    histories: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    def fund(self, wallet: str, *, funder: str, timestamp: int, lamports: int = 50 * 10**9) -> None:
        self.histories[wallet].append(funding_tx(funder, wallet, lamports, timestamp))

    def buy(self, wallet: str, mint: str, *, timestamp: int, lamports: int = 10**9) -> None:
        self.histories[wallet].append(buy_tx(wallet, mint, lamports, timestamp))

    def serve(self, upstream: Any) -> None:
        for wallet, transactions in self.histories.items():
            upstream.add_history(wallet, transactions)

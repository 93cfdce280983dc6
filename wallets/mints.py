"""Who bought a mint first, from the mint's own transactions (Helius enhanced transactions). No Django, no
Redis.

A mint's transactions come from `getSignaturesForAddress(mint)`, newest first with a slot's transactions in
reverse block order, so the list reversed is the order they happened in. Its oldest successful transaction
is the mint's creation, signed (and paid) by the creator.

A *buy* of the mint in a transaction is an owner whose balance of the mint rises while it pays for it: its
own SOL falls (beyond nothing) or another token of its falls (WSOL, USDC, a token swapped away). A token
transfer in (an airdrop, a payment) is not a buy: the receiver pays nothing. The pool's side of a sale
(tokens in, SOL out of the bonding curve) passes this test too, which is why callers drop program-owned
owners (`wallets.mint_services.mint_account_owners`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class MintBuy:
    """A wallet's buy of the mint: where it happened and how many raw units it received."""

    wallet: str
    signature: str
    slot: int
    timestamp: int
    amount_raw: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class MintCreation:
    creator: str  # fee payer of the mint's oldest successful transaction
    signature: str
    slot: int
    timestamp: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _raw(change: Mapping[str, Any]) -> int:
    amount = change.get("rawTokenAmount") or {}
    try:
        return int(amount.get("tokenAmount") or 0)
    except (TypeError, ValueError):
        return 0


def _changes(transaction: Mapping[str, Any]) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Native change per account and token change per owner and mint, from `accountData`."""
    native: dict[str, int] = {}
    tokens: dict[str, dict[str, int]] = {}
    for entry in transaction.get("accountData") or ():
        if not isinstance(entry, Mapping):
            continue
        account = str(entry.get("account") or "")
        with contextlib.suppress(TypeError, ValueError):  # a malformed entry moves nothing
            native[account] = native.get(account, 0) + int(entry.get("nativeBalanceChange") or 0)
        for change in entry.get("tokenBalanceChanges") or ():
            if not isinstance(change, Mapping):
                continue
            owner, mint = str(change.get("userAccount") or ""), str(change.get("mint") or "")
            if owner and mint:
                per_mint = tokens.setdefault(owner, {})
                per_mint[mint] = per_mint.get(mint, 0) + _raw(change)
    return native, tokens


def mint_buys(transactions: Iterable[Mapping[str, Any]], mint: str) -> list[MintBuy]:
    """Every buy of `mint` in the transactions, in the order given; failed transactions moved nothing."""
    buys: list[MintBuy] = []
    for transaction in transactions:
        if transaction.get("transactionError") is not None:
            continue
        native, tokens = _changes(transaction)
        for owner, per_mint in tokens.items():
            received = per_mint.get(mint, 0)
            paid = native.get(owner, 0) < 0 or any(
                change < 0 for other, change in per_mint.items() if other != mint
            )
            if received > 0 and paid:
                buys.append(
                    MintBuy(
                        wallet=owner,
                        signature=str(transaction.get("signature") or ""),
                        slot=int(transaction.get("slot") or 0),
                        timestamp=int(transaction.get("timestamp") or 0),
                        amount_raw=received,
                    )
                )
    return buys


def mint_creation(transactions: Iterable[Mapping[str, Any]]) -> MintCreation | None:
    """The creation among the mint's oldest transactions (given oldest first): the first that succeeded."""
    for transaction in transactions:
        if transaction.get("transactionError") is None and transaction.get("feePayer"):
            return MintCreation(
                creator=str(transaction["feePayer"]),
                signature=str(transaction.get("signature") or ""),
                slot=int(transaction.get("slot") or 0),
                timestamp=int(transaction.get("timestamp") or 0),
            )
    return None


def first_buys(buys: Iterable[MintBuy]) -> dict[str, MintBuy]:
    """Each wallet's first buy, in the order wallets first bought (insertion order)."""
    first: dict[str, MintBuy] = {}
    for buy in buys:
        first.setdefault(buy.wallet, buy)
    return first

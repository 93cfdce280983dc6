"""Native SOL transfers into one wallet, from Helius enhanced transactions. No Django, no Redis.

They are the funding data of wallet linking (docs/METHODS.md §5, "funding"): who sent a wallet its
SOL, when, and how much. A transfer in is an entry of the transaction's `nativeTransfers` whose
`toUserAccount` is the wallet and whose `fromUserAccount` is another account, kept when:

* the transaction succeeded (a failed one moved nothing);
* the wallet's token balances did not change in it: SOL that reaches a wallet in a swap or a token transfer
  is a trade's proceeds or a pool's refund, not somebody funding it;
* it carries at least `FUNDING_MIN_LAMPORTS`, the rent-exempt minimum of a plain system account. Any
  transfer that can bring a new wallet to life is at least that much, while the 1- and 100-lamport "address
  poisoning" spam that floods real histories (see the recorded fixture wallet) is not.

Several transfers from one sender in one transaction are summed: one row per (signature, sender).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Rent-exempt minimum of a 0-byte system account (lamports): the least SOL that can create a wallet.
FUNDING_MIN_LAMPORTS = 890_880


@dataclass(frozen=True, slots=True)
class NativeTransferIn:
    signature: str
    slot: int
    timestamp: int
    source: str  # the sending account
    lamports: int


def _token_balance_changed(transaction: Mapping[str, Any], wallet: str) -> bool:
    for entry in transaction.get("accountData") or ():
        if not isinstance(entry, Mapping):
            continue
        for change in entry.get("tokenBalanceChanges") or ():
            if isinstance(change, Mapping) and change.get("userAccount") == wallet:
                return True
    return False


def _amount(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def extract_native_transfers_in(
    transactions: Iterable[Mapping[str, Any]], wallet: str
) -> list[NativeTransferIn]:
    """The wallet's funding transfers in these transactions, in the order given (see the module doc)."""
    found: list[NativeTransferIn] = []
    for transaction in transactions:
        transfers = transaction.get("nativeTransfers")
        signature = transaction.get("signature")
        if transaction.get("transactionError") is not None or not isinstance(transfers, list):
            continue
        if not isinstance(signature, str) or _token_balance_changed(transaction, wallet):
            continue
        by_source: dict[str, int] = {}
        for transfer in transfers:
            if not isinstance(transfer, Mapping) or transfer.get("toUserAccount") != wallet:
                continue
            source = transfer.get("fromUserAccount")
            if not isinstance(source, str) or not source or source == wallet:
                continue
            by_source[source] = by_source.get(source, 0) + _amount(transfer.get("amount"))
        for source, lamports in by_source.items():
            if lamports >= FUNDING_MIN_LAMPORTS:
                found.append(
                    NativeTransferIn(
                        signature=signature,
                        slot=_amount(transaction.get("slot")),
                        timestamp=_amount(transaction.get("timestamp")),
                        source=source,
                        lamports=lamports,
                    )
                )
    return found

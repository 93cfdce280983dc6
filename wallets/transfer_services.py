"""Writes of the funding data: the native SOL transfers into a wallet, stored as its history is synced."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.db import bulk_insert_new
from wallets.models import NativeTransfer
from wallets.transfers import extract_native_transfers_in


def native_transfers_store(*, address: str, transactions: Iterable[Mapping[str, Any]]) -> int:
    """Store the wallet's funding transfers found in these transactions; returns how many were found.

    Idempotent: a transaction stored again (a sync re-run after a crash, a re-extraction) adds nothing.
    Runs inside the caller's transaction, so transfers are stored exactly when their transaction is linked.
    """
    transfers = extract_native_transfers_in(transactions, address)
    bulk_insert_new(
        NativeTransfer,
        [
            {
                "wallet_id": address,
                "source": transfer.source,
                "signature": transfer.signature,
                "slot": transfer.slot,
                "timestamp": transfer.timestamp,
                "lamports": transfer.lamports,
            }
            for transfer in transfers
        ],
    )
    return len(transfers)

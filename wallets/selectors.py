"""Reads of chain data for the other apps."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.utils import timezone
from redis.exceptions import RedisError

from core.redis import balance_key, get_redis
from wallets.models import BalanceSnapshot, Swap, Token, Transaction, TransactionEffect, Wallet
from wallets.swaps import ChainKind, ChainRecord, LiquidityMove, SwapLeg


@dataclass(frozen=True, slots=True)
class WalletSyncState:
    address: str
    sync_status: str  # never, syncing, synced, failed
    last_synced_at: datetime | None
    sync_error: str
    transactions_seen: int  # transactions stored for the wallet, failed ones included
    swaps_unparsed: int  # swaps (typed SWAP or with events.swap) that produced no legs, and unreadable ones
    newest_signature: str  # newest signature whose transactions are all stored; "" before the first sync


@dataclass(frozen=True, slots=True)
class TokenRecord:
    mint: str
    decimals: int
    token_program: str  # program id; "" until a balance has named it


def wallet_sync_state(*, address: str) -> WalletSyncState | None:
    wallet = Wallet.objects.filter(address=address).first()
    if wallet is None:
        return None
    return WalletSyncState(
        address=wallet.address,
        sync_status=wallet.sync_status,
        last_synced_at=wallet.last_synced_at,
        sync_error=wallet.sync_error,
        transactions_seen=wallet.transactions_seen,
        swaps_unparsed=wallet.swaps_unparsed,
        newest_signature=wallet.newest_signature,
    )


def tokens_by_mint(*, mints: Iterable[str]) -> dict[str, TokenRecord]:
    """The known tokens among `mints` (seen in a swap or a balance); unknown mints are absent."""
    rows = Token.objects.filter(mint__in=list(mints)).values_list("mint", "decimals", "token_program")
    return {mint: TokenRecord(mint, decimals, program) for mint, decimals, program in rows}


def wallet_cached_transactions(*, address: str, chunk_size: int = 500) -> Iterator[dict[str, Any]]:
    """The wallet's stored Helius transactions, oldest first, decompressed a chunk at a time."""
    rows = Transaction.objects.filter(wallets=address).order_by("slot", "signature")
    for payload in rows.values_list("payload", flat=True).iterator(chunk_size=chunk_size):
        yield Transaction.unpack(payload)


def wallets_needing_sync(*, addresses: Sequence[str]) -> list[str]:
    """Addresses never synced, or synced longer ago than WALLET_SYNC_FRESHNESS, in the order given."""
    fresh_since = timezone.now() - timedelta(seconds=settings.WALLET_SYNC_FRESHNESS_S)
    fresh = set(
        Wallet.objects.filter(
            address__in=addresses, sync_status=Wallet.SyncStatus.SYNCED, last_synced_at__gte=fresh_since
        ).values_list("address", flat=True)
    )
    return [address for address in addresses if address not in fresh]


def wallet_swap_legs(*, address: str) -> list[SwapLeg]:
    rows = Swap.objects.filter(wallet_id=address).order_by("timestamp", "slot", "signature", "direction")
    return [
        SwapLeg(
            signature=row.signature,
            slot=row.slot,
            timestamp=row.timestamp,
            mint=row.mint,
            direction="buy" if row.direction == Swap.Direction.BUY else "sell",
            token_amount_raw=int(row.token_amount_raw),
            token_decimals=row.token_decimals,
            quote_mint=row.quote_mint or None,
            quote_amount_raw=int(row.quote_amount_raw),
            quote_decimals=row.quote_decimals,
            sol_value_lamports=row.sol_value_lamports,
            usd_value=row.usd_value,
            fee_lamports=row.fee_lamports,
            source=row.source,
            block_position=row.block_position,
        )
        for row in rows.iterator(chunk_size=2000)
    ]


def wallet_chain_records(*, address: str) -> list[ChainRecord] | None:
    """What each stored transaction did to the wallet's SOL, oldest first; None when the wallet's swaps were
    stored before these records were kept (its fees and reconciliation are then unknown, not zero)."""
    rows = TransactionEffect.objects.filter(wallet_id=address).order_by("timestamp", "slot", "block_position")
    records = [
        ChainRecord(
            signature=signature,
            slot=slot,
            timestamp=timestamp,
            kind=cast(ChainKind, kind),
            fee_lamports=fee,
            sol_change_lamports=change,
            rent_lamports=rent,
            block_position=position,
            liquidity=LiquidityMove.from_dict(liquidity) if liquidity else None,
        )
        for signature, slot, timestamp, kind, fee, change, rent, position, liquidity in rows.values_list(
            "signature",
            "slot",
            "timestamp",
            "kind",
            "fee_lamports",
            "sol_change_lamports",
            "rent_lamports",
            "block_position",
            "liquidity",
        ).iterator(chunk_size=5000)
    ]
    if not records and Swap.objects.filter(wallet_id=address).exists():
        return None
    return records


def wallet_latest_balances(*, address: str) -> dict[str, Any] | None:
    """The cached balances (30 s), else the newest snapshot in the database, else None."""
    try:
        cached = get_redis().get(balance_key(address))
    except RedisError:
        cached = None
    if cached:
        loaded: dict[str, Any] = json.loads(cached)
        return loaded
    snapshot = BalanceSnapshot.objects.filter(wallet_id=address).order_by("-fetched_at").first()
    if snapshot is None:
        return None
    return {
        "wallet": address,
        "sol_lamports": snapshot.sol_lamports,
        "sol": snapshot.sol_lamports / 1_000_000_000,
        "tokens": snapshot.tokens,
        "fetched_at": snapshot.fetched_at.isoformat(),
    }

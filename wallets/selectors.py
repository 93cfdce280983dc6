"""Reads of chain data for the other apps."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from redis.exceptions import RedisError

from config.redis import balance_key, get_redis
from wallets.models import BalanceSnapshot, Swap, Wallet
from wallets.swaps import SwapLeg


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
        )
        for row in rows.iterator(chunk_size=2000)
    ]


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

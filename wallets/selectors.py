"""Reads of chain data for the other apps."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone
from redis.exceptions import RedisError

from core.redis import balance_key, get_redis
from wallets.custodians import Custodian, custodian
from wallets.models import (
    BalanceSnapshot,
    NativeTransfer,
    Swap,
    Token,
    Transaction,
    TransactionEffect,
    Wallet,
)
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


_LEG_COLUMNS = (
    "signature",
    "slot",
    "timestamp",
    "mint",
    "direction",
    "token_amount_raw",
    "token_decimals",
    "quote_mint",
    "quote_amount_raw",
    "quote_decimals",
    "sol_value_lamports",
    "usd_value",
    "fee_lamports",
    "source",
    "block_position",
)


def _leg(values: tuple[Any, ...]) -> SwapLeg:
    """A swap leg from a row of `_LEG_COLUMNS`."""
    (
        signature,
        slot,
        timestamp,
        mint,
        direction,
        token_amount_raw,
        token_decimals,
        quote_mint,
        quote_amount_raw,
        quote_decimals,
        sol_value_lamports,
        usd_value,
        fee_lamports,
        source,
        block_position,
    ) = values
    return SwapLeg(
        signature=signature,
        slot=slot,
        timestamp=timestamp,
        mint=mint,
        direction="buy" if direction == Swap.Direction.BUY else "sell",
        token_amount_raw=int(token_amount_raw),
        token_decimals=token_decimals,
        quote_mint=quote_mint or None,
        quote_amount_raw=int(quote_amount_raw),
        quote_decimals=quote_decimals,
        sol_value_lamports=sol_value_lamports,
        usd_value=usd_value,
        fee_lamports=fee_lamports,
        source=source,
        block_position=block_position,
    )


def wallet_swap_legs(*, address: str) -> list[SwapLeg]:
    # Rows as tuples, not model instances: every analysis and similarity job reads every leg of its
    # wallets, and building a model instance per row cost more than the query (docs/BENCHMARKS.md, task
    # overhead).
    rows = (
        Swap.objects.filter(wallet_id=address)
        .order_by("timestamp", "slot", "signature", "direction")
        .values_list(*_LEG_COLUMNS)
    )
    return [_leg(values) for values in rows.iterator(chunk_size=2000)]


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


def balances_fetched_at(balances: dict[str, Any] | None) -> datetime | None:
    raw = (balances or {}).get("fetched_at")
    if not raw:
        return None
    try:
        return datetime.fromisoformat(str(raw))
    except ValueError:
        return None


def wallets_needing_balances(*, addresses: Sequence[str]) -> list[str]:
    """Addresses whose balances were not fetched within BALANCE_REUSE_S (their Redis copy is gone or older),
    in the order given; all of them when Redis does not answer or reuse is off."""
    reuse_s = settings.BALANCE_REUSE_S
    if not addresses or reuse_s <= 0:
        return list(addresses)
    try:
        cached = get_redis().mget([balance_key(address) for address in addresses])
    except RedisError:
        return list(addresses)
    fetched_since = timezone.now() - timedelta(seconds=reuse_s)
    return [
        address
        for address, value in zip(addresses, cached, strict=True)
        if value is None or (balances_fetched_at(json.loads(value)) or fetched_since) < fetched_since
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


@dataclass(frozen=True, slots=True)
class FundingTransferRecord:
    source: str
    lamports: int
    timestamp: int
    signature: str


@dataclass(frozen=True, slots=True)
class WalletFundingRecord:
    """What the stored history says about who funded a wallet: its earliest SOL transfer in, the earliest
    transfer from each sender, and whether that history reaches the wallet's first transaction."""

    first: FundingTransferRecord | None
    received: list[FundingTransferRecord]
    history_complete: bool


def wallets_funding(*, addresses: Sequence[str]) -> dict[str, WalletFundingRecord]:
    """Funding of each address, in the order given.

    A sync reads a wallet's history back to its first signature, so a synced wallet's history is complete;
    a wallet never synced has no history to tell, and its funding is unknown.
    """
    synced = set(
        Wallet.objects.filter(address__in=addresses, last_synced_at__isnull=False).values_list(
            "address", flat=True
        )
    )
    earliest: dict[str, dict[str, FundingTransferRecord]] = {address: {} for address in addresses}
    rows = (
        NativeTransfer.objects.filter(wallet_id__in=addresses)
        .order_by("wallet_id", "timestamp", "slot", "signature", "source")
        .values_list("wallet_id", "source", "lamports", "timestamp", "signature")
    )
    for wallet, source, lamports, timestamp, signature in rows.iterator(chunk_size=2000):
        earliest[wallet].setdefault(source, FundingTransferRecord(source, lamports, timestamp, signature))
    out = {}
    for address in addresses:
        received = list(earliest[address].values())  # insertion order is time order
        out[address] = WalletFundingRecord(
            first=received[0] if received else None, received=received, history_complete=address in synced
        )
    return out


def funders_fanout(*, sources: Iterable[str]) -> dict[str, int]:
    """How many distinct wallets each source sent SOL to, in every transfer stored (sources with none are
    absent)."""
    rows = (
        NativeTransfer.objects.filter(source__in=list(sources))
        .values("source")
        .annotate(wallets=Count("wallet_id", distinct=True))
        .values_list("source", "wallets")
    )
    return dict(rows)


def custodial_wallets(*, addresses: Iterable[str]) -> dict[str, Custodian]:
    """The exchange and custodial hot wallets among `addresses` (the shipped list, with each label's
    source)."""
    return {address: entry for address in addresses if (entry := custodian(address)) is not None}


def wallets_first_activity(*, addresses: Sequence[str]) -> dict[str, int]:
    """The time (unix s) of each wallet's earliest stored transaction, failed ones included; wallets with no
    stored transaction are absent. It is the wallet's first transaction when its history is complete."""
    rows = (
        TransactionEffect.objects.filter(wallet_id__in=list(addresses))
        .values("wallet_id")
        .annotate(first=Min("timestamp"))
        .values_list("wallet_id", "first")
    )
    return {wallet: int(first) for wallet, first in rows}


@dataclass(frozen=True, slots=True)
class FirstBuyRecord:
    signature: str
    slot: int
    timestamp: int


def wallets_first_buys(*, addresses: Sequence[str], mint: str) -> dict[str, FirstBuyRecord]:
    """Each wallet's first buy of `mint` among its stored swaps (by slot, then place in the block); wallets
    that never bought it are absent."""
    rows = (
        Swap.objects.filter(wallet_id__in=list(addresses), mint=mint, direction=Swap.Direction.BUY)
        .order_by("wallet_id", "slot", "block_position", "signature")
        .values_list("wallet_id", "signature", "slot", "timestamp")
    )
    first: dict[str, FirstBuyRecord] = {}
    for wallet, signature, slot, timestamp in rows:
        first.setdefault(wallet, FirstBuyRecord(signature, int(slot), int(timestamp)))
    return first


def wallets_mint_legs(*, addresses: Sequence[str], mint: str) -> dict[str, list[SwapLeg]]:
    """The stored swap legs of `mint` of each wallet (every wallet present, maybe with none), in one query."""
    legs: dict[str, list[SwapLeg]] = {address: [] for address in addresses}
    rows = (
        Swap.objects.filter(wallet_id__in=list(addresses), mint=mint)
        .order_by("timestamp", "slot", "signature", "direction")
        .values_list("wallet_id", *_LEG_COLUMNS)
    )
    for wallet, *values in rows.iterator(chunk_size=2000):
        legs[wallet].append(_leg(tuple(values)))
    return legs

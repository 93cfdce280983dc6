"""Reads of chain data for the other apps."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet
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
class HistoryCaps:
    """How much of a wallet's history is kept (docs/ARCHITECTURE.md, "History depth"): a first sync's
    window, the most transactions stored, and the oldest block time fetched (None: no limit in days)."""

    initial: int
    max_signatures: int
    cutoff_ts: int | None

    @classmethod
    def from_settings(cls, *, now: datetime | None = None) -> HistoryCaps:
        days = settings.WALLET_HISTORY_MAX_DAYS
        moment = now or timezone.now()
        return cls(
            initial=settings.WALLET_SYNC_INITIAL_SIGNATURES,
            max_signatures=settings.WALLET_HISTORY_MAX_SIGNATURES,
            cutoff_ts=int((moment - timedelta(days=days)).timestamp()) if days else None,
        )


@dataclass(frozen=True, slots=True)
class WalletHistory:
    """The stored history of a wallet that results read: every transaction from `oldest_slot` to
    `newest_slot` (None: unbounded on that side), `signatures` of them, from block time `from_ts` to
    `to_ts`. `complete`: it reaches the wallet's first transaction; `limited_by`: the cap that stopped it
    short ("signatures", "days"), "" while it is still being deepened."""

    address: str
    from_ts: int | None
    to_ts: int | None
    signatures: int
    complete: bool
    limited_by: str
    oldest_slot: int | None
    newest_slot: int | None

    @classmethod
    def of(cls, wallet: Wallet) -> WalletHistory:
        return cls(
            address=wallet.address,
            from_ts=wallet.oldest_at,
            to_ts=wallet.newest_at,
            signatures=wallet.history_signatures,
            complete=wallet.history_complete,
            limited_by=wallet.history_limited_by,
            oldest_slot=wallet.oldest_slot,
            newest_slot=wallet.newest_slot,
        )

    @classmethod
    def empty(cls, address: str) -> WalletHistory:
        """A wallet never synced: nothing stored, nothing known."""
        return cls(address, None, None, 0, False, "", None, None)

    def holds_slot(self, slot: int) -> bool:
        return (self.oldest_slot is None or slot >= self.oldest_slot) and (
            self.newest_slot is None or slot <= self.newest_slot
        )

    def to_dict(self) -> dict[str, Any]:
        """The `history` field of results: {from, to, signatures, complete, limited_by}, times in ISO 8601."""
        return {
            "from": _iso(self.from_ts),
            "to": _iso(self.to_ts),
            "signatures": self.signatures,
            "complete": self.complete,
            "limited_by": self.limited_by or None,
        }


def _iso(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC).isoformat()


def wallet_history(*, address: str) -> WalletHistory:
    """What is stored of the wallet's history now; read it once and pass it to the reads of one result, so
    swaps, chain records and transfers all come from the same stretch (a deepening may be storing more)."""
    wallet = Wallet.objects.filter(address=address).first()
    return WalletHistory.of(wallet) if wallet is not None else WalletHistory.empty(address)


def wallets_history(*, addresses: Sequence[str]) -> dict[str, WalletHistory]:
    """`wallet_history` of many wallets in one query, in the order given."""
    found = {wallet.address: wallet for wallet in Wallet.objects.filter(address__in=list(addresses))}
    return {
        address: WalletHistory.of(found[address]) if address in found else WalletHistory.empty(address)
        for address in addresses
    }


def _stretch(history: WalletHistory | None) -> Q:
    """Rows (with a `slot`) of the stored stretch only: rows below it (left by a sync that restarted the
    stretch) or being stored right now beyond it are not part of what a result covers."""
    within = Q()
    if history is not None and history.oldest_slot is not None:
        within &= Q(slot__gte=history.oldest_slot)
    if history is not None and history.newest_slot is not None:
        within &= Q(slot__lte=history.newest_slot)
    return within


def _within(rows: QuerySet[Any], history: WalletHistory | None) -> QuerySet[Any]:
    return rows.filter(_stretch(history))


def history_deepening_wanted(wallet: Wallet, caps: HistoryCaps, *, recheck_days: bool = False) -> bool:
    """The wallet's stored history stops short of its first transaction and of every cap. A wallet limited
    by days stays so (the cutoff only moves forward) unless `recheck_days` (one signature page tells)."""
    if not wallet.newest_signature or wallet.history_complete or not wallet.oldest_signature:
        return False
    if wallet.history_signatures >= caps.max_signatures:
        return False
    if wallet.history_limited_by == Wallet.HistoryLimit.DAYS and not recheck_days:
        return False
    return caps.cutoff_ts is None or wallet.oldest_at is None or wallet.oldest_at >= caps.cutoff_ts


def history_pruning_wanted(wallet: Wallet, caps: HistoryCaps) -> bool:
    """The wallet stores more transactions than the cap allows: the oldest must go."""
    return wallet.transactions_seen > caps.max_signatures


def wallet_history_work_wanted(*, address: str, recheck_days: bool = False) -> bool:
    """Deepening or pruning would change the wallet's stored history under today's caps."""
    wallet = Wallet.objects.filter(address=address).first()
    if wallet is None:
        return False
    caps = HistoryCaps.from_settings()
    return history_deepening_wanted(wallet, caps, recheck_days=recheck_days) or history_pruning_wanted(
        wallet, caps
    )


def wallets_wanting_history_work(*, limit: int) -> list[str]:
    """Wallets whose stored history is short of its caps (and not limited by days), or over the cap in
    rows: the background deepening's backlog, for the periodic sweep."""
    caps = HistoryCaps.from_settings()
    candidates = (
        Wallet.objects.filter(history_complete=False)
        .exclude(newest_signature="")
        .filter(
            Q(history_signatures__lt=caps.max_signatures) & ~Q(history_limited_by=Wallet.HistoryLimit.DAYS)
            | Q(transactions_seen__gt=caps.max_signatures)
        )
        .order_by("history_signatures")[: limit * 2]
    )
    return [
        wallet.address
        for wallet in candidates
        if history_deepening_wanted(wallet, caps) or history_pruning_wanted(wallet, caps)
    ][:limit]


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


def _fresh_since() -> datetime:
    return timezone.now() - timedelta(seconds=settings.WALLET_SYNC_FRESHNESS_S)


def wallet_is_fresh(wallet: Wallet, *, fresh_since: datetime | None = None) -> bool:
    """Synced within WALLET_SYNC_FRESHNESS (since `fresh_since` when given): its stored swaps are what a
    sync now would store."""
    since = fresh_since or _fresh_since()
    return (
        wallet.sync_status == Wallet.SyncStatus.SYNCED
        and wallet.last_synced_at is not None
        and wallet.last_synced_at >= since
    )


def wallets_needing_sync(*, addresses: Sequence[str]) -> list[str]:
    """Addresses never synced, or synced longer ago than WALLET_SYNC_FRESHNESS, in the order given."""
    return wallets_sync_needs(addresses=addresses).needing_sync


@dataclass(frozen=True, slots=True)
class WalletsSyncNeeds:
    needing_sync: list[str]  # never synced, or not fresh (`wallet_is_fresh`), in the order given
    histories: dict[str, WalletHistory]  # as `wallets_history`, from the same read


def wallets_sync_needs(*, addresses: Sequence[str]) -> WalletsSyncNeeds:
    """Which wallets need a sync, and what is stored of each one's history, in one query: a job that needs
    no sync computes from these histories at once."""
    fresh_since = _fresh_since()
    found = {wallet.address: wallet for wallet in Wallet.objects.filter(address__in=list(addresses))}
    return WalletsSyncNeeds(
        needing_sync=[
            address
            for address in addresses
            if address not in found or not wallet_is_fresh(found[address], fresh_since=fresh_since)
        ],
        histories={
            address: WalletHistory.of(found[address]) if address in found else WalletHistory.empty(address)
            for address in addresses
        },
    )


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


def wallet_swap_legs(*, address: str, history: WalletHistory | None = None) -> list[SwapLeg]:
    """The wallet's swap legs, oldest first; within `history`'s stretch when given."""
    # Rows as tuples, not model instances: every analysis and similarity job reads every leg of its
    # wallets, and building a model instance per row cost more than the query (docs/BENCHMARKS.md, task
    # overhead).
    rows = (
        _within(Swap.objects.filter(wallet_id=address), history)
        .order_by("timestamp", "slot", "signature", "direction")
        .values_list(*_LEG_COLUMNS)
    )
    # Fetched in one go, not through a server-side cursor (`iterator()`): the list holds every leg anyway,
    # and the cursor's extra round trips cost more than the query for the small wallets most jobs read.
    return [_leg(values) for values in rows]


def wallets_swap_legs(*, histories: Mapping[str, WalletHistory]) -> dict[str, list[SwapLeg]]:
    """`wallet_swap_legs` of several wallets (each within its stretch in `histories`) in one query: for the
    few wallets a job reads together, one round trip instead of one per wallet."""
    legs: dict[str, list[SwapLeg]] = {address: [] for address in histories}
    if not histories:
        return legs
    within = Q()
    for address, history in histories.items():
        within |= Q(wallet_id=address) & _stretch(history)
    rows = (
        Swap.objects.filter(within)
        .order_by("wallet_id", "timestamp", "slot", "signature", "direction")
        .values_list("wallet_id", *_LEG_COLUMNS)
    )
    for row in rows:
        legs[row[0]].append(_leg(row[1:]))
    return legs


def wallet_chain_records(*, address: str, history: WalletHistory | None = None) -> list[ChainRecord] | None:
    """What each stored transaction did to the wallet's SOL, oldest first (within `history`'s stretch when
    given); None when the wallet's swaps were stored before these records were kept (its fees and
    reconciliation are then unknown, not zero)."""
    rows = _within(TransactionEffect.objects.filter(wallet_id=address), history).order_by(
        "timestamp", "slot", "block_position"
    )
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
        )  # in one go, like the legs: the list holds every record anyway
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
    reusable = wallets_reusable_balances(addresses=addresses)
    return [address for address in addresses if address not in reusable]


def wallets_reusable_balances(*, addresses: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The balances fetched within BALANCE_REUSE_S (their Redis copies), by address: a fetch now would
    store the same. None of them when Redis does not answer or reuse is off."""
    reuse_s = settings.BALANCE_REUSE_S
    if not addresses or reuse_s <= 0:
        return {}
    try:
        cached = get_redis().mget([balance_key(address) for address in addresses])
    except RedisError:
        return {}
    fetched_since = timezone.now() - timedelta(seconds=reuse_s)
    reusable = {}
    for address, value in zip(addresses, cached, strict=True):
        if value is None:
            continue
        balances = json.loads(value)
        if (balances_fetched_at(balances) or fetched_since) >= fetched_since:
            reusable[address] = balances
    return reusable


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


# Up to this many wallets, their transfers are read in one go (wallets_funding).
_FUNDING_READ_AT_ONCE = 20


def wallets_funding(
    *, addresses: Sequence[str], histories: Mapping[str, WalletHistory] | None = None
) -> dict[str, WalletFundingRecord]:
    """Funding of each address, in the order given, from its stored history (each wallet's stretch in
    `histories` when given). `history_complete` says whether that history reaches the wallet's first
    transaction (its funding); a wallet never synced has no history to tell, and its funding is unknown.
    """
    known = histories if histories is not None else wallets_history(addresses=addresses)
    earliest: dict[str, dict[str, FundingTransferRecord]] = {address: {} for address in addresses}
    rows = (
        NativeTransfer.objects.filter(wallet_id__in=addresses)
        .order_by("wallet_id", "timestamp", "slot", "signature", "source")
        .values_list("wallet_id", "source", "lamports", "timestamp", "slot", "signature")
    )
    # A job's few wallets are read in one go; many at once (a token's holders) through a server-side cursor,
    # so their transfers are never all in memory. The cursor costs round trips a small read does not need.
    batches = rows if len(addresses) <= _FUNDING_READ_AT_ONCE else rows.iterator(chunk_size=2000)
    for wallet, source, lamports, timestamp, slot, signature in batches:
        history = known.get(wallet)
        if history is not None and not history.holds_slot(slot):
            continue
        earliest[wallet].setdefault(source, FundingTransferRecord(source, lamports, timestamp, signature))
    out = {}
    for address in addresses:
        received = list(earliest[address].values())  # insertion order is time order
        history = known.get(address)
        out[address] = WalletFundingRecord(
            first=received[0] if received else None,
            received=received,
            history_complete=history is not None and history.complete,
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

"""Writes of chain data: wallet sync and history depth, swap re-extraction and balance fetches.

History depth (docs/ARCHITECTURE.md, "History depth"): a wallet's stored history is one unbroken stretch of
its transactions. `wallet_sync` extends it at the newest end, at most WALLET_SYNC_INITIAL_SIGNATURES at a
time, so a result never waits for a deep history; `wallet_history_deepen` extends it at the oldest end, a page
at a time, up to WALLET_HISTORY_MAX_SIGNATURES or WALLET_HISTORY_MAX_DAYS, and keeps the rows within the cap.
Each end has its own lock, so a sync never waits on a deepening; each moves its end of the stretch only once
the transactions it adds are stored, so a crash at any point resumes from the last end, re-reading what it
stored from the transaction cache.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import islice
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.utils import timezone

from core.db import bulk_insert_new
from core.http import UpstreamFatalError, UpstreamTransientError
from core.redis import balance_key, get_redis
from wallets.addresses import validate_address
from wallets.extraction import extract_wallet_swaps
from wallets.locks import WalletHistoryLock, WalletSyncLock
from wallets.models import (
    BalanceSnapshot,
    NativeTransfer,
    Swap,
    Token,
    Transaction,
    TransactionEffect,
    Wallet,
)
from wallets.providers import (
    SIGNATURE_PAGE_LIMIT,
    TRANSACTIONS_BATCH_LIMIT,
    ChainProvider,
    get_chain_provider,
)
from wallets.selectors import (
    HistoryCaps,
    WalletHistory,
    history_deepening_wanted,
    history_pruning_wanted,
    wallet_cached_transactions,
    wallet_is_fresh,
)
from wallets.swaps import ChainRecord, SwapLeg
from wallets.transfer_services import native_transfers_store

Checkpoint = Callable[[], None]
WalletTransaction = Transaction.wallets.through
# Cached payloads are decompressed this many at a time when swaps are re-extracted.
REEXTRACT_CHUNK = 500
# Rows deleted per statement when a wallet's history is pruned to its cap.
PRUNE_CHUNK = 1000


class IncompleteHistoryError(UpstreamTransientError):
    """The upstream listed signatures but did not return their transactions (not indexed yet, most often).

    Everything else is stored; the wallet's mark does not move, so the next attempt asks only for these."""


@dataclass(frozen=True, slots=True)
class WalletSyncOutcome:
    address: str
    skipped_fresh: bool
    new_transactions: int
    new_swaps: int
    fetched_transactions: int = 0  # of new_transactions, how many came from the upstream (not the cache)
    history: WalletHistory | None = None  # what is stored after the sync
    # The stored history stops short of the caps (deepening would add to it) or holds more rows than the
    # cap (pruning would remove some): the caller queues a background deepening.
    history_work_wanted: bool = False


@dataclass(frozen=True, slots=True)
class HistoryDeepenOutcome:
    address: str
    more: bool  # stopped by `max_pages` or the budget with work left: call again
    pages: int
    new_transactions: int
    pruned: int
    history: WalletHistory


@dataclass(slots=True)
class _Window:
    """A fetch window's signatures not yet stored for the wallet, split by where their payload comes from."""

    signatures: list[str]
    cached: dict[str, dict[str, Any]]
    missing: list[str]
    fetched: dict[str, dict[str, Any]] = field(default_factory=dict)
    packed: dict[str, bytes] = field(default_factory=dict)  # fetched payloads, compressed for the cache


@dataclass(slots=True)
class _Listing:
    """Signature entries of one end of a wallet's history, newest first, whole slots only."""

    entries: list[dict[str, Any]]
    reached_end: bool  # nothing is left between the entries and `until` (or the wallet's first transaction)
    cut_by_days: bool  # the next entry is older than the cutoff in days


def _slot(entry: Mapping[str, Any]) -> int:
    return int(entry.get("slot") or 0)


def _block_time(entry: Mapping[str, Any]) -> int | None:
    value = entry.get("blockTime")
    return int(value) if value is not None else None


def _list_back(
    provider: ChainProvider,
    *,
    address: str,
    before: str | None,
    until: str | None,
    limit: int,
    cutoff_ts: int | None,
    checkpoint: Checkpoint,
    whole_slots: bool = True,
) -> _Listing:
    """Page back from `before` (None: the newest signature) towards `until` (exclusive; None: the wallet's
    first transaction), keeping at most `limit` entries and none older than `cutoff_ts`.

    When `limit` stops the listing, the last slot is left out unless it is all there is (or `whole_slots`
    is off): its other transactions may be on the next page, and a slot is stored whole so that block
    positions are right and a stretch never ends inside a slot."""
    collected: list[dict[str, Any]] = []
    while True:
        checkpoint()
        wanted = min(SIGNATURE_PAGE_LIMIT, limit - len(collected))
        page = provider.get_signatures(address, before=before, until=until, limit=wanted)
        for entry in page:
            block_time = _block_time(entry)
            if cutoff_ts is not None and block_time is not None and block_time < cutoff_ts:
                return _Listing(collected, reached_end=False, cut_by_days=True)
            collected.append(entry)
        if len(page) < wanted:
            return _Listing(collected, reached_end=True, cut_by_days=False)
        if len(collected) >= limit:
            if whole_slots:
                last_slot = _slot(collected[-1])
                whole = [entry for entry in collected if _slot(entry) != last_slot]
                collected = whole or collected
            return _Listing(collected, reached_end=False, cut_by_days=False)
        before = page[-1]["signature"]


def _window_size(provider: ChainProvider) -> int:
    """Signatures per provider call: one batch, or as many as a provider that fetches batches in parallel
    (Helius) runs at once, so its parallelism is used without holding a whole history in memory."""
    parallel = getattr(provider, "max_parallel_batches", 1)
    return TRANSACTIONS_BATCH_LIMIT * max(1, parallel if isinstance(parallel, int) else 1)


def _plan_window(address: str, signatures: Sequence[str]) -> _Window:
    """Skip what this wallet already stored (a re-run after a crash); take the rest from the cache when
    another wallet or an earlier run fetched it; only what is left goes upstream.

    One query: a transaction the wallet stored is in the cache too, so the cache rows tell both."""
    linked = WalletTransaction.objects.filter(wallet_id=address, transaction_id=OuterRef("signature"))
    found = Transaction.objects.filter(signature__in=signatures).values_list(
        "signature", Exists(linked), "payload"
    )
    stored: set[str] = set()
    cached: dict[str, dict[str, Any]] = {}
    for signature, stored_for_wallet, payload in found:
        if stored_for_wallet:
            stored.add(signature)
        else:
            cached[signature] = Transaction.unpack(payload)
    todo = [signature for signature in signatures if signature not in stored]
    return _Window(todo, cached, [signature for signature in todo if signature not in cached])


def _block_positions(entries: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Each signature's place among the wallet's transactions of its slot, in block order (0 first).

    getSignaturesForAddress lists newest first, block order reversed within a slot; nothing else tells
    where in its block a transaction landed, and same-slot legs need it (a sell before a re-buy)."""
    by_slot: dict[int, list[str]] = {}
    for entry in entries:
        by_slot.setdefault(int(entry.get("slot") or 0), []).append(str(entry["signature"]))
    return {
        signature: position
        for signatures in by_slot.values()
        for position, signature in enumerate(reversed(signatures))
    }


def _store_effects(address: str, records: Iterable[ChainRecord]) -> None:
    bulk_insert_new(
        TransactionEffect,
        [
            {
                "wallet_id": address,
                "signature": record.signature,
                "slot": record.slot,
                "block_position": record.block_position,
                "timestamp": record.timestamp,
                "kind": record.kind,
                "fee_lamports": record.fee_lamports,
                "sol_change_lamports": record.sol_change_lamports,
                "rent_lamports": record.rent_lamports,
                "liquidity": record.liquidity.to_dict() if record.liquidity is not None else None,
            }
            for record in records
        ],
    )


def _swap_rows(address: str, legs: Iterable[SwapLeg]) -> list[dict[str, Any]]:
    return [
        {
            "wallet_id": address,
            "signature": leg.signature,
            "slot": leg.slot,
            "timestamp": leg.timestamp,
            "mint": leg.mint,
            "direction": leg.direction,
            "token_amount_raw": Decimal(leg.token_amount_raw),
            "token_decimals": leg.token_decimals,
            "quote_mint": leg.quote_mint or "",
            "quote_amount_raw": Decimal(leg.quote_amount_raw),
            "quote_decimals": leg.quote_decimals,
            "sol_value_lamports": leg.sol_value_lamports,
            "usd_value": leg.usd_value,
            "fee_lamports": leg.fee_lamports,
            "source": leg.source,
            "block_position": leg.block_position,
        }
        for leg in legs
    ]


def _tokens_seen(legs: Iterable[SwapLeg]) -> None:
    decimals: dict[str, int] = {}
    for leg in legs:
        decimals.setdefault(leg.mint, leg.token_decimals)
        if leg.quote_mint:
            decimals.setdefault(leg.quote_mint, leg.quote_decimals)
    # Sorted: concurrent syncs inserting overlapping mints take index locks in one order, so cannot deadlock.
    bulk_insert_new(Token, [{"mint": mint, "decimals": decimals[mint]} for mint in sorted(decimals)])


def _insert_new_legs(address: str, legs: Sequence[SwapLeg]) -> int:
    """Insert the legs not stored yet (a re-run after a crash, a re-extraction, a writer whose sync lock
    expired under it may have stored some) and return how many were new."""
    return bulk_insert_new(Swap, _swap_rows(address, legs))


@transaction.atomic
def _store_window(address: str, window: _Window, positions: Mapping[str, int]) -> tuple[int, int]:
    """Cache the fetched payloads, link the window's transactions to the wallet and store their swaps and
    chain records, in one transaction: a transaction is linked exactly when its legs are stored."""
    payloads = {**window.cached, **window.fetched}
    transactions = [payloads[signature] for signature in window.signatures if signature in payloads]
    if not transactions:
        return 0, 0
    bulk_insert_new(
        Transaction,
        [
            {
                "signature": payload["signature"],
                "slot": int(payload.get("slot") or 0),
                "timestamp": int(payload.get("timestamp") or 0),
                "payload": window.packed[payload["signature"]],
            }
            for payload in window.fetched.values()
        ],
    )
    bulk_insert_new(
        WalletTransaction,
        [{"wallet_id": address, "transaction_id": tx["signature"]} for tx in transactions],
    )
    extracted = extract_wallet_swaps(transactions, address, positions=positions)
    _tokens_seen(extracted.legs)
    inserted = _insert_new_legs(address, extracted.legs)
    native_transfers_store(address=address, transactions=transactions)
    _store_effects(address, extracted.records)
    Wallet.objects.filter(pk=address).update(
        transactions_seen=F("transactions_seen") + len(transactions),
        swaps_unparsed=F("swaps_unparsed") + extracted.unparsed,
    )
    return len(transactions), inserted


def _fetch_missing(provider: ChainProvider, window: _Window) -> int:
    """Fetch and compress the window's uncached transactions; returns how many the upstream did not return.

    Runs in the prefetch thread, so it touches no database connection."""
    if not window.missing:
        return 0
    wanted = set(window.missing)
    window.fetched = {
        tx["signature"]: tx
        for tx in provider.get_transactions(window.missing)
        if tx.get("signature") in wanted
    }
    window.packed = {signature: Transaction.pack(tx) for signature, tx in window.fetched.items()}
    return len(wanted) - len(window.fetched)


@dataclass(slots=True)
class _SyncTotals:
    stored: int = 0
    swaps: int = 0
    fetched: int = 0
    not_returned: int = 0

    def add(self, address: str, window: _Window, fetching: Future[int], positions: Mapping[str, int]) -> None:
        self.not_returned += fetching.result()
        stored, swaps = _store_window(address, window, positions)
        self.stored += stored
        self.swaps += swaps
        self.fetched += len(window.fetched)


def _sync_windows(
    provider: ChainProvider,
    *,
    address: str,
    signatures: Sequence[str],
    positions: Mapping[str, int],
    checkpoint: Checkpoint,
) -> _SyncTotals:
    """Fetch and store the signatures' transactions window by window, newest first.

    Window k+1 is fetched (in a thread, no database work there) while window k is stored, so the database
    work hides behind the upstream's latency; a crash loses at most the one fetched, unstored window."""
    totals = _SyncTotals()
    size = _window_size(provider)
    pending: tuple[_Window, Future[int]] | None = None
    prefetch = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wallet-sync-prefetch")
    try:
        for start in range(0, len(signatures), size):
            checkpoint()
            window = _plan_window(address, signatures[start : start + size])
            fetching = prefetch.submit(_fetch_missing, provider, window)
            if pending is not None:
                totals.add(address, *pending, positions)
            pending = (window, fetching)
        if pending is not None:
            totals.add(address, *pending, positions)
    except BaseException:  # cancellation and time limits too: the prefetch must not outlive the sync
        # Stop at once: a fetch still in flight finishes on its own (bounded by the provider's timeouts and
        # retries) and its result is dropped; it writes nothing.
        prefetch.shutdown(wait=False, cancel_futures=True)
        raise
    prefetch.shutdown(wait=True)
    return totals


def _store_entries(
    provider: ChainProvider, *, address: str, entries: Sequence[Mapping[str, Any]], checkpoint: Checkpoint
) -> _SyncTotals:
    """Fetch and store the listed transactions (failed ones too: they hold no swap, but their fees were
    paid); IncompleteHistoryError when the upstream did not return some, after storing the rest."""
    wanted = list(dict.fromkeys(str(entry["signature"]) for entry in entries))
    totals = _sync_windows(
        provider,
        address=address,
        signatures=wanted,
        positions=_block_positions(entries),
        checkpoint=checkpoint,
    )
    if totals.not_returned:
        raise IncompleteHistoryError(
            f"the upstream listed {totals.not_returned} transaction(s) of wallet {address} but did not "
            "return them; the rest is stored and the next attempt asks for these only"
        )
    return totals


def _stored_between(address: str, oldest_slot: int | None, newest_slot: int | None) -> int:
    rows = TransactionEffect.objects.filter(wallet_id=address)
    if oldest_slot is not None:
        rows = rows.filter(slot__gte=oldest_slot)
    if newest_slot is not None:
        rows = rows.filter(slot__lte=newest_slot)
    return rows.count()


def _end_fields(prefix: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        f"{prefix}_signature": str(entry["signature"]),
        f"{prefix}_slot": _slot(entry),
        f"{prefix}_at": _block_time(entry),
    }


@transaction.atomic
def _move_history(address: str, *, expected_oldest: str | None = None, **changes: Any) -> Wallet | None:
    """Apply `changes` to the wallet's stretch and recount its transactions, under the wallet's row lock so
    the two ends' moves queue. With `expected_oldest`, only while the oldest end is still there (a sync may
    have restarted the stretch meanwhile): None when it was not."""
    wallet = Wallet.objects.select_for_update().get(pk=address)
    if expected_oldest is not None and wallet.oldest_signature != expected_oldest:
        return None
    for name, value in changes.items():
        setattr(wallet, name, value)
    wallet.history_signatures = _stored_between(address, wallet.oldest_slot, wallet.newest_slot)
    wallet.save(update_fields=[*changes, "history_signatures", "updated_at"])
    return wallet


def _synced_history(wallet: Wallet, listing: _Listing, *, first: bool, caps: HistoryCaps) -> dict[str, Any]:
    """How a sync moves the stretch. Its newest end goes to the newest transaction listed. A first sync (or
    one that found more new transactions than its window: the stored rows below no longer join up) starts
    the stretch again at the window's oldest transaction; deepening walks back down from there."""
    entries = listing.entries
    if not entries:
        if first:  # nothing at all (or nothing within the days cap): no stretch to speak of
            return {
                "history_complete": listing.reached_end,
                "history_limited_by": Wallet.HistoryLimit.DAYS if listing.cut_by_days else "",
            }
        return {}
    changes = _end_fields("newest", entries[0])
    if first or not listing.reached_end:
        limited = ""
        if listing.cut_by_days:
            limited = Wallet.HistoryLimit.DAYS
        elif not listing.reached_end and len(entries) >= caps.max_signatures:
            limited = Wallet.HistoryLimit.SIGNATURES
        changes |= _end_fields("oldest", entries[-1]) | {
            "history_complete": first and listing.reached_end,
            "history_limited_by": limited,
        }
    return changes


def wallet_sync(
    *,
    address: str,
    force: bool = False,
    checkpoint: Checkpoint | None = None,
    on_listed: Callable[[list[int]], object] | None = None,
) -> WalletSyncOutcome:
    """Bring the newest end of a wallet's stored history up to date, incrementally and idempotently.

    A first sync stores the newest WALLET_SYNC_INITIAL_SIGNATURES transactions; later ones page back to the
    newest stored signature, at most that many again. Anything deeper is `wallet_history_deepen`'s, and the
    outcome says when some is wanted (`history_work_wanted`). The newest stored signature moves only after
    every transaction newer than it is stored, so a sync killed half way starts again from the old mark:
    what it already stored is skipped, what another wallet or run fetched is read from the transaction
    cache, and the unique legs absorb any overlap.

    `on_listed` is called with the block times of the transactions the sync is about to fetch, as soon as
    they are listed: a caller starts work that needs only their days while the payloads arrive.
    """
    address = validate_address(address)
    check = checkpoint or (lambda: None)
    caps = HistoryCaps.from_settings()
    wallet, _ = Wallet.objects.get_or_create(address=address)
    if not force and wallet_is_fresh(wallet):
        return _skipped_fresh(wallet, caps)

    with WalletSyncLock(address) as lock:
        wallet.refresh_from_db()
        if not force and wallet_is_fresh(wallet):
            return _skipped_fresh(wallet, caps)
        Wallet.objects.filter(pk=address).update(sync_status=Wallet.SyncStatus.SYNCING, sync_error="")
        provider = get_chain_provider()

        def checkpoint_and_renew() -> None:
            check()
            lock.renew()

        try:
            # A wallet synced before chain records were kept gets them from its cached transactions, and
            # its history is listed again from the top for the failed transactions that were never fetched.
            legacy = bool(wallet.newest_signature) and not _has_chain_records(address)
            if legacy:
                with transaction.atomic():
                    _rebuild_from_cache(address)
            first = legacy or not wallet.newest_signature
            listing = _list_back(
                provider,
                address=address,
                before=None,
                until=None if first else wallet.newest_signature,
                limit=caps.initial,
                cutoff_ts=caps.cutoff_ts,
                checkpoint=checkpoint_and_renew,
            )
            if on_listed is not None and listing.entries:
                on_listed([ts for entry in listing.entries if (ts := _block_time(entry)) is not None])
            totals = _store_entries(
                provider, address=address, entries=listing.entries, checkpoint=checkpoint_and_renew
            )
        except Exception as exc:  # whatever stopped the sync is recorded on the wallet, then raised
            Wallet.objects.filter(pk=address).update(
                sync_status=Wallet.SyncStatus.FAILED, sync_error=str(exc)[:2000]
            )
            raise

        moved = _move_history(
            address,
            **_synced_history(wallet, listing, first=first, caps=caps),
            sync_status=Wallet.SyncStatus.SYNCED,
            last_synced_at=timezone.now(),
        )
        Wallet.objects.filter(pk=address).update(sync_count=F("sync_count") + 1)
    assert moved is not None
    moved.refresh_from_db()
    return WalletSyncOutcome(
        address,
        skipped_fresh=False,
        new_transactions=totals.stored,
        new_swaps=totals.swaps,
        fetched_transactions=totals.fetched,
        history=WalletHistory.of(moved),
        history_work_wanted=_history_work_wanted(moved, caps),
    )


def _skipped_fresh(wallet: Wallet, caps: HistoryCaps) -> WalletSyncOutcome:
    return WalletSyncOutcome(
        wallet.address,
        skipped_fresh=True,
        new_transactions=0,
        new_swaps=0,
        history=WalletHistory.of(wallet),
        history_work_wanted=_history_work_wanted(wallet, caps),
    )


def _history_work_wanted(wallet: Wallet, caps: HistoryCaps) -> bool:
    return history_deepening_wanted(wallet, caps) or history_pruning_wanted(wallet, caps)


# ---------------------------------------------------------------------------------------------------------
# History depth: the oldest end
# ---------------------------------------------------------------------------------------------------------


def wallet_history_deepen(
    *,
    address: str,
    checkpoint: Checkpoint | None = None,
    max_pages: int = 1,
    budget_s: float | None = None,
    recheck_days: bool = False,
) -> HistoryDeepenOutcome:
    """Extend the oldest end of a wallet's stored history back, a signature page at a time, until it reaches
    the wallet's first transaction or a cap; first drop the oldest rows beyond WALLET_HISTORY_MAX_SIGNATURES.

    Stops after `max_pages` pages or once `budget_s` has passed (`more` says whether work is left);
    `checkpoint` runs before every page and every fetch window (a job's cancellation stops it there). The
    oldest end moves once a page is stored, so a crash resumes at the last stored page. A wallet limited by
    days is probed again only with `recheck_days` (a job that asked for the full history). Raises
    WalletLockBusyError while another task deepens the wallet; never waits on a sync.
    """
    address = validate_address(address)
    check = checkpoint or (lambda: None)
    started = time.monotonic()
    with WalletHistoryLock(address) as lock:

        def checkpoint_and_renew() -> None:
            check()
            lock.renew()

        caps = HistoryCaps.from_settings()
        pruned = _prune_to_cap(address, caps)
        pages = stored = 0
        more = False
        provider = get_chain_provider()
        while True:
            wallet = Wallet.objects.get(pk=address)
            if not history_deepening_wanted(wallet, caps, recheck_days=recheck_days):
                _mark_limit(wallet, caps)
                break
            if pages >= max_pages or (budget_s is not None and time.monotonic() - started >= budget_s):
                more = True
                break
            remaining = caps.max_signatures - wallet.history_signatures
            try:
                listing = _list_back(
                    provider,
                    address=address,
                    before=wallet.oldest_signature,
                    until=None,
                    limit=min(SIGNATURE_PAGE_LIMIT, remaining),
                    cutoff_ts=caps.cutoff_ts,
                    checkpoint=checkpoint_and_renew,
                    # A page that fills the cap is the last: stored whole, the stretch ends exactly there.
                    whole_slots=remaining > SIGNATURE_PAGE_LIMIT,
                )
                totals = _store_entries(
                    provider, address=address, entries=listing.entries, checkpoint=checkpoint_and_renew
                )
            except (UpstreamTransientError, UpstreamFatalError) as exc:  # for operators; then the retries
                Wallet.objects.filter(pk=address).update(history_error=f"{type(exc).__name__}: {exc}"[:2000])
                raise
            pages += 1
            stored += totals.stored
            if _deepened(wallet, listing, caps) is None:
                more = True  # a sync started the stretch again meanwhile: go on from its new oldest end
                break
            if listing.reached_end or listing.cut_by_days:
                break
    history = WalletHistory.of(Wallet.objects.get(pk=address))
    return HistoryDeepenOutcome(address, more, pages, stored, pruned, history)


def _deepened(wallet: Wallet, listing: _Listing, caps: HistoryCaps) -> Wallet | None:
    changes: dict[str, Any] = {"history_error": ""}
    if listing.entries:
        changes |= _end_fields("oldest", listing.entries[-1])
    moved = _move_history(
        wallet.address,
        expected_oldest=wallet.oldest_signature,
        history_complete=listing.reached_end,
        history_limited_by=Wallet.HistoryLimit.DAYS if listing.cut_by_days else "",
        **changes,
    )
    if moved is not None:
        _mark_limit(moved, caps)
    return moved


def _mark_limit(wallet: Wallet, caps: HistoryCaps) -> None:
    """Record that the stretch stopped at the cap in signatures (the days cap is recorded when met)."""
    at_cap = not wallet.history_complete and wallet.history_signatures >= caps.max_signatures
    if at_cap and wallet.history_limited_by != Wallet.HistoryLimit.SIGNATURES:
        Wallet.objects.filter(pk=wallet.pk).update(history_limited_by=Wallet.HistoryLimit.SIGNATURES)


def _prune_to_cap(address: str, caps: HistoryCaps) -> int:
    """Delete the wallet's oldest transactions, whole slots, until at most the cap is stored; returns how
    many. Their swaps, chain records and transfers go with them, and so do the cached payloads no other
    wallet links. When the cut reaches into the stored stretch its oldest end moves up (incomplete now,
    limited by signatures)."""
    effects = TransactionEffect.objects.filter(wallet_id=address)
    excess = effects.count() - caps.max_signatures
    if excess <= 0:
        return 0
    cut_slot = effects.order_by("slot", "block_position").values_list("slot", flat=True)[excess - 1]
    doomed = list(effects.filter(slot__lte=cut_slot).values_list("signature", flat=True))
    removed = 0
    with transaction.atomic():
        for start in range(0, len(doomed), PRUNE_CHUNK):
            chunk = doomed[start : start + PRUNE_CHUNK]
            mine = Q(wallet_id=address, signature__in=chunk)
            Swap.objects.filter(mine).delete()
            TransactionEffect.objects.filter(mine).delete()
            NativeTransfer.objects.filter(mine).delete()
            removed += WalletTransaction.objects.filter(wallet_id=address, transaction_id__in=chunk).delete()[
                0
            ]
            Transaction.objects.filter(signature__in=chunk, wallets__isnull=True).delete()
        Wallet.objects.filter(pk=address).update(transactions_seen=F("transactions_seen") - removed)
    wallet = Wallet.objects.get(pk=address)
    if wallet.oldest_slot is not None and wallet.oldest_slot <= cut_slot:
        oldest = effects.order_by("slot", "block_position").values("signature", "slot", "timestamp").first()
        ends: dict[str, Any] = {"oldest_signature": "", "oldest_slot": None, "oldest_at": None}
        if oldest is not None:
            ends = {
                "oldest_signature": oldest["signature"],
                "oldest_slot": oldest["slot"],
                "oldest_at": oldest["timestamp"],
            }
        _move_history(
            address, **ends, history_complete=False, history_limited_by=Wallet.HistoryLimit.SIGNATURES
        )
    return removed


def _has_chain_records(address: str) -> bool:
    return TransactionEffect.objects.filter(wallet_id=address).exists()


def _rebuild_from_cache(address: str) -> int:
    """Re-extract the wallet's swaps and chain records from its cached transactions; the caller holds the
    wallet's lock and a transaction. Block positions recorded before survive the rebuild."""
    cached = WalletTransaction.objects.filter(wallet_id=address).values("transaction_id")
    positions = dict(
        TransactionEffect.objects.filter(wallet_id=address).values_list("signature", "block_position")
    )
    positions.update(
        Swap.objects.filter(wallet_id=address, block_position__gt=0).values_list(
            "signature", "block_position"
        )
    )
    Swap.objects.filter(wallet_id=address, signature__in=cached).delete()
    TransactionEffect.objects.filter(wallet_id=address, signature__in=cached).delete()
    legs_total = unparsed = 0
    payloads = wallet_cached_transactions(address=address, chunk_size=REEXTRACT_CHUNK)
    while chunk := list(islice(payloads, REEXTRACT_CHUNK)):
        extracted = extract_wallet_swaps(chunk, address, positions=positions)
        native_transfers_store(address=address, transactions=chunk)
        _tokens_seen(extracted.legs)
        legs_total += _insert_new_legs(address, extracted.legs)
        _store_effects(address, extracted.records)
        unparsed += extracted.unparsed
    Wallet.objects.filter(pk=address).update(swaps_unparsed=unparsed)
    return legs_total


def wallet_reextract_swaps(*, address: str) -> int:
    """Rebuild a wallet's swaps and chain records from its cached transactions (after an extraction fix);
    returns the number of legs. Swaps of transactions that are not in the cache are left alone."""
    address = validate_address(address)
    with WalletSyncLock(address), transaction.atomic():
        return _rebuild_from_cache(address)


def _parse_token_account(entry: dict[str, Any]) -> dict[str, Any] | None:
    account = entry.get("account") or {}
    data = account.get("data", {}) if isinstance(account, dict) else {}
    info = data.get("parsed", {}).get("info", {}) if isinstance(data, dict) else {}
    amount = info.get("tokenAmount") or {}
    if not info.get("mint") or not amount.get("amount"):
        return None
    raw = int(amount["amount"])
    if raw <= 0:
        return None
    decimals = int(amount.get("decimals", 0))
    return {
        "mint": info["mint"],
        "amount_raw": str(raw),
        "decimals": decimals,
        "ui_amount": raw / 10**decimals,
        "program": data.get("program", ""),
        "token_program": str(account.get("owner") or ""),
        "token_account": entry.get("pubkey", ""),
    }


def _tokens_held(tokens: Sequence[Mapping[str, Any]]) -> None:
    """Balances name each mint's token program, which swap legs cannot: they win over what is stored."""
    Token.objects.bulk_create(
        [
            Token(mint=token["mint"], decimals=token["decimals"], token_program=token["token_program"])
            for token in sorted(tokens, key=lambda token: token["mint"])
        ],
        update_conflicts=True,
        unique_fields=["mint"],
        update_fields=["decimals", "token_program"],
    )


def wallet_fetch_balances(*, address: str) -> dict[str, Any]:
    """Fetch SOL and token balances (both token programs), keep a snapshot in the database and a 30 s copy
    in Redis. The upstream calls run before the database transaction opens, so none is held across them.

    The SOL balance is read beside the token accounts, so the fetch costs one upstream round trip, not the
    sum of them: in a similarity flow every wallet's balances wait on this (docs/ARCHITECTURE.md §5's
    balances branch).
    """
    address = validate_address(address)
    provider = get_chain_provider()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sol-balance") as executor:
        sol_balance = executor.submit(provider.get_sol_balance, address)
        token_accounts = provider.get_token_accounts(address)
        sol_lamports = sol_balance.result()
    tokens_by_mint: dict[str, dict[str, Any]] = {}
    for entry in token_accounts:
        parsed = _parse_token_account(entry)
        if parsed is None:
            continue
        existing = tokens_by_mint.get(parsed["mint"])
        if existing:
            # One owner can hold a mint in several token accounts: report the mint once, summed.
            total = int(existing["amount_raw"]) + int(parsed["amount_raw"])
            existing["amount_raw"] = str(total)
            existing["ui_amount"] = total / 10 ** existing["decimals"]
        else:
            tokens_by_mint[parsed["mint"]] = parsed
    tokens = sorted(tokens_by_mint.values(), key=lambda token: token["mint"])
    fetched_at = timezone.now()
    balances = {
        "wallet": address,
        "sol_lamports": sol_lamports,
        "sol": sol_lamports / 1_000_000_000,
        "tokens": tokens,
        "fetched_at": fetched_at.isoformat(),
    }
    payload = json.dumps(balances)
    with transaction.atomic():
        wallet, _ = Wallet.objects.get_or_create(address=address)
        BalanceSnapshot.objects.create(
            wallet=wallet, fetched_at=fetched_at, sol_lamports=sol_lamports, tokens=tokens
        )
        _tokens_held(tokens)
        # robust: the snapshot is committed either way; readers fall back to it when Redis missed the copy.
        transaction.on_commit(
            lambda: get_redis().set(balance_key(address), payload, ex=settings.BALANCE_CACHE_TTL_S),
            robust=True,
        )
    return balances


def balance_snapshots_prune(*, older_than: datetime) -> int:
    """Delete balance snapshots fetched before `older_than`, except each wallet's newest; returns how many."""
    newest = BalanceSnapshot.objects.values("wallet_id").annotate(newest=Max("fetched_at"))
    keep = {(row["wallet_id"], row["newest"]) for row in newest}
    old = BalanceSnapshot.objects.filter(fetched_at__lt=older_than)
    stale_ids = [
        pk
        for pk, wallet, fetched in old.values_list("pk", "wallet_id", "fetched_at")
        if (wallet, fetched) not in keep
    ]
    return int(BalanceSnapshot.objects.filter(pk__in=stale_ids).delete()[0])

"""Writes of chain data: wallet sync, swap re-extraction and balance fetches."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from core.http import UpstreamTransientError
from core.redis import balance_key, get_redis
from wallets.addresses import validate_address
from wallets.extraction import extract_wallet_swaps
from wallets.locks import WalletSyncLock
from wallets.models import BalanceSnapshot, Swap, Token, Transaction, TransactionEffect, Wallet
from wallets.providers import (
    SIGNATURE_PAGE_LIMIT,
    TRANSACTIONS_BATCH_LIMIT,
    ChainProvider,
    get_chain_provider,
)
from wallets.selectors import wallet_cached_transactions
from wallets.swaps import ChainRecord, SwapLeg
from wallets.transfer_services import native_transfers_store

Checkpoint = Callable[[], None]
WalletTransaction = Transaction.wallets.through
# Cached payloads are decompressed this many at a time when swaps are re-extracted.
REEXTRACT_CHUNK = 500


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


@dataclass(slots=True)
class _Window:
    """A fetch window's signatures not yet stored for the wallet, split by where their payload comes from."""

    signatures: list[str]
    cached: dict[str, dict[str, Any]]
    missing: list[str]
    fetched: dict[str, dict[str, Any]] = field(default_factory=dict)
    packed: dict[str, bytes] = field(default_factory=dict)  # fetched payloads, compressed for the cache


def _is_fresh(wallet: Wallet) -> bool:
    if wallet.sync_status != Wallet.SyncStatus.SYNCED or wallet.last_synced_at is None:
        return False
    return wallet.last_synced_at >= timezone.now() - timedelta(seconds=settings.WALLET_SYNC_FRESHNESS_S)


def _new_signatures(
    provider: ChainProvider, *, address: str, until: str, checkpoint: Checkpoint
) -> list[dict[str, Any]]:
    """Page back from the newest signature to the newest one already stored (exclusive)."""
    collected: list[dict[str, Any]] = []
    before: str | None = None
    while True:
        checkpoint()
        page = provider.get_signatures(
            address, before=before, until=until or None, limit=SIGNATURE_PAGE_LIMIT
        )
        collected.extend(page)
        if len(page) < SIGNATURE_PAGE_LIMIT:
            return collected
        before = page[-1]["signature"]


def _window_size(provider: ChainProvider) -> int:
    """Signatures per provider call: one batch, or as many as a provider that fetches batches in parallel
    (Helius) runs at once, so its parallelism is used without holding a whole history in memory."""
    parallel = getattr(provider, "max_parallel_batches", 1)
    return TRANSACTIONS_BATCH_LIMIT * max(1, parallel if isinstance(parallel, int) else 1)


def _plan_window(address: str, signatures: Sequence[str]) -> _Window:
    """Skip what this wallet already stored (a re-run after a crash); take the rest from the cache when
    another wallet or an earlier run fetched it; only what is left goes upstream."""
    stored = set(
        WalletTransaction.objects.filter(wallet_id=address, transaction_id__in=signatures).values_list(
            "transaction_id", flat=True
        )
    )
    todo = [signature for signature in signatures if signature not in stored]
    cached = {
        signature: Transaction.unpack(payload)
        for signature, payload in Transaction.objects.filter(signature__in=todo).values_list(
            "signature", "payload"
        )
    }
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


def _effect_rows(address: str, records: Iterable[ChainRecord]) -> list[TransactionEffect]:
    return [
        TransactionEffect(
            wallet_id=address,
            signature=record.signature,
            slot=record.slot,
            block_position=record.block_position,
            timestamp=record.timestamp,
            kind=record.kind,
            fee_lamports=record.fee_lamports,
            sol_change_lamports=record.sol_change_lamports,
            rent_lamports=record.rent_lamports,
            liquidity=record.liquidity.to_dict() if record.liquidity is not None else None,
        )
        for record in records
    ]


def _swap_rows(address: str, legs: Iterable[SwapLeg]) -> list[Swap]:
    return [
        Swap(
            wallet_id=address,
            signature=leg.signature,
            slot=leg.slot,
            timestamp=leg.timestamp,
            mint=leg.mint,
            direction=leg.direction,
            token_amount_raw=Decimal(leg.token_amount_raw),
            token_decimals=leg.token_decimals,
            quote_mint=leg.quote_mint or "",
            quote_amount_raw=Decimal(leg.quote_amount_raw),
            quote_decimals=leg.quote_decimals,
            sol_value_lamports=leg.sol_value_lamports,
            usd_value=leg.usd_value,
            fee_lamports=leg.fee_lamports,
            source=leg.source,
            block_position=leg.block_position,
        )
        for leg in legs
    ]


def _tokens_seen(legs: Iterable[SwapLeg]) -> None:
    decimals: dict[str, int] = {}
    for leg in legs:
        decimals.setdefault(leg.mint, leg.token_decimals)
        if leg.quote_mint:
            decimals.setdefault(leg.quote_mint, leg.quote_decimals)
    # Sorted: concurrent syncs inserting overlapping mints take index locks in one order, so cannot deadlock.
    Token.objects.bulk_create(
        [Token(mint=mint, decimals=decimals[mint]) for mint in sorted(decimals)], ignore_conflicts=True
    )


def _insert_new_legs(address: str, legs: Sequence[SwapLeg]) -> int:
    """Insert the legs not stored yet and return how many: the existing keys of these signatures tell, which
    costs one indexed query per window instead of counting the wallet's whole table."""
    if not legs:
        return 0
    existing = set(
        Swap.objects.filter(wallet_id=address, signature__in={leg.signature for leg in legs}).values_list(
            "signature", "mint", "direction"
        )
    )
    new = [leg for leg in legs if (leg.signature, leg.mint, leg.direction) not in existing]
    # ignore_conflicts as well: the sync lock makes a concurrent writer unlikely, not impossible (a lock
    # that expired under a stalled worker).
    Swap.objects.bulk_create(_swap_rows(address, new), ignore_conflicts=True, batch_size=1000)
    return len(new)


@transaction.atomic
def _store_window(address: str, window: _Window, positions: Mapping[str, int]) -> tuple[int, int]:
    """Cache the fetched payloads, link the window's transactions to the wallet and store their swaps and
    chain records, in one transaction: a transaction is linked exactly when its legs are stored."""
    payloads = {**window.cached, **window.fetched}
    transactions = [payloads[signature] for signature in window.signatures if signature in payloads]
    if not transactions:
        return 0, 0
    Transaction.objects.bulk_create(
        [
            Transaction(
                signature=payload["signature"],
                slot=int(payload.get("slot") or 0),
                timestamp=int(payload.get("timestamp") or 0),
                payload=window.packed[payload["signature"]],
            )
            for payload in window.fetched.values()
        ],
        ignore_conflicts=True,
        batch_size=500,
    )
    WalletTransaction.objects.bulk_create(
        [WalletTransaction(wallet_id=address, transaction_id=tx["signature"]) for tx in transactions],
        ignore_conflicts=True,
        batch_size=1000,
    )
    extracted = extract_wallet_swaps(transactions, address, positions=positions)
    _tokens_seen(extracted.legs)
    inserted = _insert_new_legs(address, extracted.legs)
    native_transfers_store(address=address, transactions=transactions)
    TransactionEffect.objects.bulk_create(
        _effect_rows(address, extracted.records), ignore_conflicts=True, batch_size=1000
    )
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


def wallet_sync(
    *, address: str, force: bool = False, checkpoint: Checkpoint | None = None
) -> WalletSyncOutcome:
    """Bring a wallet's swaps up to date, incrementally and idempotently.

    The newest stored signature moves only after every transaction newer than it is stored, so a sync
    killed half way starts again from the old mark: what it already stored is skipped, what another wallet
    or run fetched is read from the transaction cache, and the unique legs absorb any overlap.
    """
    address = validate_address(address)
    check = checkpoint or (lambda: None)
    wallet, _ = Wallet.objects.get_or_create(address=address)
    if not force and _is_fresh(wallet):
        return WalletSyncOutcome(address, skipped_fresh=True, new_transactions=0, new_swaps=0)

    with WalletSyncLock(address) as lock:
        wallet.refresh_from_db()
        if not force and _is_fresh(wallet):
            return WalletSyncOutcome(address, skipped_fresh=True, new_transactions=0, new_swaps=0)
        Wallet.objects.filter(pk=address).update(sync_status=Wallet.SyncStatus.SYNCING, sync_error="")
        provider = get_chain_provider()

        def checkpoint_and_renew() -> None:
            check()
            lock.renew()

        try:
            # A wallet synced before chain records were kept gets them from its cached transactions, and
            # its whole history is listed once more for the failed transactions that were never fetched.
            legacy = bool(wallet.newest_signature) and not _has_chain_records(address)
            if legacy:
                with transaction.atomic():
                    _rebuild_from_cache(address)
            signatures = _new_signatures(
                provider,
                address=address,
                until="" if legacy else wallet.newest_signature,
                checkpoint=checkpoint_and_renew,
            )
            # Failed transactions are fetched too: they hold no swap, but their fees were paid.
            wanted = list(dict.fromkeys(entry["signature"] for entry in signatures))
            totals = _sync_windows(
                provider,
                address=address,
                signatures=wanted,
                positions=_block_positions(signatures),
                checkpoint=checkpoint_and_renew,
            )
            if totals.not_returned:
                raise IncompleteHistoryError(
                    f"the upstream listed {totals.not_returned} transaction(s) of wallet {address} but did "
                    "not return them; the rest is stored and the next attempt asks for these only"
                )
        except Exception as exc:  # whatever stopped the sync is recorded on the wallet, then raised
            Wallet.objects.filter(pk=address).update(
                sync_status=Wallet.SyncStatus.FAILED, sync_error=str(exc)[:2000]
            )
            raise

        newest = signatures[0]["signature"] if signatures else wallet.newest_signature
        Wallet.objects.filter(pk=address).update(
            sync_status=Wallet.SyncStatus.SYNCED,
            newest_signature=newest,
            last_synced_at=timezone.now(),
            sync_count=F("sync_count") + 1,
        )
    return WalletSyncOutcome(
        address,
        skipped_fresh=False,
        new_transactions=totals.stored,
        new_swaps=totals.swaps,
        fetched_transactions=totals.fetched,
    )


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
        TransactionEffect.objects.bulk_create(
            _effect_rows(address, extracted.records), ignore_conflicts=True, batch_size=1000
        )
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

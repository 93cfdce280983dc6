"""Writes of chain data: wallet sync and balance fetches."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config.errors import FatalError
from config.redis import balance_key, get_redis
from wallets.addresses import InvalidAddressError, validate_address
from wallets.extraction import extract_wallet_swaps
from wallets.locks import WalletSyncLock
from wallets.models import BalanceSnapshot, Swap, Wallet
from wallets.providers import (
    SIGNATURE_PAGE_LIMIT,
    TRANSACTIONS_BATCH_LIMIT,
    ChainProvider,
    get_chain_provider,
)
from wallets.swaps import SwapLeg

Checkpoint = Callable[[], None]


class InvalidWalletError(FatalError):
    """The address is not a valid Solana public key; no upstream call is made for it."""


@dataclass(frozen=True, slots=True)
class WalletSyncOutcome:
    address: str
    skipped_fresh: bool
    new_transactions: int
    new_swaps: int


def _checked_address(address: str) -> str:
    try:
        return validate_address(address)
    except InvalidAddressError as exc:
        raise InvalidWalletError(str(exc)) from exc


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


def _swap_rows(wallet: Wallet, legs: Iterable[SwapLeg]) -> list[Swap]:
    return [
        Swap(
            wallet=wallet,
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
        )
        for leg in legs
    ]


def _store_batch(wallet: Wallet, transactions: Sequence[dict[str, Any]]) -> tuple[int, int]:
    extracted = extract_wallet_swaps(transactions, wallet.address)
    rows = _swap_rows(wallet, extracted.legs)
    # ignore_conflicts makes a re-run after a crash idempotent: legs already stored are skipped.
    before = Swap.objects.filter(wallet=wallet).count()
    Swap.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    inserted = Swap.objects.filter(wallet=wallet).count() - before
    Wallet.objects.filter(pk=wallet.pk).update(swaps_unparsed=wallet.swaps_unparsed + extracted.unparsed)
    wallet.swaps_unparsed += extracted.unparsed
    return len(transactions), inserted


def wallet_sync(
    *, address: str, force: bool = False, checkpoint: Checkpoint | None = None
) -> WalletSyncOutcome:
    """Bring a wallet's swaps up to date, incrementally and idempotently.

    The newest stored signature moves only after every transaction newer than it is stored, so a sync
    killed half way starts again from the old mark and the unique legs absorb what was already written.
    """
    address = _checked_address(address)
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
            signatures = _new_signatures(
                provider, address=address, until=wallet.newest_signature, checkpoint=checkpoint_and_renew
            )
            wanted = [entry["signature"] for entry in signatures if entry.get("err") is None]
            transactions_seen = swaps_added = 0
            for start in range(0, len(wanted), TRANSACTIONS_BATCH_LIMIT):
                checkpoint_and_renew()
                batch = provider.get_transactions(wanted[start : start + TRANSACTIONS_BATCH_LIMIT])
                seen, added = _store_batch(wallet, batch)
                transactions_seen += seen
                swaps_added += added
        except Exception as exc:
            Wallet.objects.filter(pk=address).update(
                sync_status=Wallet.SyncStatus.FAILED, sync_error=str(exc)[:2000]
            )
            raise

        newest = signatures[0]["signature"] if signatures else wallet.newest_signature
        Wallet.objects.filter(pk=address).update(
            sync_status=Wallet.SyncStatus.SYNCED,
            newest_signature=newest,
            last_synced_at=timezone.now(),
            transactions_seen=wallet.transactions_seen + transactions_seen,
            sync_count=F("sync_count") + 1,
        )
    return WalletSyncOutcome(
        address, skipped_fresh=False, new_transactions=transactions_seen, new_swaps=swaps_added
    )


def _parse_token_account(entry: dict[str, Any]) -> dict[str, Any] | None:
    data = entry.get("account", {}).get("data", {})
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
        "token_account": entry.get("pubkey", ""),
    }


@transaction.atomic
def wallet_fetch_balances(*, address: str) -> dict[str, Any]:
    """Fetch SOL and token balances, keep a snapshot in the database and a 30 s copy in Redis."""
    address = _checked_address(address)
    provider = get_chain_provider()
    sol_lamports = provider.get_sol_balance(address)
    tokens_by_mint: dict[str, dict[str, Any]] = {}
    for entry in provider.get_token_accounts(address):
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
    wallet, _ = Wallet.objects.get_or_create(address=address)
    fetched_at = timezone.now()
    BalanceSnapshot.objects.create(
        wallet=wallet, fetched_at=fetched_at, sol_lamports=sol_lamports, tokens=tokens
    )
    balances = {
        "wallet": address,
        "sol_lamports": sol_lamports,
        "sol": sol_lamports / 1_000_000_000,
        "tokens": tokens,
        "fetched_at": fetched_at.isoformat(),
    }
    payload = json.dumps(balances)
    transaction.on_commit(
        lambda: get_redis().set(balance_key(address), payload, ex=settings.BALANCE_CACHE_TTL_S)
    )
    return balances

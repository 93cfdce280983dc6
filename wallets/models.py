from __future__ import annotations

import json
import zlib
from typing import Any

from django.db import models
from django.utils import timezone


class Wallet(models.Model):
    """A wallet's sync state and the stretch of its history that is stored (docs/ARCHITECTURE.md, "History
    depth"). Swaps and balances hang off it.

    The stored history is one run of the wallet's transactions, from `oldest_*` to `newest_*`, with every
    transaction in between stored (`history_signatures` of them): results read exactly that run. A sync
    extends it upward; deepening extends it downward, up to the caps (WALLET_HISTORY_MAX_SIGNATURES,
    WALLET_HISTORY_MAX_DAYS). Rows below `oldest_slot` can exist after a sync that found more new
    transactions than its window (the run restarts at the window; deepening walks back down through them).
    """

    class SyncStatus(models.TextChoices):
        NEVER = "never", "Never synced"
        SYNCING = "syncing", "Syncing"
        SYNCED = "synced", "Synced"
        FAILED = "failed", "Failed"

    class HistoryLimit(models.TextChoices):
        NONE = "", "Not limited"
        SIGNATURES = "signatures", "WALLET_HISTORY_MAX_SIGNATURES"
        DAYS = "days", "WALLET_HISTORY_MAX_DAYS"

    address = models.CharField(max_length=44, primary_key=True)
    sync_status = models.CharField(max_length=16, choices=SyncStatus.choices, default=SyncStatus.NEVER)
    # Newest signature whose transactions are all stored; the next sync pages back only to here.
    newest_signature = models.CharField(max_length=100, blank=True, default="")
    newest_slot = models.BigIntegerField(null=True, blank=True)
    newest_at = models.BigIntegerField(null=True, blank=True, help_text="Block time of newest_signature")
    # The bottom of the stored run; deepening pages back from here.
    oldest_signature = models.CharField(max_length=100, blank=True, default="")
    oldest_slot = models.BigIntegerField(null=True, blank=True)
    oldest_at = models.BigIntegerField(null=True, blank=True, help_text="Block time of oldest_signature")
    history_signatures = models.PositiveIntegerField(
        default=0, help_text="Transactions stored from oldest_slot to newest_slot"
    )
    history_complete = models.BooleanField(
        default=False, help_text="The stored run reaches the wallet's first transaction"
    )
    history_limited_by = models.CharField(
        max_length=12,
        choices=HistoryLimit.choices,
        blank=True,
        default=HistoryLimit.NONE,
        help_text="The cap that stopped deepening short of the first transaction",
    )
    history_error = models.TextField(blank=True, default="", help_text="Why the last deepening failed")
    last_synced_at = models.DateTimeField(null=True, blank=True)
    sync_error = models.TextField(blank=True, default="")
    transactions_seen = models.PositiveIntegerField(default=0, help_text="Transactions stored in all")
    sync_count = models.PositiveIntegerField(default=0, help_text="Syncs that reached the upstream")
    swaps_unparsed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["last_synced_at"]),
            # The sweep's look for wallets whose history is short of its caps, among incomplete ones only.
            models.Index(
                fields=["history_signatures"],
                name="wallet_history_incomplete",
                condition=models.Q(history_complete=False),
            ),
        ]

    def __str__(self) -> str:
        return self.address


class Swap(models.Model):
    """One leg of a swap seen from the wallet (docs/METHODS.md §1): exact raw amounts with their decimals."""

    class Direction(models.TextChoices):
        BUY = "buy", "Buy"
        SELL = "sell", "Sell"

    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="swaps")
    signature = models.CharField(max_length=100)
    slot = models.BigIntegerField()
    timestamp = models.BigIntegerField(help_text="Block time, unix seconds")
    mint = models.CharField(max_length=44)
    direction = models.CharField(max_length=4, choices=Direction.choices)
    token_amount_raw = models.DecimalField(max_digits=40, decimal_places=0)
    token_decimals = models.PositiveSmallIntegerField()
    quote_mint = models.CharField(max_length=44, blank=True, default="")
    quote_amount_raw = models.DecimalField(max_digits=40, decimal_places=0, default=0)
    quote_decimals = models.PositiveSmallIntegerField(default=0)
    sol_value_lamports = models.BigIntegerField(null=True, blank=True)
    usd_value = models.FloatField(null=True, blank=True)
    fee_lamports = models.BigIntegerField(default=0)
    source = models.CharField(max_length=40, blank=True, default="")
    block_position = models.PositiveIntegerField(
        default=0, help_text="Place among the wallet's transactions of the same slot, in block order"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["wallet", "signature", "mint", "direction"], name="swap_unique_leg"
            ),
        ]
        indexes = [models.Index(fields=["wallet", "timestamp"]), models.Index(fields=["mint"])]

    def __str__(self) -> str:
        return f"{self.direction} {self.mint} ({self.signature[:8]}…)"


class TransactionEffect(models.Model):
    """What one transaction of the wallet's history did to its own SOL, failed transactions included: the
    fee it paid, its SOL + WSOL change, the rent of its token accounts, and liquidity operations. Fees,
    the reconciliation of legs with the chain and liquidity reports read these (docs/METHODS.md)."""

    class Kind(models.TextChoices):
        SWAP = "swap", "Swap (legs)"
        LIQUIDITY = "liquidity", "Liquidity operation"
        FAILED = "failed", "Failed"
        UNREADABLE = "unreadable", "Unreadable"
        OTHER = "other", "Other"

    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="transaction_effects")
    signature = models.CharField(max_length=100)
    slot = models.BigIntegerField()
    block_position = models.PositiveIntegerField(default=0)
    timestamp = models.BigIntegerField(help_text="Block time, unix seconds")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    fee_lamports = models.BigIntegerField(help_text="Fee the wallet paid as fee payer (0 when another did)")
    sol_change_lamports = models.BigIntegerField(help_text="The wallet's SOL + WSOL change, fee included")
    rent_lamports = models.BigIntegerField(help_text="Rent deposited into its token accounts minus refunds")
    liquidity = models.JSONField(null=True, blank=True, help_text="Assets moved by a liquidity operation")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["wallet", "signature"], name="transaction_effect_one_per_tx")
        ]
        indexes = [
            models.Index(fields=["wallet", "timestamp"]),
            models.Index(fields=["kind"]),
            # The stored run's bounds and count, and pruning the oldest slots past the cap.
            models.Index(fields=["wallet", "slot", "block_position"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.signature[:8]}… ({self.wallet_id})"


class BalanceSnapshot(models.Model):
    """Balances as fetched; the Redis copy (`balance:{wallet}`, 30 s) is a cache of the newest row."""

    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="balance_snapshots")
    fetched_at = models.DateTimeField(db_index=True)
    sol_lamports = models.BigIntegerField()
    tokens = models.JSONField(default=list, help_text="[{mint, amount_raw, decimals, ui_amount, program}]")

    class Meta:
        get_latest_by = "fetched_at"
        indexes = [models.Index(fields=["wallet", "-fetched_at"])]

    def __str__(self) -> str:
        return f"{self.wallet_id} @ {self.fetched_at:%Y-%m-%d %H:%M:%S}"


class Token(models.Model):
    """A mint seen in a swap leg or a balance. Decimals never change for a mint; the token program is known
    from balances only (swap legs do not carry it), so it stays blank until a balance names it."""

    mint = models.CharField(max_length=44, primary_key=True)
    decimals = models.PositiveSmallIntegerField()
    token_program = models.CharField(max_length=44, blank=True, default="")
    first_seen_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.mint


class Transaction(models.Model):
    """The transaction cache: a Helius enhanced transaction as fetched, zlib-compressed JSON.

    Keyed by signature alone because the payload does not depend on the wallet asking; `wallets` links every
    wallet whose history holds it and whose swaps were extracted from it. A sync re-run after a crash reads
    these rows instead of the upstream, and swaps can be re-extracted from them when extraction improves.
    """

    signature = models.CharField(max_length=100, primary_key=True)
    slot = models.BigIntegerField()
    timestamp = models.BigIntegerField(help_text="Block time, unix seconds")
    payload = models.BinaryField(help_text="zlib-compressed JSON of the enhanced transaction")
    wallets = models.ManyToManyField(Wallet, related_name="transactions", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.signature

    @staticmethod
    def pack(payload: dict[str, Any]) -> bytes:
        return zlib.compress(json.dumps(payload, separators=(",", ":")).encode())

    @staticmethod
    def unpack(blob: bytes | memoryview) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(zlib.decompress(blob))
        return loaded

    @property
    def data(self) -> dict[str, Any]:
        return self.unpack(self.payload)


class NativeTransfer(models.Model):
    """SOL sent to a synced wallet by another account (`wallets.transfers`): the funding data of wallet
    linking. One row per (wallet, signature, sender), amounts summed within the transaction."""

    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="native_transfers_in")
    source = models.CharField(max_length=44, help_text="The sending account")
    signature = models.CharField(max_length=100)
    slot = models.BigIntegerField()
    timestamp = models.BigIntegerField(help_text="Block time, unix seconds")
    lamports = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["wallet", "signature", "source"], name="native_transfer_unique_per_sender"
            ),
        ]
        # (wallet, timestamp): a wallet's earliest funders; source: how many wallets one funder funded.
        indexes = [models.Index(fields=["wallet", "timestamp"]), models.Index(fields=["source"])]

    def __str__(self) -> str:
        return f"{self.source} -> {self.wallet_id}: {self.lamports} lamports ({self.signature[:8]}…)"

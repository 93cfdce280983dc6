from __future__ import annotations

from django.db import models


class Wallet(models.Model):
    """A wallet's sync state. Swaps and balances hang off it."""

    class SyncStatus(models.TextChoices):
        NEVER = "never", "Never synced"
        SYNCING = "syncing", "Syncing"
        SYNCED = "synced", "Synced"
        FAILED = "failed", "Failed"

    address = models.CharField(max_length=44, primary_key=True)
    sync_status = models.CharField(max_length=16, choices=SyncStatus.choices, default=SyncStatus.NEVER)
    # Newest signature whose transactions are all stored; the next sync pages back only to here.
    newest_signature = models.CharField(max_length=100, blank=True, default="")
    last_synced_at = models.DateTimeField(null=True, blank=True)
    sync_error = models.TextField(blank=True, default="")
    transactions_seen = models.PositiveIntegerField(default=0)
    sync_count = models.PositiveIntegerField(default=0, help_text="Syncs that reached the upstream")
    swaps_unparsed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["last_synced_at"])]

    def __str__(self) -> str:
        return self.address


class Swap(models.Model):
    """One leg of a swap seen from the wallet (SPEC §6.1): exact raw amounts with their decimals."""

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

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["wallet", "signature", "mint", "direction"], name="swap_unique_leg"
            ),
        ]
        indexes = [models.Index(fields=["wallet", "timestamp"]), models.Index(fields=["mint"])]

    def __str__(self) -> str:
        return f"{self.direction} {self.mint} ({self.signature[:8]}…)"


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

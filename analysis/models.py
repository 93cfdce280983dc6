"""Stored PnL and behaviour of wallets (docs/METHODS.md §2, §3).

One `AnalysisRun` per (wallet, kind) holds the latest computation and the inputs it saw; a recomputation
replaces its rows in one transaction. Headline figures are numeric columns so operators can filter and sort
on them; `data` keeps the exact JSON the analysis returned, so a stored result reads back bit for bit.
Wallets are referenced by address, not by a foreign key: `analysis` reaches `wallets` through its
selectors only.
"""

from __future__ import annotations

from django.db import models


class AnalysisRun(models.Model):
    class Kind(models.TextChoices):
        PNL = "pnl", "PnL"
        BEHAVIOR = "behavior", "Behaviour"

    wallet = models.CharField(max_length=44)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    computed_at = models.DateTimeField(db_index=True)
    duration_ms = models.PositiveIntegerField(
        default=0, help_text="Time to compute and store (shared price lookup excluded)"
    )
    compute_count = models.PositiveIntegerField(default=0, help_text="Computations so far (reuses excluded)")
    # Input fingerprint: a stored run is reused only while the wallet's swaps are still these.
    swap_count = models.PositiveIntegerField(default=0, help_text="Swap legs analysed")
    newest_signature = models.CharField(max_length=100, blank=True, default="")
    newest_swap_at = models.DateTimeField(null=True, blank=True)
    balances_fetched_at = models.DateTimeField(
        null=True, blank=True, help_text="Balance snapshot used for current holdings (PnL only)"
    )
    sol_price_usd = models.FloatField(null=True, blank=True)
    prices_error = models.CharField(
        max_length=300,
        blank=True,
        default="",
        help_text="Why prices were unavailable; such runs are not reused",
    )
    sol_usd_error = models.CharField(
        max_length=300,
        blank=True,
        default="",
        help_text="Why SOL/USD at trade time was (partly) unavailable; such runs are not reused",
    )
    history = models.JSONField(
        null=True,
        blank=True,
        help_text="The stored history the run read ({from, to, signatures, complete, limited_by}); a run is "
        "reused only while the wallet's history is still this",
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["wallet", "kind"], name="analysis_run_one_per_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.wallet} @ {self.computed_at:%Y-%m-%d %H:%M:%S}"


class WalletPnlSummary(models.Model):
    """Wallet totals of a PnL run, in SOL (USD at trade time where the SOL/USD history allowed)."""

    run = models.OneToOneField(AnalysisRun, on_delete=models.CASCADE, related_name="pnl_summary")
    wallet = models.CharField(max_length=44, db_index=True)
    tokens_traded = models.PositiveIntegerField()
    tokens_open = models.PositiveIntegerField()
    tokens_closed = models.PositiveIntegerField()
    tokens_dust = models.PositiveIntegerField()
    tokens_unpriced = models.PositiveIntegerField(help_text="Held tokens marked at zero (no usable price)")
    unpriced_open_cost_sol = models.FloatField(
        null=True, blank=True, help_text="Cost still held in unpriced tokens (null: stored before marks)"
    )
    swaps_parsed = models.PositiveIntegerField()
    legs_parsed = models.PositiveIntegerField()
    buy_count = models.PositiveIntegerField()
    sell_count = models.PositiveIntegerField()
    invested_sol = models.FloatField()
    proceeds_sol = models.FloatField()
    unknown_basis_proceeds_sol = models.FloatField()
    realized_pnl_sol = models.FloatField(db_index=True)
    unrealized_pnl_sol = models.FloatField(
        null=True, blank=True, help_text="Every held token marked (unpriced at zero); null in older runs"
    )
    total_pnl_sol = models.FloatField(db_index=True)
    net_pnl_sol = models.FloatField()
    fees_sol = models.FloatField(help_text="Every fee paid as fee payer, failed transactions included")
    failed_tx_count = models.PositiveIntegerField(null=True, blank=True)
    failed_tx_fees_sol = models.FloatField(null=True, blank=True)
    unexplained_lamports = models.BigIntegerField(
        null=True, blank=True, help_text="Reconciliation: chain change minus legs' cash flow (0 balances)"
    )
    result_version = models.PositiveSmallIntegerField(default=1)
    roi = models.FloatField(null=True, blank=True)
    win_rate = models.FloatField(null=True, blank=True)
    profit_factor = models.FloatField(null=True, blank=True)
    median_token_pnl_sol = models.FloatField(null=True, blank=True)
    trimmed_mean_token_pnl_sol = models.FloatField(null=True, blank=True)
    realized_pnl_usd = models.FloatField(null=True, blank=True)
    unrealized_pnl_usd = models.FloatField(null=True, blank=True)
    total_pnl_usd = models.FloatField(null=True, blank=True)
    first_trade_at = models.DateTimeField(null=True, blank=True)
    last_trade_at = models.DateTimeField(null=True, blank=True)
    data = models.JSONField(help_text="The wallet figures as returned (without the per-token rows)")

    def __str__(self) -> str:
        return f"PnL {self.wallet}: {self.total_pnl_sol:.4f} SOL"


class TokenPnlRow(models.Model):
    """One token's PnL in a run (average cost; hold time FIFO, quantity-weighted)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        DUST = "dust", "Dust"

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="token_pnl")
    mint = models.CharField(max_length=44)
    status = models.CharField(max_length=8, choices=Status.choices)
    buy_count = models.PositiveIntegerField()
    sell_count = models.PositiveIntegerField()
    # Raw amounts reach u64 and sums go beyond: exact decimals, like the swap legs.
    bought_qty_raw = models.DecimalField(max_digits=40, decimal_places=0)
    sold_qty_raw = models.DecimalField(max_digits=40, decimal_places=0)
    remaining_qty_raw = models.DecimalField(max_digits=40, decimal_places=0)
    unknown_basis_qty_raw = models.DecimalField(max_digits=40, decimal_places=0)
    invested_sol = models.FloatField()
    proceeds_sol = models.FloatField()
    realized_pnl_sol = models.FloatField()
    unrealized_pnl_sol = models.FloatField(
        null=True, blank=True, help_text="Unpriced held tokens are marked at zero; null in older runs"
    )
    total_pnl_sol = models.FloatField()
    roi = models.FloatField(null=True, blank=True)
    fees_sol = models.FloatField()
    price_status = models.CharField(
        max_length=8,
        blank=True,
        default="",
        db_index=True,
        help_text="priced / unpriced for a held token; blank when closed or stored before marks",
    )
    mark_price_sol = models.FloatField(null=True, blank=True, help_text="SOL per token; 0 when unpriced")
    hold_time_s = models.FloatField(null=True, blank=True)
    first_trade_at = models.DateTimeField()
    last_trade_at = models.DateTimeField()
    data = models.JSONField(help_text="The token's figures as returned")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "mint"], name="token_pnl_one_per_mint")]
        indexes = [models.Index(fields=["mint"])]

    def __str__(self) -> str:
        return f"{self.mint}: {self.total_pnl_sol:.4f} SOL ({self.status})"


class WalletBehavior(models.Model):
    """The behaviour profile of a run."""

    run = models.OneToOneField(AnalysisRun, on_delete=models.CASCADE, related_name="behavior")
    wallet = models.CharField(max_length=44, db_index=True)
    trades = models.PositiveIntegerField()
    buys = models.PositiveIntegerField()
    sells = models.PositiveIntegerField()
    transactions = models.PositiveIntegerField()
    tokens_traded = models.PositiveIntegerField()
    active_days = models.PositiveIntegerField()
    trades_per_active_day = models.FloatField(null=True, blank=True)
    buy_sell_ratio = models.FloatField(null=True, blank=True)
    buy_sell_symmetry = models.FloatField(null=True, blank=True)
    matched_exits = models.PositiveIntegerField()
    hold_p25_s = models.FloatField(null=True, blank=True)
    hold_median_s = models.FloatField(null=True, blank=True)
    hold_p75_s = models.FloatField(null=True, blank=True)
    exit_within_60s_share = models.FloatField(null=True, blank=True)
    exit_within_5m_share = models.FloatField(null=True, blank=True)
    exit_within_1h_share = models.FloatField(null=True, blank=True)
    reentry_rate = models.FloatField(null=True, blank=True)
    never_sold_share = models.FloatField(null=True, blank=True)
    median_position_size_sol = models.FloatField(null=True, blank=True)
    session_count = models.PositiveIntegerField()
    session_mean_length_s = models.FloatField(null=True, blank=True)
    flipper_score = models.FloatField(null=True, blank=True)
    speed_class = models.CharField(max_length=16, blank=True, default="", db_index=True)
    confidence = models.FloatField()
    tags = models.JSONField(default=list, blank=True)
    hour_histogram_utc = models.JSONField(default=list, blank=True, help_text="Trades per UTC hour (24)")
    first_trade_at = models.DateTimeField(null=True, blank=True)
    last_trade_at = models.DateTimeField(null=True, blank=True)
    data = models.JSONField(help_text="The profile as returned")

    def __str__(self) -> str:
        return f"behaviour {self.wallet}: {self.speed_class or 'unlabelled'}"

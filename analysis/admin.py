from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from analysis.models import AnalysisRun, TokenPnlRow, WalletBehavior, WalletPnlSummary


@admin.register(AnalysisRun)
class AnalysisRunAdmin(admin.ModelAdmin):
    list_display = (
        "wallet",
        "kind",
        "computed_at",
        "compute_count",
        "duration_ms",
        "swap_count",
        "sol_price_usd",
        "prices_error",
        "sol_usd_error",
    )
    list_filter = ("kind", "computed_at")
    search_fields = ("wallet", "newest_signature")
    date_hierarchy = "computed_at"
    readonly_fields = [field.name for field in AnalysisRun._meta.fields]


@admin.register(WalletPnlSummary)
class WalletPnlSummaryAdmin(admin.ModelAdmin):
    list_display = (
        "wallet",
        "total_pnl_sol",
        "realized_pnl_sol",
        "unrealized_pnl_sol",
        "tokens_unpriced",
        "unpriced_open_cost_sol",
        "fees_sol",
        "failed_tx_count",
        "unexplained_lamports",
        "win_rate",
        "roi",
        "tokens_traded",
        "swaps_parsed",
    )
    list_filter = ("result_version",)
    search_fields = ("wallet",)
    raw_id_fields = ("run",)
    readonly_fields = ("reconciliation",)

    @admin.display(description="Reconciliation (lamports)")
    def reconciliation(self, summary: WalletPnlSummary) -> str:
        figures: dict[str, Any] = (summary.data or {}).get("reconciliation") or {}
        if not figures:
            return "not available (stored before chain records were kept)"
        rows = format_html_join(
            "",
            "<li><code>{}</code>: {} lamports ({})</li>",
            (
                (item["signature"], item["lamports"], item["reason"])
                for item in figures.get("unexplained", [])
            ),
        )
        return format_html(
            "chain change {} · legs' cash flow {} · unexplained {} in {} transaction(s)<ul>{}</ul>",
            figures.get("chain_change_lamports"),
            figures.get("legs_cash_flow_lamports"),
            figures.get("unexplained_lamports"),
            figures.get("unexplained_count"),
            rows,
        )


@admin.register(TokenPnlRow)
class TokenPnlRowAdmin(admin.ModelAdmin):
    list_display = (
        "mint",
        "run",
        "status",
        "price_status",
        "mark_price_sol",
        "total_pnl_sol",
        "realized_pnl_sol",
        "unrealized_pnl_sol",
        "buy_count",
        "sell_count",
        "hold_time_s",
    )
    list_filter = ("status", "price_status")
    search_fields = ("mint", "run__wallet")
    list_select_related = ("run",)
    raw_id_fields = ("run",)


@admin.register(WalletBehavior)
class WalletBehaviorAdmin(admin.ModelAdmin):
    list_display = (
        "wallet",
        "speed_class",
        "trades",
        "trades_per_active_day",
        "hold_median_s",
        "flipper_score",
        "confidence",
    )
    list_filter = ("speed_class",)
    search_fields = ("wallet",)
    raw_id_fields = ("run",)

from django.contrib import admin

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
        "win_rate",
        "roi",
        "tokens_traded",
        "tokens_open",
        "swaps_parsed",
    )
    list_filter = ("total_includes_unrealized",)
    search_fields = ("wallet",)
    raw_id_fields = ("run",)


@admin.register(TokenPnlRow)
class TokenPnlRowAdmin(admin.ModelAdmin):
    list_display = (
        "mint",
        "run",
        "status",
        "total_pnl_sol",
        "realized_pnl_sol",
        "unrealized_pnl_sol",
        "buy_count",
        "sell_count",
        "hold_time_s",
    )
    list_filter = ("status",)
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

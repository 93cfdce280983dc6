from django.contrib import admin

from enrichment.models import TokenMetadata


@admin.register(TokenMetadata)
class TokenMetadataAdmin(admin.ModelAdmin):
    """Read-mostly: rows are DexScreener's answers; deleting one makes the next enrichment ask again."""

    list_display = (
        "mint",
        "symbol",
        "name",
        "status",
        "price_usd",
        "liquidity_usd",
        "market_cap_usd",
        "dex_id",
        "fetched_at",
        "last_requested_at",
    )
    list_filter = ("status", "dex_id", "fetched_at")
    search_fields = ("mint", "symbol", "name", "pair_address")
    readonly_fields = ("fetched_at", "last_requested_at")
    date_hierarchy = "fetched_at"
    ordering = ("-last_requested_at",)

from django.contrib import admin

from wallets.models import BalanceSnapshot, Swap, Wallet


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    list_display = ("address", "sync_status", "last_synced_at", "transactions_seen", "swaps_unparsed")
    list_filter = ("sync_status",)
    search_fields = ("address",)


@admin.register(Swap)
class SwapAdmin(admin.ModelAdmin):
    list_display = (
        "wallet",
        "direction",
        "mint",
        "token_amount_raw",
        "sol_value_lamports",
        "timestamp",
        "source",
    )
    list_filter = ("direction", "source")
    search_fields = ("wallet__address", "mint", "signature")
    raw_id_fields = ("wallet",)


@admin.register(BalanceSnapshot)
class BalanceSnapshotAdmin(admin.ModelAdmin):
    list_display = ("wallet", "fetched_at", "sol_lamports")
    search_fields = ("wallet__address",)
    raw_id_fields = ("wallet",)

import json

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from wallets.models import BalanceSnapshot, Swap, Token, Transaction, TransactionEffect, Wallet


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    list_display = (
        "address",
        "sync_status",
        "last_synced_at",
        "transactions_seen",
        "swaps_unparsed",
        "sync_count",
    )
    list_filter = ("sync_status",)
    search_fields = ("address",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(TransactionEffect)
class TransactionEffectAdmin(admin.ModelAdmin):
    """What each transaction did to its wallet's SOL: failed ones' fees, liquidity operations, the figures
    the PnL's reconciliation sets against the legs."""

    list_display = (
        "wallet",
        "signature",
        "kind",
        "fee_lamports",
        "sol_change_lamports",
        "rent_lamports",
        "timestamp",
    )
    list_filter = ("kind",)
    search_fields = ("wallet__address", "signature")
    raw_id_fields = ("wallet",)


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


@admin.register(Token)
class TokenAdmin(admin.ModelAdmin):
    list_display = ("mint", "decimals", "token_program", "first_seen_at")
    list_filter = ("token_program",)
    search_fields = ("mint",)


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    list_display = ("signature", "slot", "timestamp", "created_at")
    search_fields = ("signature", "wallets__address")
    raw_id_fields = ("wallets",)
    exclude = ("payload",)
    readonly_fields = ("signature", "slot", "timestamp", "created_at", "payload_json")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Transaction]:
        # The change list never shows the payload: do not read every compressed blob for it. The detail
        # page loads its one payload on access.
        return super().get_queryset(request).defer("payload")

    @admin.display(description="payload")
    def payload_json(self, obj: Transaction) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.data, indent=2))

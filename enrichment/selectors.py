"""Reads of stored token metadata; no upstream calls here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings

from enrichment.models import TokenMetadata


def token_metadata_fresh(*, mints: Sequence[str], now: datetime) -> dict[str, TokenMetadata]:
    """Rows (known or unknown) fetched within the freshness window, by mint."""
    fresh_since = now - timedelta(seconds=settings.TOKEN_METADATA_FRESHNESS_S)
    rows = TokenMetadata.objects.filter(mint__in=list(mints), fetched_at__gte=fresh_since)
    return {row.mint: row for row in rows}


def token_metadata_due_for_refresh(*, now: datetime, limit: int) -> list[str]:
    """Known tokens requested within TOKEN_METADATA_REFRESH_SEEN_DAYS and not fetched within the freshness
    window, most recently requested first; a refresh that was interrupted and runs again skips what it did."""
    seen_since = now - timedelta(days=settings.TOKEN_METADATA_REFRESH_SEEN_DAYS)
    fresh_since = now - timedelta(seconds=settings.TOKEN_METADATA_FRESHNESS_S)
    return list(
        TokenMetadata.objects.filter(
            status=TokenMetadata.Status.KNOWN, last_requested_at__gte=seen_since, fetched_at__lt=fresh_since
        )
        .order_by("-last_requested_at")
        .values_list("mint", flat=True)[:limit]
    )

"""Reads of stored token metadata and SOL/USD candles; no upstream calls here."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from django.conf import settings

from enrichment.models import SolUsdCandle, SolUsdHistoryRange, TokenMetadata

# Minutes per `IN (...)` query: a whale's history needs tens of thousands.
_IN_CHUNK = 5_000


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


def sol_usd_closes(*, minutes: Collection[int]) -> dict[int, float]:
    """Stored SOL/USD closes of exactly these minutes (minute starts, unix seconds)."""
    wanted = sorted(set(minutes))
    closes: dict[int, float] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        closes.update(SolUsdCandle.objects.filter(minute__in=chunk).values_list("minute", "close"))
    return closes


def sol_usd_closes_before(*, minutes: Collection[int], within_s: int) -> dict[int, float]:
    """Stored closes in the `within_s` seconds before each minute: what fills a gap in the feed."""
    closes: dict[int, float] = {}
    for minute in sorted(set(minutes)):
        row = (
            SolUsdCandle.objects.filter(minute__lt=minute, minute__gte=minute - within_s)
            .order_by("-minute")
            .values_list("minute", "close")
            .first()
        )
        if row is not None:
            closes[row[0]] = row[1]
    return closes


def sol_usd_covered(*, minutes: Collection[int]) -> set[int]:
    """Of these minutes, those inside a range the provider already answered in full."""
    if not minutes:
        return set()
    merged: list[list[int]] = []
    for start, end in (
        SolUsdHistoryRange.objects.filter(start_minute__lte=max(minutes), end_minute__gte=min(minutes))
        .order_by("start_minute")
        .values_list("start_minute", "end_minute")
    ):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    starts = [start for start, _ in merged]
    covered = set()
    for minute in minutes:
        index = bisect_right(starts, minute) - 1
        if index >= 0 and minute <= merged[index][1]:
            covered.add(minute)
    return covered

"""Token metadata and prices (DexScreener, kept in the database for a freshness window), the marks that value
open positions, SOL/USD at past minutes (kept in the database for good), and enriched balances: symbol,
name, image, price and value in USD and SOL for every token held."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from redis.exceptions import RedisError

from core.db import bulk_insert_new
from core.errors import FatalError, TransientError
from core.redis import enrichment_key, get_redis, sol_usd_fetch_lock_key
from enrichment.candles import (
    GAP_TOLERANCE_S,
    MINUTE_S,
    HistoryAnswer,
    HistoryAnswerError,
    parse_history,
    plan_ranges,
    resolve_minutes,
)
from enrichment.models import SolUsdCandle, SolUsdHistoryRange, TokenMetadata
from enrichment.pricing import TokenQuote, best_quotes, mark_in_sol, price_in_sol
from enrichment.providers import (
    MAX_MINTS_PER_CALL,
    PriceProvider,
    SolUsdHistoryProvider,
    get_price_provider,
    get_sol_usd_history_provider,
)
from enrichment.selectors import (
    sol_usd_closes,
    sol_usd_covered,
    token_metadata_due_for_refresh,
    token_metadata_fresh,
)
from wallets.swaps import SOL_MINT

logger = logging.getLogger(__name__)

# `last_requested_at` only decides what the 6-hourly refresh keeps warm: bumping it hourly is plenty and
# spares a write per enrichment.
REQUESTED_BUMP_INTERVAL = timedelta(hours=1)

_KNOWN_FIELDS = [
    "status",
    "symbol",
    "name",
    "image_url",
    "price_usd",
    "price_native",
    "quote_mint",
    "liquidity_usd",
    "market_cap_usd",
    "fdv_usd",
    "pair_address",
    "dex_id",
    "fetched_at",
]
# A token that lost its pairs keeps the name and image we knew; only its price goes.
_UNKNOWN_FIELDS = ["status", "price_usd", "price_native", "liquidity_usd", "fetched_at"]


def _known_row(quote: TokenQuote, *, now: datetime) -> TokenMetadata:
    return TokenMetadata(
        mint=quote.mint,
        status=TokenMetadata.Status.KNOWN,
        symbol=quote.symbol[:64],
        name=quote.name[:200],
        image_url=quote.image_url or "",
        price_usd=quote.price_usd,
        price_native=quote.price_native,
        quote_mint=quote.quote_mint[:44],
        liquidity_usd=quote.liquidity_usd,
        market_cap_usd=quote.market_cap_usd,
        fdv_usd=quote.fdv_usd,
        pair_address=quote.pair_address[:64],
        dex_id=quote.dex_id[:64],
        fetched_at=now,
        last_requested_at=now,
    )


def _unknown_row(mint: str, *, now: datetime) -> TokenMetadata:
    return TokenMetadata(
        mint=mint, status=TokenMetadata.Status.UNKNOWN, fetched_at=now, last_requested_at=now
    )


def token_metadata_store(
    *, mints: Sequence[str], quotes: dict[str, TokenQuote], now: datetime
) -> dict[str, TokenMetadata]:
    """Upsert what one upstream answer said about `mints`: a quote makes a token known, no quote unknown.

    Upserts, so concurrent enrichments of the same tokens cannot collide. Each statement commits on its own
    (rows in mint order) rather than both in one transaction: two workers holding row locks across two
    statements could deadlock, and each row is a complete fact either way. `last_requested_at` of existing
    rows is left to `token_metadata_mark_requested`, so a refresh does not make a token look wanted.
    """
    known = [_known_row(quotes[mint], now=now) for mint in mints if mint in quotes]
    unknown = [_unknown_row(mint, now=now) for mint in mints if mint not in quotes]
    for rows, fields in ((known, _KNOWN_FIELDS), (unknown, _UNKNOWN_FIELDS)):
        if rows:
            TokenMetadata.objects.bulk_create(
                rows, update_conflicts=True, unique_fields=["mint"], update_fields=fields
            )
    return {row.mint: row for row in [*known, *unknown]}


def token_metadata_fetch(
    *, mints: Sequence[str], provider: PriceProvider, now: datetime
) -> dict[str, TokenMetadata]:
    """Ask the provider about `mints`, at most 30 a call, storing each answer before the next call, so a
    failure part-way keeps what came back and a retry asks only for the rest."""
    unique = sorted(set(mints))
    stored: dict[str, TokenMetadata] = {}
    for start in range(0, len(unique), MAX_MINTS_PER_CALL):
        chunk = unique[start : start + MAX_MINTS_PER_CALL]
        quotes = best_quotes(provider.get_pairs(chunk), chunk)
        stored.update(token_metadata_store(mints=chunk, quotes=quotes, now=now))
    return stored


def token_metadata_mark_requested(*, mints: Sequence[str], now: datetime) -> int:
    return TokenMetadata.objects.filter(
        mint__in=list(mints), last_requested_at__lt=now - REQUESTED_BUMP_INTERVAL
    ).update(last_requested_at=now)


def enrichment_quotes(
    *, mints: Sequence[str], provider: PriceProvider | None = None, now: datetime | None = None
) -> dict[str, TokenQuote]:
    """Quotes of the tokens DexScreener prices: fresh database rows first, the provider for the rest.

    Tokens without a base-side pair are recorded as unknown and left out; within the freshness window they
    are not asked for again.
    """
    unique = sorted(set(mints))
    if not unique:
        return {}
    now = now or timezone.now()
    rows = token_metadata_fresh(mints=unique, now=now)
    missing = [mint for mint in unique if mint not in rows]
    # The fresh rows say when they were last requested: most need no bump, and then no statement is sent.
    bump_before = now - REQUESTED_BUMP_INTERVAL
    due = [*missing, *(mint for mint, row in rows.items() if row.last_requested_at < bump_before)]
    if missing:
        rows.update(token_metadata_fetch(mints=missing, provider=provider or get_price_provider(), now=now))
    if due:
        token_metadata_mark_requested(mints=due, now=now)
    return {mint: row.to_quote() for mint, row in rows.items() if row.status == TokenMetadata.Status.KNOWN}


@dataclass(frozen=True, slots=True)
class Marks:
    """What open positions are marked at: usable prices in SOL, why the others are unpriced, SOL/USD now."""

    prices_sol: dict[str, float]
    unpriced: dict[str, str]  # mint -> reason
    sol_usd: float | None


def enrichment_marks(
    *, mints: Sequence[str], provider: PriceProvider | None = None, min_liquidity_usd: float | None = None
) -> Marks:
    """Marks for `mints`: a price is usable when the token is its pair's base, the pair holds at least
    PRICE_MIN_LIQUIDITY_USD and the price is finite and positive (docs/METHODS.md)."""
    minimum = settings.PRICE_MIN_LIQUIDITY_USD if min_liquidity_usd is None else min_liquidity_usd
    quotes = enrichment_quotes(mints=[*mints, SOL_MINT], provider=provider)
    sol_quote = quotes.get(SOL_MINT)
    sol_usd = sol_quote.price_usd if sol_quote else None
    prices: dict[str, float] = {}
    unpriced: dict[str, str] = {}
    for mint in sorted(set(mints)):
        price, reason = mark_in_sol(quotes.get(mint), sol_usd, min_liquidity_usd=minimum)
        if price is not None:
            prices[mint] = price
        else:
            unpriced[mint] = reason or "unpriced"
    return Marks(prices, unpriced, sol_usd)


def enrichment_prices_sol(
    *, mints: Sequence[str], provider: PriceProvider | None = None
) -> tuple[dict[str, float], float | None]:
    """Usable current prices in SOL of `mints` (the marks' rule), and SOL/USD."""
    marks = enrichment_marks(mints=mints, provider=provider)
    return marks.prices_sol, marks.sol_usd


# ---------------------------------------------------------------------------------------------------------
# SOL/USD at past minutes
# ---------------------------------------------------------------------------------------------------------

# A minute's candle is final once the minute has closed; give the provider another minute to publish it.
CANDLE_FINAL_AFTER_S = 2 * MINUTE_S
# Requests one computation may make: a long history's first computation stays well inside the analysis
# queue's time limit, and the next computation goes on where it stopped (the candles are stored).
MAX_HISTORY_CALLS = 60


@dataclass(frozen=True, slots=True)
class SolUsdHistory:
    """SOL/USD at the wanted minutes. `by_minute` is None when nothing could be had; `error` says why
    anything is missing (None when every wanted minute has a price)."""

    by_minute: dict[int, float] | None
    error: str | None
    calls: int  # requests made to the provider


def _store_candles(answer: HistoryAnswer, *, start: int, end: int, now: datetime) -> dict[int, float]:
    """Store the final candles of an answer and, when the range is all in the past, the range itself."""
    final_before = int(now.timestamp()) - CANDLE_FINAL_AFTER_S
    final = [candle for candle in answer.candles if candle.minute + MINUTE_S <= final_before]
    bulk_insert_new(
        SolUsdCandle,
        [
            {
                "minute": candle.minute,
                "open": candle.open,
                "high": candle.high,
                "low": candle.low,
                "close": candle.close,
                "fetched_at": now,
            }
            for candle in final
        ],
    )
    if end < final_before:
        SolUsdHistoryRange.objects.create(start_minute=start, end_minute=end, fetched_at=now)
    return {candle.minute: candle.close for candle in answer.candles}


# How long a fetch of one day's candles may hold that day for itself; another caller waits that long at most.
_DAY_FETCH_LOCK_S = 30


def _another_fetch_stored(*, start: int, end: int) -> bool:
    """Take the range for this caller (False: fetch it), or wait while another caller fetches it (True once
    its answer is stored, or once it gave up: the missing minutes are then reported, not fetched twice)."""
    key = sol_usd_fetch_lock_key(start)
    try:
        client = get_redis()
        if client.set(key, end, nx=True, ex=_DAY_FETCH_LOCK_S):
            return False
        deadline = time.monotonic() + _DAY_FETCH_LOCK_S
        while time.monotonic() < deadline and client.exists(key):
            time.sleep(0.1)
    except RedisError:
        return False
    return True


def _fetch_range(
    provider: SolUsdHistoryProvider | None, *, start: int, end: int, now: datetime, closes: dict[int, float]
) -> str | None:
    """Fetch one range and store its final candles into the database and `closes`; the reason when not."""
    try:
        body = (provider or get_sol_usd_history_provider()).get_history(start=start, end=end)
        answer = parse_history(body, start=start, end=end)
    except HistoryAnswerError as exc:
        return f"SOL/USD history unusable: {exc}"
    except (TransientError, FatalError, RedisError) as exc:
        return f"SOL/USD history unavailable: {type(exc).__name__}: {exc}"[:300]
    if answer.no_data:
        return f"SOL/USD history has no data from {start} to {end}"
    closes.update(_store_candles(answer, start=start, end=end, now=now))
    return None


def sol_usd_history(
    *,
    minutes: Collection[int],
    provider: SolUsdHistoryProvider | None = None,
    now: datetime | None = None,
    max_calls: int = MAX_HISTORY_CALLS,
) -> SolUsdHistory:
    """SOL/USD at each wanted minute (minute starts, unix s): stored candles first; the provider is asked
    only for minutes neither stored nor inside a range it already answered, in ranges, not per minute.

    Never raises for the provider's sake: an unreachable provider, garbage, an error, an empty answer or a
    price that is not a finite positive number give the reason in `error`, and nothing of that answer is
    stored. A minute without its own candle takes the last close within GAP_TOLERANCE_S before it.
    """
    wanted = {minute - minute % MINUTE_S for minute in minutes}
    if not wanted:
        return SolUsdHistory({}, None, 0)
    now = now or timezone.now()
    now_ts = int(now.timestamp())
    closes = sol_usd_closes(minutes=wanted)
    missing = wanted - closes.keys()
    missing -= sol_usd_covered(minutes=missing)
    errors: list[str] = []
    calls = 0
    ranges = plan_ranges(m for m in missing if m <= now_ts)
    if len(ranges) > max_calls:
        errors.append(
            f"SOL/USD history: {len(ranges) - max_calls} of {len(ranges)} ranges still to fetch; "
            "the next computation goes on"
        )
    for first, last in ranges[:max_calls]:
        start, end = first, min(last + MINUTE_S - 1, now_ts)
        if _another_fetch_stored(start=start, end=end):
            # Parallel syncs of wallets that traded the same day: one fetches it, the others read it.
            closes.update(sol_usd_closes(minutes={m for m in missing if start <= m <= end}))
            continue
        calls += 1
        try:
            error = _fetch_range(provider, start=start, end=end, now=now, closes=closes)
        finally:
            with contextlib.suppress(RedisError):
                get_redis().delete(sol_usd_fetch_lock_key(start))
        if error is not None:
            errors.append(error)
            if not error.startswith("SOL/USD history has no data"):
                break
    gaps = wanted - closes.keys()
    if gaps:
        earlier = {gap - step for gap in gaps for step in range(MINUTE_S, GAP_TOLERANCE_S + 1, MINUTE_S)}
        closes.update(sol_usd_closes(minutes=earlier - closes.keys()))
    resolved = resolve_minutes(wanted, closes)
    if not resolved and errors:
        return SolUsdHistory(None, errors[0], calls)
    unresolved = len(wanted) - len(resolved)
    error = errors[0] if errors else None
    if error is None and unresolved:
        error = f"no SOL/USD price for {unresolved} minute(s)"
    if errors:
        logger.warning("SOL/USD history: %s (%d of %d minutes resolved)", error, len(resolved), len(wanted))
    return SolUsdHistory(resolved, error, calls)


def token_metadata_refresh(
    *, provider: PriceProvider | None = None, now: datetime | None = None
) -> dict[str, int]:
    """Re-fetch the known tokens jobs asked for recently whose metadata went stale (the 6-hourly beat)."""
    now = now or timezone.now()
    mints = token_metadata_due_for_refresh(now=now, limit=settings.TOKEN_METADATA_REFRESH_MAX_TOKENS)
    if not mints:
        return {"refreshed": 0, "now_unknown": 0}
    rows = token_metadata_fetch(mints=mints, provider=provider or get_price_provider(), now=now)
    now_unknown = sum(1 for row in rows.values() if row.status == TokenMetadata.Status.UNKNOWN)
    logger.info("refreshed %d tokens' metadata (%d no longer priced)", len(rows), now_unknown)
    return {"refreshed": len(rows), "now_unknown": now_unknown}


def _enrich_wallet(
    balance: dict[str, Any], quotes: dict[str, TokenQuote], sol_usd: float | None, *, min_liquidity_usd: float
) -> dict[str, Any]:
    """Values only where the price is usable (the marks' rule), so a $3 pool or a garbage price never
    inflates a total; the price itself is still shown with its status."""
    tokens = []
    total_usd = total_sol = 0.0
    for token in balance.get("tokens", []):
        quote = quotes.get(token["mint"])
        amount = float(token["ui_amount"])
        mark, reason = mark_in_sol(quote, sol_usd, min_liquidity_usd=min_liquidity_usd)
        price_usd = quote.price_usd if quote else None
        value_sol = amount * mark if mark is not None else None
        value_usd = amount * price_usd if mark is not None and price_usd is not None else None
        total_usd += value_usd or 0.0
        total_sol += value_sol or 0.0
        tokens.append(
            {
                "mint": token["mint"],
                "amount": amount,
                "symbol": quote.symbol if quote else None,
                "name": quote.name if quote else None,
                "image_url": quote.image_url if quote else None,
                "price_usd": price_usd,
                "price_sol": price_in_sol(quote, sol_usd) if quote else None,
                "price_status": "priced" if mark is not None else "unpriced",
                "unpriced_reason": reason,
                "value_usd": value_usd,
                "value_sol": value_sol,
                "liquidity_usd": quote.liquidity_usd if quote else None,
                "market_cap_usd": quote.market_cap_usd if quote else None,
            }
        )
    tokens.sort(key=lambda item: item["value_usd"] or 0.0, reverse=True)
    sol = float(balance["sol"])
    sol_value_usd = sol * sol_usd if sol_usd else None
    return {
        "wallet": balance["wallet"],
        "sol": sol,
        "sol_value_usd": sol_value_usd,
        "tokens": tokens,
        "total_value_usd": total_usd + (sol_value_usd or 0.0),
        "total_value_sol": total_sol + sol,
    }


def enrichment_enrich_balances(
    *, job_id: str, balances: Sequence[dict[str, Any]], provider: PriceProvider | None = None
) -> dict[str, Any]:
    mints = {token["mint"] for balance in balances for token in balance.get("tokens", [])}
    quotes = enrichment_quotes(mints=[*mints, SOL_MINT], provider=provider)
    sol_quote = quotes.get(SOL_MINT)
    sol_usd = sol_quote.price_usd if sol_quote else None
    minimum = settings.PRICE_MIN_LIQUIDITY_USD
    priced = {mint for mint in mints if mark_in_sol(quotes.get(mint), sol_usd, min_liquidity_usd=minimum)[0]}
    enriched = {
        "status": "completed",
        "sol_price_usd": sol_usd,
        "min_liquidity_usd": minimum,
        "priced_tokens": len(priced),
        "unpriced_tokens": len(mints) - len(priced),
        "balances": [
            _enrich_wallet(balance, quotes, sol_usd, min_liquidity_usd=minimum) for balance in balances
        ],
    }
    # The ledger copy (merged into the job's result) is the one that matters; the cache is a convenience.
    with contextlib.suppress(RedisError):
        get_redis().set(enrichment_key(job_id), json.dumps(enriched), ex=settings.ENRICHMENT_CACHE_TTL_S)
    return enriched

"""Enriched balances: symbol, name, image, price and value in USD and SOL for every token held."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError

from config.redis import enrichment_key, get_redis
from enrichment.pricing import TokenQuote, best_quotes
from enrichment.providers import MAX_MINTS_PER_CALL, get_price_provider
from wallets.swaps import SOL_MINT


def enrichment_quotes(*, mints: Sequence[str]) -> dict[str, TokenQuote]:
    provider = get_price_provider()
    unique = sorted(set(mints))
    quotes: dict[str, TokenQuote] = {}
    for start in range(0, len(unique), MAX_MINTS_PER_CALL):
        chunk = unique[start : start + MAX_MINTS_PER_CALL]
        quotes.update(best_quotes(provider.get_pairs(chunk), chunk))
    return quotes


def _enrich_wallet(
    balance: dict[str, Any], quotes: dict[str, TokenQuote], sol_usd: float | None
) -> dict[str, Any]:
    tokens = []
    total_usd = 0.0
    for token in balance.get("tokens", []):
        quote = quotes.get(token["mint"])
        price_usd = quote.price_usd if quote else None
        value_usd = token["ui_amount"] * price_usd if price_usd is not None else None
        total_usd += value_usd or 0.0
        tokens.append(
            {
                "mint": token["mint"],
                "amount": token["ui_amount"],
                "symbol": quote.symbol if quote else None,
                "name": quote.name if quote else None,
                "image_url": quote.image_url if quote else None,
                "price_usd": price_usd,
                "value_usd": value_usd,
                "value_sol": value_usd / sol_usd if value_usd is not None and sol_usd else None,
            }
        )
    tokens.sort(key=lambda item: item["value_usd"] or 0.0, reverse=True)
    sol_value_usd = balance["sol"] * sol_usd if sol_usd else None
    return {
        "wallet": balance["wallet"],
        "sol": balance["sol"],
        "sol_value_usd": sol_value_usd,
        "tokens": tokens,
        "total_value_usd": total_usd + (sol_value_usd or 0.0),
    }


def enrichment_enrich_balances(*, job_id: str, balances: Sequence[dict[str, Any]]) -> dict[str, Any]:
    mints = [token["mint"] for balance in balances for token in balance.get("tokens", [])]
    quotes = enrichment_quotes(mints=[*mints, SOL_MINT])
    sol_quote = quotes.get(SOL_MINT)
    sol_usd = sol_quote.price_usd if sol_quote else None
    enriched = {
        "status": "completed",
        "sol_price_usd": sol_usd,
        "priced_tokens": sum(1 for mint in set(mints) if mint in quotes),
        "unpriced_tokens": sum(1 for mint in set(mints) if mint not in quotes),
        "balances": [_enrich_wallet(balance, quotes, sol_usd) for balance in balances],
    }
    # The ledger copy (merged into the job's result) is the one that matters; the cache is a convenience.
    with contextlib.suppress(RedisError):
        get_redis().set(enrichment_key(job_id), json.dumps(enriched), ex=settings.ENRICHMENT_CACHE_TTL_S)
    return enriched

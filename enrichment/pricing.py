"""Pure price selection from DexScreener pairs: a pair lists a token on either side and only the base side's
`priceUsd` is that token's price. Numbers that are not finite ("NaN", "Infinity") are rejected where they
enter, so they can reach neither the database's JSON nor a total; prices must also be positive.

A price *marks* a position only when it is usable (docs/METHODS.md): the token is the pair's base, the pair
holds at least PRICE_MIN_LIQUIDITY_USD and the price is finite and positive.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from wallets.swaps import SOL_MINT, USDC_MINT

# SOL's USD price comes from its reference market only: SOL as base against USDC. Many pairs list SOL as base
# against other quotes (memecoins, LSTs) whose "USD" price is derived and noisier.
REFERENCE_QUOTES: Mapping[str, frozenset[str]] = {SOL_MINT: frozenset({USDC_MINT})}


@dataclass(frozen=True, slots=True)
class TokenQuote:
    mint: str
    symbol: str
    name: str
    image_url: str | None
    price_usd: float | None
    price_native: float | None  # in the pair's quote token; SOL for SOL pairs
    quote_mint: str
    liquidity_usd: float
    market_cap_usd: float | None
    fdv_usd: float | None
    pair_address: str
    dex_id: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "mint": self.mint,
            "symbol": self.symbol,
            "name": self.name,
            "image_url": self.image_url,
            "price_usd": self.price_usd,
            "price_native": self.price_native,
            "quote_mint": self.quote_mint,
            "liquidity_usd": self.liquidity_usd,
            "market_cap_usd": self.market_cap_usd,
            "fdv_usd": self.fdv_usd,
            "pair_address": self.pair_address,
            "dex_id": self.dex_id,
        }


def _float(value: Any) -> float | None:
    """A finite number, or None: DexScreener sends numbers as strings, and "NaN"/"Infinity" parse."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _price(value: Any) -> float | None:
    number = _float(value)
    return number if number is not None and number > 0 else None


def _amount(value: Any) -> float | None:
    number = _float(value)
    return number if number is not None and number >= 0 else None


def best_quotes(
    pairs: Iterable[Mapping[str, Any]],
    mints: Iterable[str],
    *,
    reference_quotes: Mapping[str, Collection[str]] = REFERENCE_QUOTES,
) -> dict[str, TokenQuote]:
    """For each wanted mint, the most liquid pair where it is the BASE token; quote-side pairs are ignored.

    A pair with a valid price wins over any pair without one, so a garbage price on a deep pool does not hide
    a good one elsewhere. A mint named in `reference_quotes` is priced only from pairs against one of its
    listed quote mints.
    """
    wanted = set(mints)
    best: dict[str, TokenQuote] = {}
    for pair in pairs:
        base = pair.get("baseToken") or {}
        mint = base.get("address")
        if mint not in wanted:
            continue
        quote_mint = str((pair.get("quoteToken") or {}).get("address") or "")
        allowed = reference_quotes.get(mint)
        if allowed is not None and quote_mint not in allowed:
            continue
        liquidity = _amount((pair.get("liquidity") or {}).get("usd")) or 0.0
        price_usd = _price(pair.get("priceUsd"))
        current = best.get(mint)
        if current is not None and (current.price_usd is not None, current.liquidity_usd) >= (
            price_usd is not None,
            liquidity,
        ):
            continue
        best[mint] = TokenQuote(
            mint=mint,
            symbol=str(base.get("symbol") or ""),
            name=str(base.get("name") or ""),
            image_url=(pair.get("info") or {}).get("imageUrl"),
            price_usd=price_usd,
            price_native=_price(pair.get("priceNative")),
            quote_mint=quote_mint,
            liquidity_usd=liquidity,
            market_cap_usd=_amount(pair.get("marketCap")),
            fdv_usd=_amount(pair.get("fdv")),
            pair_address=str(pair.get("pairAddress") or ""),
            dex_id=str(pair.get("dexId") or ""),
        )
    return best


def sol_usd_price(pairs: Iterable[Mapping[str, Any]]) -> float | None:
    """SOL/USD from the most liquid SOL-base/USDC-quote pair, or None when the pairs hold none."""
    quote = best_quotes(pairs, [SOL_MINT]).get(SOL_MINT)
    return quote.price_usd if quote else None


def price_in_sol(quote: TokenQuote, sol_usd: float | None) -> float | None:
    """The token's price in SOL: the pair's own native price when it trades against SOL (no cross-rate
    noise), else its USD price over SOL's. None unless finite and positive."""
    if quote.mint == SOL_MINT:
        return 1.0
    if quote.quote_mint == SOL_MINT and quote.price_native is not None:
        return _price(quote.price_native)
    if quote.price_usd is None or sol_usd is None:
        return None
    return _price(quote.price_usd / sol_usd) if _price(sol_usd) else None


UnpricedReason = str


def mark_in_sol(
    quote: TokenQuote | None, sol_usd: float | None, *, min_liquidity_usd: float
) -> tuple[float | None, UnpricedReason | None]:
    """(usable price in SOL, None) or (None, why the token cannot be marked).

    `best_quotes` has already kept base-side pairs only; here the pool must be deep enough and the price
    finite and positive.
    """
    if quote is None:
        return None, "no pair lists the token as its base"
    if quote.liquidity_usd < min_liquidity_usd:
        return None, f"liquidity ${quote.liquidity_usd:,.2f} below the ${min_liquidity_usd:,.0f} minimum"
    price = price_in_sol(quote, sol_usd)
    if price is None:
        return None, "no finite positive price"
    return price, None

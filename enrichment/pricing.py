"""Pure price selection from DexScreener pairs (SPEC §8: a pair lists a token on either side; only the
base side's `priceUsd` is that token's price)."""

from __future__ import annotations

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
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def best_quotes(
    pairs: Iterable[Mapping[str, Any]],
    mints: Iterable[str],
    *,
    reference_quotes: Mapping[str, Collection[str]] = REFERENCE_QUOTES,
) -> dict[str, TokenQuote]:
    """For each wanted mint, the most liquid pair where it is the BASE token; quote-side pairs are ignored.

    A mint named in `reference_quotes` is priced only from pairs against one of its listed quote mints.
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
        liquidity = _float((pair.get("liquidity") or {}).get("usd")) or 0.0
        current = best.get(mint)
        if current is not None and current.liquidity_usd >= liquidity:
            continue
        best[mint] = TokenQuote(
            mint=mint,
            symbol=str(base.get("symbol") or ""),
            name=str(base.get("name") or ""),
            image_url=(pair.get("info") or {}).get("imageUrl"),
            price_usd=_float(pair.get("priceUsd")),
            price_native=_float(pair.get("priceNative")),
            quote_mint=quote_mint,
            liquidity_usd=liquidity,
            market_cap_usd=_float(pair.get("marketCap")),
            fdv_usd=_float(pair.get("fdv")),
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
    noise), else its USD price over SOL's."""
    if quote.mint == SOL_MINT:
        return 1.0
    if quote.quote_mint == SOL_MINT and quote.price_native is not None:
        return quote.price_native
    if quote.price_usd is None or not sol_usd:
        return None
    return quote.price_usd / sol_usd

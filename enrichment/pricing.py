"""Pure price selection from DexScreener pairs (SPEC §8: a pair lists a token on either side; only the
base side's `priceUsd` is that token's price)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


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


def best_quotes(pairs: Iterable[Mapping[str, Any]], mints: Iterable[str]) -> dict[str, TokenQuote]:
    """For each wanted mint, the most liquid pair where it is the BASE token; quote-side pairs are ignored."""
    wanted = set(mints)
    best: dict[str, TokenQuote] = {}
    for pair in pairs:
        base = pair.get("baseToken") or {}
        mint = base.get("address")
        if mint not in wanted:
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
            quote_mint=str((pair.get("quoteToken") or {}).get("address") or ""),
            liquidity_usd=liquidity,
            market_cap_usd=_float(pair.get("marketCap")),
            fdv_usd=_float(pair.get("fdv")),
            pair_address=str(pair.get("pairAddress") or ""),
            dex_id=str(pair.get("dexId") or ""),
        )
    return best

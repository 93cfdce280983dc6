"""Token price sources: DexScreener over HTTP, or the simulated market's DexScreener-shaped pairs."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings

from config.http import build_session, request_json
from config.ratelimit import rate_limit_acquire

MAX_MINTS_PER_CALL = 30


class PriceProvider(Protocol):
    def get_pairs(self, mints: Sequence[str]) -> list[dict[str, Any]]: ...


class DexScreenerClient:
    """`GET {base}/tokens/v1/solana/{mints}`: at most 30 mints a call, 300 requests/min shared globally."""

    def __init__(self, *, base_url: str, timeout_s: float, rate_limit: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.rate_limit = rate_limit
        self.session = build_session()

    def get_pairs(self, mints: Sequence[str]) -> list[dict[str, Any]]:
        if len(mints) > MAX_MINTS_PER_CALL:
            raise ValueError(f"DexScreener takes at most {MAX_MINTS_PER_CALL} mints a call")
        if not mints:
            return []
        rate_limit_acquire("dexscreener", self.rate_limit)
        url = f"{self.base_url}/tokens/v1/solana/{','.join(mints)}"
        body = request_json(self.session, "GET", url, api="DexScreener", timeout_s=self.timeout_s)
        if isinstance(body, dict):  # the older `latest/dex/tokens` shape wraps pairs
            body = body.get("pairs") or []
        return [pair for pair in body if isinstance(pair, dict)]


class SimulatedPriceProvider:
    def __init__(self, *, seed: int) -> None:
        from wallets.simulated_market import SimulatedMarket

        self.market = SimulatedMarket(seed=seed)

    def get_pairs(self, mints: Sequence[str]) -> list[dict[str, Any]]:
        return self.market.get_dex_pairs(mints)


@lru_cache(maxsize=1)
def get_price_provider() -> PriceProvider:
    if settings.CHAIN_PROVIDER == "simulated":
        return SimulatedPriceProvider(seed=settings.SIMULATED_SEED)
    return DexScreenerClient(
        base_url=settings.DEXSCREENER_API_URL,
        timeout_s=settings.UPSTREAM_TIMEOUT_S,
        rate_limit=settings.DEXSCREENER_RATE_LIMIT,
    )

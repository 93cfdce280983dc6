"""Price sources: DexScreener over HTTP (token prices and metadata) and the SOL/USD history of Pyth
Benchmarks over HTTP, or the simulated market's counterparts of both."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, Protocol

import requests
from django.conf import settings
from redis.exceptions import RedisError

from core.http import UpstreamTransientError, build_session, request_json
from core.metrics import metric_incr
from core.ratelimit import rate_limit_acquire
from core.redis import (
    SIMULATED_DEXSCREENER_FAULT_RATE_KEY,
    SIMULATED_DEXSCREENER_LATENCY_KEY,
    SIMULATED_FAULT_RATE_KEY,
    SIMULATED_LATENCY_KEY,
    get_redis,
)
from core.upstream import RetryPolicy, call_with_retries, retry_policy_from_settings

MAX_MINTS_PER_CALL = 30
DEXSCREENER_API = "dexscreener"
SOL_PRICE_HISTORY_API = "sol-price-history"
SOL_USD_SYMBOL = "Crypto.SOL/USD"

RateLimiter = Callable[[str, str], None]
"""Takes one slot of a rate limit: `(api, limit)`, e.g. `("dexscreener", "300/minute")`; may block."""


class PriceProvider(Protocol):
    def get_pairs(self, mints: Sequence[str]) -> list[dict[str, Any]]: ...


class SolUsdHistoryProvider(Protocol):
    def get_history(self, *, start: int, end: int) -> Any:
        """The raw answer (TradingView UDF shape) for 1-minute SOL/USD candles in [start, end], unix s."""
        ...


class DexScreenerClient:
    """`GET {base}/tokens/v1/solana/{mints}`: at most 30 mints a call, 300 requests/min shared globally.

    Retries (429/5xx honouring Retry-After, connection errors, timeouts) are urllib3's, inside the session,
    each taking its own slot of the limit; what is still failing after them surfaces as
    UpstreamTransientError for the task to retry later.
    """

    def __init__(
        self,
        *,
        base_url: str,
        timeout_s: float,
        rate_limit: str,
        rate_limiter: RateLimiter = rate_limit_acquire,
        retries: int = 3,
        backoff_factor: float = 0.5,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.rate_limit = rate_limit
        self.rate_limiter = rate_limiter
        self.session = session or build_session(
            retries=retries,
            backoff_factor=backoff_factor,
            before_retry=lambda: self.rate_limiter(DEXSCREENER_API, self.rate_limit),
        )

    @classmethod
    def from_settings(cls) -> DexScreenerClient:
        return cls(
            base_url=settings.DEXSCREENER_API_URL,
            timeout_s=settings.UPSTREAM_TIMEOUT_S,
            rate_limit=settings.DEXSCREENER_RATE_LIMIT,
            retries=settings.UPSTREAM_RETRIES,
            backoff_factor=settings.UPSTREAM_RETRY_BACKOFF_S,
        )

    def get_pairs(self, mints: Sequence[str]) -> list[dict[str, Any]]:
        if len(mints) > MAX_MINTS_PER_CALL:
            raise ValueError(f"DexScreener takes at most {MAX_MINTS_PER_CALL} mints a call")
        if not mints:
            return []
        # One slot per request sent: this one here, each of urllib3's retries in the session's before_retry.
        self.rate_limiter(DEXSCREENER_API, self.rate_limit)
        url = f"{self.base_url}/tokens/v1/solana/{','.join(mints)}"
        body = request_json(self.session, "GET", url, api="DexScreener", timeout_s=self.timeout_s)
        if isinstance(body, dict):  # the older `latest/dex/tokens` shape wraps pairs
            body = body.get("pairs") or []
        if not isinstance(body, list):
            raise UpstreamTransientError(f"DexScreener answered {type(body).__name__}, not a list of pairs")
        return [pair for pair in body if isinstance(pair, dict)]


class PythBenchmarksClient:
    """`GET {base}/v1/shims/tradingview/history?symbol=Crypto.SOL/USD&resolution=1&from=T0&to=T1`.

    The base URL may carry a path prefix. Retries (429/5xx honouring Retry-After, connection errors,
    timeouts) are urllib3's inside the session; one slot of the global limit is taken per request sent,
    retries included.
    Pyth documents 90 requests per 10 s per IP for this endpoint, and a minute of 429s past it.
    """

    def __init__(
        self,
        *,
        base_url: str,
        timeout_s: float,
        rate_limit: str,
        rate_limiter: RateLimiter = rate_limit_acquire,
        retries: int = 3,
        backoff_factor: float = 0.5,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.rate_limit = rate_limit
        self.rate_limiter = rate_limiter
        self.session = session or build_session(
            retries=retries,
            backoff_factor=backoff_factor,
            before_retry=lambda: self.rate_limiter(SOL_PRICE_HISTORY_API, self.rate_limit),
        )

    @classmethod
    def from_settings(cls) -> PythBenchmarksClient:
        return cls(
            base_url=settings.SOL_PRICE_HISTORY_URL,
            timeout_s=settings.UPSTREAM_TIMEOUT_S,
            rate_limit=settings.SOL_PRICE_HISTORY_RATE_LIMIT,
            retries=settings.UPSTREAM_RETRIES,
            backoff_factor=settings.UPSTREAM_RETRY_BACKOFF_S,
        )

    def get_history(self, *, start: int, end: int) -> Any:
        self.rate_limiter(SOL_PRICE_HISTORY_API, self.rate_limit)
        return request_json(
            self.session,
            "GET",
            f"{self.base_url}/v1/shims/tradingview/history",
            api="SOL price history",
            timeout_s=self.timeout_s,
            params={"symbol": SOL_USD_SYMBOL, "resolution": "1", "from": start, "to": end},
        )


class SimulatedSolUsdHistory:
    """The simulated market's SOL/USD path in the same UDF shape, with the market-wide simulated latency and
    fault rate (`sim:latency-ms`, `sim:fault-rate` in Redis override the settings, read on every call),
    retried like the HTTP client's calls, each attempt under `rate_limit` when one is given."""

    def __init__(
        self,
        *,
        seed: int,
        latency_ms: int = 0,
        fault_rate: float = 0.0,
        retry: RetryPolicy | None = None,
        rate_limit: str = "",
        rate_limiter: RateLimiter = rate_limit_acquire,
    ) -> None:
        from wallets.providers import simulated_market

        self.market = simulated_market(seed)
        self.latency_s = latency_ms / 1000
        self.fault_rate = fault_rate
        self.retry = retry or RetryPolicy(retries=0)
        self.rate_limit = rate_limit
        self.rate_limiter = rate_limiter

    def _overrides(self) -> tuple[float, float]:
        try:
            latency_ms, fault_rate = get_redis().mget(SIMULATED_LATENCY_KEY, SIMULATED_FAULT_RATE_KEY)
            return (
                float(latency_ms) / 1000 if latency_ms is not None else self.latency_s,
                float(fault_rate) if fault_rate is not None else self.fault_rate,
            )
        except (RedisError, ValueError):
            return self.latency_s, self.fault_rate

    def get_history(self, *, start: int, end: int) -> Any:
        def attempt() -> Any:
            metric_incr("upstream_calls_total", api="simulated-sol-price-history")
            latency_s, fault_rate = self._overrides()
            if latency_s:
                time.sleep(latency_s)
            if fault_rate and random.random() < fault_rate:
                raise UpstreamTransientError(
                    "simulated upstream fault in SOL price history (HTTP 503)", status="503"
                )
            return self.market.sol_usd_candles(start, end, "1")

        return call_with_retries(attempt, policy=self.retry, take_slot=_slot(self, SOL_PRICE_HISTORY_API))


class SimulatedPriceProvider:
    """The simulated market's DexScreener pairs, with the simulated latency and fault rate.

    Run-time overrides in Redis, read on every call: `sim:fault-rate:dexscreener` and
    `sim:latency-ms:dexscreener` for prices only, else the market-wide `sim:fault-rate` / `sim:latency-ms`,
    else the SIMULATED_FAULT_RATE / SIMULATED_LATENCY_MS settings.
    """

    def __init__(
        self,
        *,
        seed: int,
        latency_ms: int = 0,
        fault_rate: float = 0.0,
        retry: RetryPolicy | None = None,
        rate_limit: str = "",
        rate_limiter: RateLimiter = rate_limit_acquire,
    ) -> None:
        from wallets.providers import simulated_market

        self.market = simulated_market(seed)
        self.latency_s = latency_ms / 1000
        self.fault_rate = fault_rate
        self.retry = retry or RetryPolicy(retries=0)
        self.rate_limit = rate_limit
        self.rate_limiter = rate_limiter

    def _overrides(self) -> tuple[float, float]:
        try:
            dex_latency, dex_fault, latency, fault = get_redis().mget(
                SIMULATED_DEXSCREENER_LATENCY_KEY,
                SIMULATED_DEXSCREENER_FAULT_RATE_KEY,
                SIMULATED_LATENCY_KEY,
                SIMULATED_FAULT_RATE_KEY,
            )
        except RedisError:
            return self.latency_s, self.fault_rate
        latency_ms = dex_latency if dex_latency is not None else latency
        fault_rate = dex_fault if dex_fault is not None else fault
        try:
            return (
                float(latency_ms) / 1000 if latency_ms is not None else self.latency_s,
                float(fault_rate) if fault_rate is not None else self.fault_rate,
            )
        except ValueError:
            return self.latency_s, self.fault_rate

    def get_pairs(self, mints: Sequence[str]) -> list[dict[str, Any]]:
        def attempt() -> list[dict[str, Any]]:
            metric_incr("upstream_calls_total", api="simulated-dexscreener")
            latency_s, fault_rate = self._overrides()
            if latency_s:
                time.sleep(latency_s)
            # Random on purpose, like the chain provider's faults: a retried call must be able to succeed.
            if fault_rate and random.random() < fault_rate:
                raise UpstreamTransientError(
                    "simulated upstream fault in DexScreener (HTTP 503)", status="503"
                )
            return self.market.get_dex_pairs(mints)

        return call_with_retries(attempt, policy=self.retry, take_slot=_slot(self, DEXSCREENER_API))


def _slot(provider: SimulatedPriceProvider | SimulatedSolUsdHistory, api: str) -> Callable[[], None] | None:
    """What takes a slot of the provider's rate limit before each attempt (None: it has no limit)."""
    if not provider.rate_limit:
        return None
    return lambda: provider.rate_limiter(api, provider.rate_limit)


@lru_cache(maxsize=1)
def get_sol_usd_history_provider() -> SolUsdHistoryProvider:
    if settings.CHAIN_PROVIDER == "simulated":
        return SimulatedSolUsdHistory(
            seed=settings.SIMULATED_SEED,
            latency_ms=settings.SIMULATED_LATENCY_MS,
            fault_rate=settings.SIMULATED_FAULT_RATE,
            retry=retry_policy_from_settings(),
            rate_limit=settings.SOL_PRICE_HISTORY_RATE_LIMIT if settings.SIMULATED_RATE_LIMITS else "",
        )
    return PythBenchmarksClient.from_settings()


@lru_cache(maxsize=1)
def get_price_provider() -> PriceProvider:
    if settings.CHAIN_PROVIDER == "simulated":
        return SimulatedPriceProvider(
            seed=settings.SIMULATED_SEED,
            latency_ms=settings.SIMULATED_LATENCY_MS,
            fault_rate=settings.SIMULATED_FAULT_RATE,
            retry=retry_policy_from_settings(),
            rate_limit=settings.DEXSCREENER_RATE_LIMIT if settings.SIMULATED_RATE_LIMITS else "",
        )
    return DexScreenerClient.from_settings()

"""Chain data providers (docs/ARCHITECTURE.md §13): one interface, chosen by CHAIN_PROVIDER.

Both implementations answer in the upstream wire formats (RPC `getSignaturesForAddress` entries, Helius
enhanced transactions, `getTokenAccountsByOwner` jsonParsed entries, `getTokenSupply` and
`getMultipleAccounts` values, Helius DAS `getTokenAccounts` results), so one parser serves both. A mint's
earliest transactions come from `get_signatures(mint)` paged backward, then `get_transactions`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from django.conf import settings
from redis.exceptions import RedisError

from core.http import UpstreamFatalError, UpstreamTransientError
from core.metrics import metric_incr
from core.ratelimit import rate_limit_acquire
from core.redis import SIMULATED_FAULT_RATE_KEY, SIMULATED_LATENCY_KEY, get_redis
from core.upstream import RetryPolicy, call_with_retries, retry_policy_from_settings
from wallets.helius import ENHANCED_API, RPC_API

if TYPE_CHECKING:
    from wallets.simulated_market import SimulatedMarket

__all__ = [
    "ChainProvider",
    "SimulatedChainProvider",
    "UpstreamFatalError",
    "UpstreamTransientError",
    "get_chain_provider",
]

SIGNATURE_PAGE_LIMIT = 1000
TRANSACTIONS_BATCH_LIMIT = 100
T = TypeVar("T")
RateLimiter = Callable[[str, str], None]
DAS_PAGE_LIMIT = 1000
ACCOUNTS_BATCH_LIMIT = 100


class ChainProvider(Protocol):
    name: str

    def get_signatures(
        self,
        address: str,
        *,
        before: str | None = None,
        until: str | None = None,
        limit: int = SIGNATURE_PAGE_LIMIT,
    ) -> list[dict[str, Any]]: ...

    def get_transactions(self, signatures: Sequence[str]) -> list[dict[str, Any]]: ...

    def get_sol_balance(self, address: str) -> int: ...

    def get_token_accounts(self, address: str) -> list[dict[str, Any]]: ...

    def get_token_supply(self, mint: str) -> dict[str, Any]:
        """RPC `getTokenSupply` `value` ({amount, decimals, uiAmount, uiAmountString}); UpstreamFatalError
        when the address is not a token mint."""
        ...

    def get_mint_token_accounts(self, mint: str, *, page: int, limit: int = DAS_PAGE_LIMIT) -> dict[str, Any]:
        """One page of Helius DAS `getTokenAccounts` by mint: `{total, limit, page, token_accounts}`; a
        page shorter than `limit` is the last."""
        ...

    def get_multiple_accounts(self, addresses: Sequence[str]) -> list[dict[str, Any] | None]:
        """RPC `getMultipleAccounts` `value` entries in request order (None for an account that does not
        exist): `owner` tells a program-owned pool from a wallet."""
        ...


class SimulatedChainProvider:
    """The simulated market behind the provider interface, with the configured latency and fault rate.

    It calls like the Helius provider: enhanced transactions 100 a call, up to 3 calls at once (a sync's
    window of 300 is one round trip); every call is retried inside (`core.upstream.call_with_retries`, the
    policy of the HTTP clients' urllib3 `Retry`) and, when `rate_limits` names them, every attempt takes a
    slot of the global limit of the API it stands in for: `helius-rpc` for RPC methods, `helius-api` for
    enhanced transactions (SIMULATED_RATE_LIMITS)."""

    name = "simulated"

    def __init__(
        self,
        *,
        seed: int,
        latency_ms: int,
        fault_rate: float,
        retry: RetryPolicy | None = None,
        rate_limits: Mapping[str, str] | None = None,
        rate_limiter: RateLimiter = rate_limit_acquire,
        max_parallel_batches: int = 3,
    ) -> None:
        self.market = simulated_market(seed)
        self.latency_s = latency_ms / 1000
        self.fault_rate = fault_rate
        self.retry = retry or RetryPolicy(retries=0)
        self.rate_limits = dict(rate_limits or {})
        self.rate_limiter = rate_limiter
        self.max_parallel_batches = max_parallel_batches

    def _overrides(self) -> tuple[float, float]:
        """Latency (s) and fault rate: the settings, unless an operator set `sim:*` keys in Redis to change
        them at run time (to show a slow or failing upstream in a demo, or to test recovery)."""
        try:
            latency_ms, fault_rate = get_redis().mget(SIMULATED_LATENCY_KEY, SIMULATED_FAULT_RATE_KEY)
        except RedisError:
            return self.latency_s, self.fault_rate
        try:
            latency_s = float(latency_ms) / 1000 if latency_ms is not None else self.latency_s
            return latency_s, float(fault_rate) if fault_rate is not None else self.fault_rate
        except ValueError:
            return self.latency_s, self.fault_rate

    def _call(self, operation: str, answer: Callable[[], T], *, api: str = RPC_API) -> T:
        """One upstream call: latency, then a fault or `answer()`; retried, a rate-limit slot per attempt."""

        def attempt() -> T:
            metric_incr("upstream_calls_total", api="simulated")
            latency_s, fault_rate = self._overrides()
            if latency_s:
                time.sleep(latency_s)
            # The fault draw is random on purpose: a retried call must be able to succeed.
            if fault_rate and random.random() < fault_rate:
                metric_incr("upstream_errors_total", api="simulated", kind="503")
                message = f"simulated upstream fault in {operation} (HTTP 503)"
                raise UpstreamTransientError(message, status="503")
            return answer()

        limit = self.rate_limits.get(api)
        take_slot = (lambda: self.rate_limiter(api, limit)) if limit else None
        return call_with_retries(attempt, policy=self.retry, take_slot=take_slot)

    def get_signatures(
        self,
        address: str,
        *,
        before: str | None = None,
        until: str | None = None,
        limit: int = SIGNATURE_PAGE_LIMIT,
    ) -> list[dict[str, Any]]:
        return self._call(
            "getSignaturesForAddress",
            lambda: self.market.get_signatures(address, before=before, until=until, limit=limit),
        )

    def get_transactions(self, signatures: Sequence[str]) -> list[dict[str, Any]]:
        """Enhanced transactions in request order, 100 a call and up to `max_parallel_batches` calls at
        once, as the Helius provider fetches them (a sync's window is that many batches)."""
        unique = list(dict.fromkeys(signatures))
        size = TRANSACTIONS_BATCH_LIMIT
        batches = [unique[start : start + size] for start in range(0, len(unique), size)]
        if len(batches) <= 1:
            return self._call("transactions", partial(self.market.get_transactions, unique), api=ENHANCED_API)
        executor = ThreadPoolExecutor(
            max_workers=min(self.max_parallel_batches, len(batches)), thread_name_prefix="simulated-batch"
        )
        try:
            answers = list(
                executor.map(
                    lambda batch: self._call(
                        "transactions", partial(self.market.get_transactions, batch), api=ENHANCED_API
                    ),
                    batches,
                )
            )
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
        return [transaction for answer in answers for transaction in answer]

    def get_sol_balance(self, address: str) -> int:
        return self._call("getBalance", lambda: self.market.get_sol_balance(address))

    def get_token_accounts(self, address: str) -> list[dict[str, Any]]:
        return self._call("getTokenAccountsByOwner", lambda: self.market.get_token_accounts(address))

    def get_token_supply(self, mint: str) -> dict[str, Any]:
        def supply() -> dict[str, Any]:
            try:
                return self.market.get_token_supply(mint)
            except ValueError as exc:  # not a mint, or not an address: the RPC's "Invalid param"
                raise UpstreamFatalError(f"Solana RPC getTokenSupply: Invalid param: {exc}") from None

        return self._call("getTokenSupply", supply)

    def get_mint_token_accounts(self, mint: str, *, page: int, limit: int = DAS_PAGE_LIMIT) -> dict[str, Any]:
        return self._call(
            "getTokenAccounts", lambda: self.market.get_mint_token_accounts(mint, page=page, limit=limit)
        )

    def get_multiple_accounts(self, addresses: Sequence[str]) -> list[dict[str, Any] | None]:
        entries: list[dict[str, Any] | None] = []
        for start in range(0, len(addresses), ACCOUNTS_BATCH_LIMIT):
            entries += self._call(
                "getMultipleAccounts",
                partial(self.market.get_multiple_accounts, addresses[start : start + ACCOUNTS_BATCH_LIMIT]),
            )
        return entries


def simulated_market(seed: int) -> SimulatedMarket:
    """The process's simulated market for `seed`, bounded as the settings say; every simulated provider
    (chain, prices, SOL/USD) asks this one, so its universe, price paths and histories are kept once."""
    from wallets.simulated_market import shared_market

    return shared_market(
        seed,
        history_cache=settings.SIMULATED_HISTORY_CACHE_WALLETS,
        price_cache_hours=settings.SIMULATED_PRICE_CACHE_HOURS,
    )


@lru_cache(maxsize=1)
def get_chain_provider() -> ChainProvider:
    if settings.CHAIN_PROVIDER == "helius":
        from wallets.helius import HeliusChainProvider

        return HeliusChainProvider.from_settings()
    return SimulatedChainProvider(
        seed=settings.SIMULATED_SEED,
        latency_ms=settings.SIMULATED_LATENCY_MS,
        fault_rate=settings.SIMULATED_FAULT_RATE,
        retry=retry_policy_from_settings(),
        rate_limits=(
            {RPC_API: settings.HELIUS_RPC_RATE_LIMIT, ENHANCED_API: settings.HELIUS_API_RATE_LIMIT}
            if settings.SIMULATED_RATE_LIMITS
            else None
        ),
    )

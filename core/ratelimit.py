"""Global rate limits on upstream APIs, shared by every worker process on every host (docs/ARCHITECTURE.md
§3).

Celery's `rate_limit` counts per worker instance, so N workers would send N times the allowed rate; the
`limits` library keeps one moving window per API in Redis instead.
"""

from __future__ import annotations

import time
from functools import lru_cache

from django.conf import settings
from limits import RateLimitItem, parse
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from core.errors import TransientError
from core.metrics import metric_incr


class RateLimitWaitError(TransientError):
    """The shared limit stayed exhausted for longer than the caller may wait."""


@lru_cache(maxsize=1)
def _limiter() -> MovingWindowRateLimiter:
    storage = RedisStorage(
        settings.REDIS_URL,
        key_prefix="ratelimit",
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT_S,
        socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT_S,
    )
    return MovingWindowRateLimiter(storage)


@lru_cache(maxsize=32)
def _item(limit: str) -> RateLimitItem:
    return parse(limit)


def rate_limit_acquire(api: str, limit: str, *, max_wait_s: float = 30.0) -> None:
    """Take one slot of `limit` (e.g. "300/minute") for `api`, waiting for the window to move if needed.

    Slots taken are counted per API (`upstream_rate_limit_slots_total`): with the limit, the count is the
    floor of a run bound by it (slots ÷ rate)."""
    item = _item(limit)
    limiter = _limiter()
    deadline = time.monotonic() + max_wait_s
    while not limiter.hit(item, api):
        reset_at = limiter.get_window_stats(item, api).reset_time
        wait = max(0.01, min(reset_at - time.time(), 1.0))
        if time.monotonic() + wait > deadline:
            raise RateLimitWaitError(f"rate limit {limit} of {api} stayed exhausted for {max_wait_s:.0f}s")
        time.sleep(wait)
    metric_incr("upstream_rate_limit_slots_total", api=api)

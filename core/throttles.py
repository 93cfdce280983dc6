"""Per-user throttling of job submissions (SPEC §7), rate `SUBMIT_THROTTLE_RATE`, e.g. "120/minute".

A DRF throttle on a moving window kept in Redis by the `limits` library: its check and its record are
each one atomic script, where DRF's cache-based throttles read, modify and write a list of timestamps and
lose records when a user's requests run in parallel.

The check happens before the view; the record after it, so that what is counted is what costs: every
submission except a deduplicated one (200, the existing job, one read) and those refused before the view
(401, 403, 429). A burst of parallel identical submissions therefore never throttles its own answers.
The synchronous similarity path counts on the same budget (`SyncAnalysisRateThrottle`).
"""

from __future__ import annotations

import logging
import time
from functools import lru_cache
from typing import Any, ClassVar

from django.conf import settings
from limits import RateLimitItem, parse
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

logger = logging.getLogger(__name__)

# Redis keys: `throttle:LIMITER/submit:user:{id}/...` (the limits library's moving-window lists).
KEY_PREFIX = "throttle"
_NOT_COUNTED = {200, 401, 403, 429}


@lru_cache(maxsize=1)
def _limiter() -> MovingWindowRateLimiter:
    storage = RedisStorage(
        settings.REDIS_URL,
        key_prefix=KEY_PREFIX,
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT_S,
        socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT_S,
    )
    return MovingWindowRateLimiter(storage)


@lru_cache(maxsize=8)
def _item(rate: str) -> RateLimitItem:
    return parse(rate)


def submit_throttle_key(user_id: Any) -> str:
    return f"submit:user:{user_id}"


def _user_id(request: Request) -> Any:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


class SubmitRateThrottle(BaseThrottle):
    """Refuses a user's submission once SUBMIT_THROTTLE_RATE counted ones fall in the moving window.

    Redis unavailable: submissions pass (the throttle guards capacity; it must not take the API down).
    """

    not_counted: ClassVar[frozenset[int]] = frozenset(_NOT_COUNTED)

    def __init__(self) -> None:
        self._wait_s: float | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        user_id = _user_id(request)
        if user_id is None or not settings.SUBMIT_THROTTLE_RATE:
            return True
        item = _item(settings.SUBMIT_THROTTLE_RATE)
        key = submit_throttle_key(user_id)
        try:
            # One script tells both whether a submission fits and, when not, when the window frees a slot.
            window = _limiter().get_window_stats(item, key)
        except RedisError:
            logger.warning("submit throttle skipped: Redis unavailable")
            return True
        if window.remaining >= 1:
            return True
        self._wait_s = max(1.0, window.reset_time - time.time())
        return False

    def wait(self) -> float | None:
        return self._wait_s

    @classmethod
    def record(cls, request: Request, response: Response) -> None:
        """Count an answered submission (see the module docstring for which ones count)."""
        user_id = _user_id(request)
        if user_id is None or not settings.SUBMIT_THROTTLE_RATE or response.status_code in cls.not_counted:
            return
        try:
            _limiter().hit(_item(settings.SUBMIT_THROTTLE_RATE), submit_throttle_key(user_id))
        except RedisError:
            logger.warning("submission of user %s not counted: Redis unavailable", user_id)


class SyncAnalysisRateThrottle(SubmitRateThrottle):
    """The synchronous similarity path (`POST /analyses/similarity`) spends the same per-user budget, and its
    200 counts too: there the whole analysis ran inside the request, holding a web worker for it."""

    not_counted = frozenset({401, 403, 429})


def submit_throttle_reset(*, user_id: Any) -> None:
    """Forget a user's counted submissions (operators, tests)."""
    if settings.SUBMIT_THROTTLE_RATE:
        _limiter().clear(_item(settings.SUBMIT_THROTTLE_RATE), submit_throttle_key(user_id))

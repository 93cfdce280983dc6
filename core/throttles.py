"""Per-user throttling of job submissions (README, Using the API), rate `SUBMIT_THROTTLE_RATE`, e.g.
"120/minute".

A moving window per user in Redis: a sorted set `throttle:submit:user:{id}` of units scored by when they
were spent. One script drops the units older than the window and, when the new ones fit, records them, so
checking and taking are one step: of 12 parallel new submissions with 3 units left, exactly 3 get through.
(The `limits` library's window, used before, checked in one script and recorded in another, and cannot
give a unit back.)

What counts is what costs. Before the view, the throttle only looks: a full window answers 429 at once. The
units are taken when a job is inserted, one per job it creates (a bulk job and its children; capped at the
whole budget, so the largest job still fits an empty window): `jobs.services.job_submit_admitted` calls
`submit_throttle_charge` inside the insert's transaction, so a job that does not fit is refused whole and
rolled back. A deduplicated submission (200, the existing job, one read) takes nothing, so a client sending
the same request 200 times in parallel never throttles itself; a refused one (429) takes nothing either; any
other failure (invalid input) costs one unit, recorded by `settle` after the answer.

The synchronous similarity path spends the same budget (`SyncAnalysisRateThrottle`): it takes its unit up
front, in the same single step, and keeps it when it answers 200 (the analysis ran inside the request).

Redis unavailable: submissions pass (the throttle guards capacity; it must not take the API down).
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

from django.conf import settings
from limits import RateLimitItem, parse
from redis.commands.core import Script
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from core.errors import TooManyRequestsError
from core.redis import get_redis

logger = logging.getLogger(__name__)

KEY_PREFIX = "throttle"
_CHARGE_ATTRIBUTE = "_submit_throttle_charge"

# KEYS[1]: the user's window; ARGV: window ms, limit, first unit number, units, token, mode. Mode `take`
# records the units when they fit, `check` only says whether they would, `force` records them regardless.
# Returns {1, 0} when they fit (or were forced), else {0, ms until enough older units leave the window}.
_TAKE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local first = tonumber(ARGV[3])
local units = tonumber(ARGV[4])
local mode = ARGV[6]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
if mode ~= 'force' and used + units > limit then
  local oldest_to_go = used + units - limit - 1
  local freeing = redis.call('ZRANGE', KEYS[1], oldest_to_go, oldest_to_go, 'WITHSCORES')
  return {0, math.max(0, tonumber(freeing[2]) + window - now)}
end
if mode == 'check' then
  return {1, 0}
end
for unit = first, first + units - 1 do
  redis.call('ZADD', KEYS[1], now, ARGV[5] .. ':' .. unit)
end
redis.call('PEXPIRE', KEYS[1], window)
return {1, 0}
"""


@lru_cache(maxsize=1)
def _take_script() -> Script:
    return get_redis().register_script(_TAKE)


@lru_cache(maxsize=8)
def _item(rate: str) -> RateLimitItem:
    return parse(rate)


def submit_throttle_key(user_id: Any) -> str:
    return f"{KEY_PREFIX}:submit:user:{user_id}"


def _user_id(request: Request) -> Any:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


@dataclass(slots=True)
class _Charge:
    """The units one request spent: members `{token}:0` to `{token}:{units - 1}` of `key`."""

    key: str
    token: str
    units: int


def _take(charge: _Charge, item: RateLimitItem, units: int, *, mode: str = "take") -> float | None:
    """Take `units` more for the charge (see the script for the modes); None when they fit, else seconds
    until they would."""
    window_ms = item.get_expiry() * 1000
    result: Any = _take_script()(
        keys=[charge.key], args=[window_ms, item.amount, charge.units, units, charge.token, mode]
    )
    if not int(result[0]):
        return max(1.0, int(result[1]) / 1000)
    if mode != "check":
        charge.units += units
    return None


class SubmitRateThrottle(BaseThrottle):
    """Refuses a user's submission once SUBMIT_THROTTLE_RATE units fall in the moving window."""

    # Take the request's unit before the view (True), or only look and let the insert take them (False).
    takes_up_front: ClassVar[bool] = False
    # Answers that keep every unit taken (at least one); those in `refunded` keep none; any other keeps one.
    kept: ClassVar[frozenset[int]] = frozenset({202})
    refunded: ClassVar[frozenset[int]] = frozenset({200, 429})

    def __init__(self) -> None:
        self._wait_s: float | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        user_id = _user_id(request)
        if user_id is None or not settings.SUBMIT_THROTTLE_RATE:
            return True
        item = _item(settings.SUBMIT_THROTTLE_RATE)
        charge = _Charge(submit_throttle_key(user_id), uuid.uuid4().hex, 0)
        try:
            wait_s = _take(charge, item, 1, mode="take" if self.takes_up_front else "check")
        except RedisError:
            logger.warning("submit throttle skipped: Redis unavailable")
            return True
        if wait_s is not None:
            self._wait_s = wait_s
            return False
        setattr(request, _CHARGE_ATTRIBUTE, charge)
        return True

    def wait(self) -> float | None:
        return self._wait_s

    @classmethod
    def settle(cls, request: Request, response: Response) -> None:
        """Make the units taken match what the answer cost (see the module docstring), atomically."""
        charge: _Charge | None = getattr(request, _CHARGE_ATTRIBUTE, None)
        if charge is None:
            return
        setattr(request, _CHARGE_ATTRIBUTE, None)
        status = response.status_code
        keep = max(charge.units, 1) if status in cls.kept else 0 if status in cls.refunded else 1
        try:
            if keep > charge.units:
                _take(charge, _item(settings.SUBMIT_THROTTLE_RATE), keep - charge.units, mode="force")
            elif keep < charge.units:
                returned = [f"{charge.token}:{unit}" for unit in range(keep, charge.units)]
                get_redis().zrem(charge.key, *returned)
        except RedisError:
            logger.warning("submission units not settled: Redis unavailable")


class SyncAnalysisRateThrottle(SubmitRateThrottle):
    """The synchronous similarity path (`POST /analyses/similarity`) spends the same per-user budget, and its
    200 counts too: there the whole analysis ran inside the request, holding a web thread for it."""

    takes_up_front = True
    kept = frozenset({200})
    refunded = frozenset({429})


def submit_throttle_charge(request: Request, *, jobs: int) -> None:
    """Take one unit per job a submission creates (capped at the whole budget), atomically; raises
    TooManyRequestsError (429 `throttled`) when they do not fit, taking none."""
    charge: _Charge | None = getattr(request, _CHARGE_ATTRIBUTE, None)
    if charge is None or not settings.SUBMIT_THROTTLE_RATE:
        return
    item = _item(settings.SUBMIT_THROTTLE_RATE)
    units = min(jobs, item.amount) - charge.units
    if units <= 0:
        return
    try:
        wait_s = _take(charge, item, units)
    except RedisError:
        logger.warning("submission not counted: Redis unavailable")
        return
    if wait_s is not None:
        raise TooManyRequestsError(
            f"Request was throttled: this submission creates {jobs} job(s) and counts as "
            f"{min(jobs, item.amount)} of your {settings.SUBMIT_THROTTLE_RATE} submissions. "
            f"Expected available in {math.ceil(wait_s)} seconds.",
            code="throttled",
            retry_after_s=wait_s,
        )


def submit_throttle_reset(*, user_id: Any) -> None:
    """Forget a user's counted submissions (operators, tests)."""
    get_redis().delete(submit_throttle_key(user_id))

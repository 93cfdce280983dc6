"""Bounds on work in flight, shared by every process: a counting semaphore in Redis whose slots are leases.

A pool is a sorted set `slots:{name}` of holder tokens scored by when their lease ends. One script takes a
slot in every pool a call needs, or none: it first drops the leases that ended, then refuses when any pool
is full. A holder renews its lease from a small thread while it works and removes its token when done; a
process that dies stops renewing, so its slots free themselves one lease later instead of never. Time is
Redis's clock (`TIME`), so hosts with skewed clocks agree on which leases ended.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from redis.commands.core import Script
from redis.exceptions import RedisError

from core.redis import get_redis

logger = logging.getLogger(__name__)

KEY_PREFIX = "slots"

# KEYS: the pools; ARGV: lease ms, token, then each pool's limit. Returns {0, 0} when every slot was taken,
# else {index of the first full pool (1-based), ms until its soonest lease ends}.
_ACQUIRE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local lease = tonumber(ARGV[1])
for index, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if redis.call('ZCARD', key) >= tonumber(ARGV[2 + index]) then
    local soonest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return {index, math.max(0, tonumber(soonest[2]) - now)}
  end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + lease, ARGV[2])
  redis.call('PEXPIRE', key, lease)
end
return {0, 0}
"""

# KEYS: the pools; ARGV: lease ms, token. Extends the token's leases that have not ended; returns how many.
_RENEW = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local lease = tonumber(ARGV[1])
local renewed = 0
for _, key in ipairs(KEYS) do
  local ends = redis.call('ZSCORE', key, ARGV[2])
  if ends and tonumber(ends) > now then
    redis.call('ZADD', key, 'XX', now + lease, ARGV[2])
    redis.call('PEXPIRE', key, lease)
    renewed = renewed + 1
  end
end
return renewed
"""


@dataclass(frozen=True, slots=True)
class SlotPool:
    """`limit` concurrent holders of the pool `name` (e.g. `sync-analysis:user:42`)."""

    name: str
    limit: int

    @property
    def key(self) -> str:
        return f"{KEY_PREFIX}:{self.name}"


class SlotsUnavailableError(Exception):
    """A pool was full: nothing was taken."""

    def __init__(self, pool: SlotPool, soonest_free_s: float) -> None:
        super().__init__(f"all {pool.limit} slot(s) of {pool.name} are taken")
        self.pool = pool
        # When the soonest lease ends if its holder stops renewing: an upper bound for a crashed holder,
        # not a forecast for a working one.
        self.soonest_free_s = soonest_free_s


@lru_cache(maxsize=1)
def _scripts() -> tuple[Script, Script]:
    client = get_redis()
    return client.register_script(_ACQUIRE), client.register_script(_RENEW)


def slots_acquire(pools: Sequence[SlotPool], *, lease_s: float) -> str:
    """Take one slot in every pool, atomically; returns the holder token. SlotsUnavailableError when a pool
    is full; RedisError when Redis does not answer."""
    acquire, _ = _scripts()
    token = uuid.uuid4().hex
    limits = [pool.limit for pool in pools]
    result: Any = acquire(keys=[pool.key for pool in pools], args=[int(lease_s * 1000), token, *limits])
    full, wait_ms = int(result[0]), int(result[1])
    if full:
        raise SlotsUnavailableError(pools[full - 1], wait_ms / 1000)
    return token


def slots_renew(pools: Sequence[SlotPool], *, token: str, lease_s: float) -> bool:
    """Extend the holder's leases; False when one had ended already (the holder stalled for a whole lease)."""
    _, renew = _scripts()
    renewed: Any = renew(keys=[pool.key for pool in pools], args=[int(lease_s * 1000), token])
    return int(renewed) == len(pools)


def slots_release(pools: Sequence[SlotPool], *, token: str) -> None:
    pipe = get_redis().pipeline(transaction=True)
    for pool in pools:
        pipe.zrem(pool.key, token)
    pipe.execute()


def slots_in_use(pool: SlotPool) -> int:
    """Holders whose lease has not ended (for tests and operators)."""
    client = get_redis()
    seconds, micros = client.time()
    return int(client.zcount(pool.key, f"({seconds * 1000 + micros // 1000}", "+inf"))


@contextlib.contextmanager
def slots_held(pools: Sequence[SlotPool], *, lease_s: float) -> Iterator[None]:
    """Hold a slot in every pool for the duration of the block, renewing the leases every third of one.

    Raises SlotsUnavailableError (a pool is full) or RedisError before the block runs.
    """
    token = slots_acquire(pools, lease_s=lease_s)
    names = [pool.name for pool in pools]
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(lease_s / 3):
            try:
                if not slots_renew(pools, token=token, lease_s=lease_s):
                    logger.warning("a lease on %s ended before its holder renewed it", names)
            except RedisError:
                logger.warning("could not renew the leases on %s", names, exc_info=True)

    renewer = threading.Thread(target=renew, name="slot-lease-renewer", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join(timeout=lease_s)
        try:
            slots_release(pools, token=token)
        except RedisError:
            logger.warning("could not release %s; the leases end on their own", names)

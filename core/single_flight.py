"""Compute a report once per period however many callers ask at once, in every process together.

The answer lives in Redis (`report:{name}`, expiring after the period) beside a token-owned lock
(`report:{name}:computing`). A caller that finds no answer takes the lock and computes; the others wait
for its answer, polling, for up to the lock's lifetime (then the holder is taken for dead and they compute
themselves). Inside a process one thread at a time goes to Redis, so waiting threads cost one poll between
them. Without Redis each process falls back to its own cache, with the same one-thread-computes rule: a
health check must answer when Redis is down.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import redis
from redis.exceptions import RedisError

from core.metrics import metric_incr

KEY_PREFIX = "report"
COMPUTE_TIMEOUT_S = 15.0
POLL_INTERVAL_S = 0.02

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_locks_guard = threading.Lock()
_process_locks: dict[str, threading.Lock] = {}
_process_cache: dict[str, tuple[float, Any]] = {}


def _process_lock(name: str) -> threading.Lock:
    with _locks_guard:
        return _process_locks.setdefault(name, threading.Lock())


def _computed(name: str, compute: Callable[[], Any]) -> Any:
    value = compute()
    metric_incr("monitoring_computations_total", report=name)
    return value


def _through_redis(client: redis.Redis, name: str, period_s: float, compute: Callable[[], Any]) -> Any:
    answer_key = f"{KEY_PREFIX}:{name}"
    lock_key = f"{answer_key}:computing"
    deadline = time.monotonic() + COMPUTE_TIMEOUT_S
    while True:
        cached = client.get(answer_key)
        if cached is not None:
            return json.loads(cached)
        token = uuid.uuid4().hex
        if client.set(lock_key, token, nx=True, px=int(COMPUTE_TIMEOUT_S * 1000)):
            try:
                # The holder before us may have stored its answer and released the lock between our read
                # and our claim: read again, or the report is computed twice.
                cached = client.get(answer_key)
                if cached is not None:
                    return json.loads(cached)
                value = _computed(name, compute)
                client.set(answer_key, json.dumps(value), px=max(1, int(period_s * 1000)))
                return value
            finally:
                client.eval(_RELEASE, 1, lock_key, token)
        if time.monotonic() > deadline:
            return _computed(name, compute)
        time.sleep(POLL_INTERVAL_S)


def _in_process(name: str, period_s: float, compute: Callable[[], Any]) -> Any:
    now = time.monotonic()
    hit = _process_cache.get(name)
    if hit is not None and now - hit[0] < period_s:
        return hit[1]
    value = _computed(name, compute)
    _process_cache[name] = (time.monotonic(), value)
    return value


def single_flight(*, name: str, period_s: float, compute: Callable[[], Any], client: redis.Redis) -> Any:
    """The report `name`: computed by `compute` (JSON-serialisable) at most once per `period_s` across every
    process sharing `client`'s Redis; 0 computes on every call. Each computation is counted in the
    `monitoring_computations_total{report=name}` metric."""
    if period_s <= 0:
        return _computed(name, compute)
    with _process_lock(name):
        try:
            return _through_redis(client, name, period_s, compute)
        except RedisError:
            return _in_process(name, period_s, compute)


def single_flight_forget(*, names: list[str], client: redis.Redis) -> None:
    """Drop the answers, so the next caller computes (tests, and an operator who wants fresh figures)."""
    for name in names:
        _process_cache.pop(name, None)
    with contextlib.suppress(RedisError):
        client.delete(*(f"{KEY_PREFIX}:{name}" for name in names))

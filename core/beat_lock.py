"""Only one celery beat may run: it holds a renewed lock in Redis for its whole life."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import socket
import threading

from django.conf import settings
from redis.exceptions import LockError, RedisError
from redis.lock import Lock

from core.redis import get_redis

logger = logging.getLogger(__name__)

BEAT_LOCK_KEY = "lock:beat"


class BeatLock:
    def __init__(self, ttl_s: int | None = None) -> None:
        self.ttl_s = ttl_s or settings.BEAT_LOCK_TTL_S
        # Not thread-local: the lock is taken in beat's main thread and renewed in another. With redis-py's
        # default (thread_local=True) the renewing thread has no token, dies on AttributeError, and the lock
        # expires under a running beat, letting a second one start.
        self._lock = Lock(get_redis(), BEAT_LOCK_KEY, timeout=self.ttl_s, blocking=False, thread_local=False)
        self._stopped = threading.Event()

    def acquire_or_exit(self) -> None:
        if not self._lock.acquire(blocking=False):
            holder = str(get_redis().get(f"{BEAT_LOCK_KEY}:holder") or "another process")
            logger.error("another celery beat is running (%s); this one exits", holder)
            raise SystemExit(f"error: another celery beat is running ({holder}); only one may run")
        get_redis().set(f"{BEAT_LOCK_KEY}:holder", f"{socket.gethostname()} pid {os.getpid()}", ex=self.ttl_s)
        threading.Thread(target=self._renew_forever, name="beat-lock", daemon=True).start()
        # A beat stopped cleanly hands over at once instead of after the expiry.
        atexit.register(self.release)

    def release(self) -> None:
        self._stopped.set()
        with contextlib.suppress(LockError, RedisError):
            self._lock.release()

    def _renew_forever(self) -> None:
        while not self._stopped.wait(self.ttl_s / 3):
            try:
                self._lock.extend(self.ttl_s, replace_ttl=True)
                get_redis().expire(f"{BEAT_LOCK_KEY}:holder", self.ttl_s)
            except (LockError, RedisError):
                self._retake_or_stop()
            except Exception:  # a renewer that died silently would let the lock expire under a running beat
                logger.exception("beat lock renewal failed; retrying")

    def _retake_or_stop(self) -> None:
        """Redis restarted or the lock expired: take it again, or stop if another beat has it now."""
        try:
            retaken = self._lock.acquire(blocking=False)
        except RedisError:
            logger.warning("beat lock not renewed: Redis unavailable; retrying")
            return
        if not retaken:
            logger.error("another celery beat took the lock; this one stops")
            self._stopped.set()
            os.kill(os.getpid(), signal.SIGTERM)

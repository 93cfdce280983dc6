"""The wallet-level locks (docs/ARCHITECTURE.md §4): token-owned, released by compare-and-delete, renewed
while working.

Two per wallet, so that a sync never waits on a deepening (docs/ARCHITECTURE.md, "History depth"): the
sync lock guards the newest end of the stored history (one sync at a time), the history lock the oldest
end (one deepening at a time). redis-py's `Lock` already stores a random token and releases or extends only
when the token still matches (Lua), so another task can never release a lock it does not hold.
"""

from __future__ import annotations

import contextlib
from typing import Self

from django.conf import settings
from redis.exceptions import LockError
from redis.lock import Lock

from core.errors import BusyError
from core.redis import get_redis, wallet_history_lock_key, wallet_sync_lock_key


class WalletLockBusyError(BusyError):
    """Another task is syncing (or deepening) this wallet; retry shortly instead of blocking a worker slot."""


class WalletSyncLock:
    key = staticmethod(wallet_sync_lock_key)
    doing = "synced"

    def __init__(self, wallet: str, *, ttl_s: int | None = None) -> None:
        self.wallet = wallet
        self.ttl_s = ttl_s if ttl_s is not None else settings.WALLET_SYNC_LOCK_TTL_S
        self._lock = Lock(get_redis(), self.key(wallet), timeout=self.ttl_s, blocking=False)

    def __enter__(self) -> Self:
        if not self._lock.acquire(blocking=False):
            raise WalletLockBusyError(f"wallet {self.wallet} is being {self.doing} by another task")
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Expired or taken over after a stall: then nothing of ours is left to release.
        with contextlib.suppress(LockError):
            self._lock.release()

    def renew(self) -> None:
        """Push the expiry out again; called at every checkpoint of a long sync."""
        try:
            self._lock.extend(self.ttl_s, replace_ttl=True)
        except LockError as exc:
            raise WalletLockBusyError(f"lost the lock of wallet {self.wallet} ({self.doing})") from exc


class WalletHistoryLock(WalletSyncLock):
    """Held while the wallet's history is deepened (or pruned to its cap); same expiry as the sync lock."""

    key = staticmethod(wallet_history_lock_key)
    doing = "deepened"

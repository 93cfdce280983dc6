"""The wallet sync lock on real Redis: one holder, expiry from the settings, released only by its holder."""

from __future__ import annotations

from typing import Any

import pytest

from core.redis import get_redis, wallet_sync_lock_key
from wallets.locks import WalletLockBusyError, WalletSyncLock

WALLET = "LockTest1111111111111111111111111111111111"


@pytest.fixture(autouse=True)
def _no_lock_left() -> None:
    get_redis().delete(wallet_sync_lock_key(WALLET))


def test_a_held_lock_expires_after_the_configured_ttl_and_refuses_a_second_holder(settings: Any) -> None:
    settings.WALLET_SYNC_LOCK_TTL_S = 7

    with WalletSyncLock(WALLET) as lock:
        assert 6_000 < get_redis().pttl(wallet_sync_lock_key(WALLET)) <= 7_000
        with pytest.raises(WalletLockBusyError), WalletSyncLock(WALLET):
            pass
        lock.renew()
        assert get_redis().pttl(wallet_sync_lock_key(WALLET)) > 6_000

    assert not get_redis().exists(wallet_sync_lock_key(WALLET))


def test_a_lock_taken_over_after_expiry_is_not_released_by_the_old_holder() -> None:
    old = WalletSyncLock(WALLET, ttl_s=5).__enter__()
    get_redis().delete(wallet_sync_lock_key(WALLET))  # as if it expired while its holder stalled
    with WalletSyncLock(WALLET):
        old.__exit__(None, None, None)
        assert get_redis().exists(wallet_sync_lock_key(WALLET))
        with pytest.raises(WalletLockBusyError):
            old.renew()

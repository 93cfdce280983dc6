"""Only one beat: a second one is refused while the first holds the lock."""

from __future__ import annotations

import pytest

from core.beat_lock import BEAT_LOCK_KEY, BeatLock
from core.redis import get_redis
from tests.support.stack import wait_for


@pytest.fixture(autouse=True)
def _clean_lock():
    get_redis().delete(BEAT_LOCK_KEY, f"{BEAT_LOCK_KEY}:holder")
    yield
    get_redis().delete(BEAT_LOCK_KEY, f"{BEAT_LOCK_KEY}:holder")


def test_second_beat_is_refused_while_the_first_runs() -> None:
    first = BeatLock(ttl_s=5)
    first.acquire_or_exit()
    with pytest.raises(SystemExit, match="another celery beat is running"):
        BeatLock(ttl_s=5).acquire_or_exit()
    first.release()
    second = BeatLock(ttl_s=5)
    second.acquire_or_exit()  # released: the next one starts at once
    second.release()


def test_a_dead_beat_frees_the_lock_when_it_expires() -> None:
    get_redis().set(BEAT_LOCK_KEY, "token-of-a-dead-beat", px=300)
    with pytest.raises(SystemExit):
        BeatLock(ttl_s=5).acquire_or_exit()
    wait_for(
        lambda: not get_redis().exists(BEAT_LOCK_KEY), timeout_s=5, what="the dead beat's lock to expire"
    )
    successor = BeatLock(ttl_s=5)
    successor.acquire_or_exit()
    successor.release()

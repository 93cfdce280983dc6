"""Only one beat: a second one is refused while the first holds the lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
import redis
from django.conf import settings

from core.beat_lock import BEAT_LOCK_KEY, BeatLock
from core.redis import get_redis
from tests.support.stack import ROOT, wait_for


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


def _isolated_redis_url() -> str:
    """The test Redis, another database: the integration stack's own beat holds `lock:beat` in the first."""
    parsed = urlparse(settings.REDIS_URL)
    return urlunparse(parsed._replace(path="/9"))


def _start_beat(tmp_path: Path, name: str, redis_url: str, ttl_s: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "BEAT_LOCK_TTL_S": str(ttl_s),
        "ENV_FILE": str(tmp_path / "none.env"),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "--loglevel",
            "INFO",
            # The file scheduler: these beats need no database tables.
            "--scheduler",
            "celery.beat:PersistentScheduler",
            "--schedule",
            str(tmp_path / f"{name}-schedule"),
            "--pidfile",
            "",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate(timeout=10)
    return output


def test_a_running_beat_holds_its_lock_across_several_ttls_and_a_second_beat_still_refuses(
    tmp_path: Path,
) -> None:
    """The lock is taken in beat's main thread and renewed in another: with a thread-local lock the renewer
    died on its first renewal, the lock expired one TTL later and a second beat started."""
    ttl_s = 2
    redis_url = _isolated_redis_url()
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    client.delete(BEAT_LOCK_KEY, f"{BEAT_LOCK_KEY}:holder")
    first = _start_beat(tmp_path, "first", redis_url, ttl_s)
    try:
        token = wait_for(
            lambda: client.get(BEAT_LOCK_KEY), timeout_s=60, what="the first beat to take its lock"
        )
        held_until = time.monotonic() + 4 * ttl_s
        while time.monotonic() < held_until:
            assert first.poll() is None, _stop(first)
            assert client.get(BEAT_LOCK_KEY) == token, (
                "the lock expired or changed hands under a running beat"
            )
            time.sleep(0.1)
        second = _start_beat(tmp_path, "second", redis_url, ttl_s)
        try:
            second.wait(timeout=60)
        finally:
            second_output = _stop(second)
        assert second.returncode != 0, second_output
        assert "another celery beat is running" in second_output
        assert client.get(BEAT_LOCK_KEY) == token
    finally:
        _stop(first)
    # Stopped cleanly, the first beat hands the lock over at once.
    wait_for(
        lambda: not client.exists(BEAT_LOCK_KEY), timeout_s=10, what="the stopped beat to release its lock"
    )

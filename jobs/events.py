"""Job events over the channel layer (README, Using the API). Workers publish from their own processes
through Redis.

Publishing is best effort: the ledger is the source of truth, and a subscriber's `job-snapshot` repairs
anything a lost event would have told it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import TimeoutError as FutureTimeoutError
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings

logger = logging.getLogger(__name__)


def job_group_name(job_id: str) -> str:
    return f"job.{job_id}"


def result_url(job_id: str) -> str:
    return f"/jobs/{job_id}/result"


class _PublishLoop:
    """One event loop per process, on a daemon thread, that every publish of the process runs on.

    channels_redis keeps its Redis connections per event loop. `async_to_sync` starts a new loop for each
    call, so each event paid a fresh Redis connection (and several GIL turns for it): measured in
    bench/bench_tasks.py and bench/bench_progress.py. One long-lived loop keeps one pool for the process.
    The loop is re-created in a forked child (prefork pool), whose copy of the parent's thread is not
    running.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="job-events", daemon=True).start()
                self._loop, self._pid = loop, os.getpid()
            return self._loop


_publish_loop = _PublishLoop()


def job_event_publish(*, job_id: str, event_type: str, **payload: Any) -> None:
    """Send one event to the job's group and wait until Redis has it.

    Waiting (rather than fire-and-forget) keeps events in the order the caller sent them, which subscribers
    rely on (`job-completed` before `enrichment-completed`).
    """
    job_events_publish(job_id=job_id, events=[{"type": event_type, **payload}])


def job_events_publish(*, job_id: str, events: Sequence[Mapping[str, Any]]) -> None:
    """Send several events (each a mapping with its `type`) to the job's group, in order, in one trip to the
    publishing loop: a job's completion sends two or three, and each trip costs a thread handoff."""
    layer = get_channel_layer()
    if layer is None or not events:
        return
    group = job_group_name(str(job_id))
    messages = [
        {"type": "job.event", "event": {"type": event["type"], "job_id": str(job_id), **event}}
        for event in events
    ]

    async def send_all() -> None:
        for message in messages:
            await layer.group_send(group, message)

    future = asyncio.run_coroutine_threadsafe(send_all(), _publish_loop.loop())
    names = ", ".join(str(event["type"]) for event in events)
    try:
        future.result(timeout=settings.REDIS_SOCKET_TIMEOUT_S * len(messages))
    except FutureTimeoutError:
        future.cancel()
        logger.warning("could not publish %s for job %s: Redis did not answer in time", names, job_id)
    except Exception:  # best effort: a lost event is repaired by the subscriber's snapshot
        logger.warning("could not publish %s for job %s", names, job_id, exc_info=True)

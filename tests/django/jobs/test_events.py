"""Job events reach a subscriber of the real Redis channel layer, in order, over one pool per process;
progress reports only ever go up, and same-stage ledger writes are throttled."""

from __future__ import annotations

import multiprocessing
import uuid
from typing import Any

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model

from jobs.events import job_event_publish, job_group_name
from jobs.models import Job
from jobs.progress import job_report_progress


def _subscribed_channel(job_id: str) -> str:
    layer = get_channel_layer()
    channel: str = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(job_group_name(job_id), channel)
    return channel


def _received(channel: str, count: int) -> list[dict]:
    layer = get_channel_layer()

    async def receive_all() -> list[dict]:
        return [(await layer.receive(channel))["event"] for _ in range(count)]

    return async_to_sync(receive_all)()


def _connections_received() -> int:
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        return int(client.info("stats")["total_connections_received"])
    finally:
        client.close()


def test_events_arrive_in_order_over_reused_connections() -> None:
    job_id = str(uuid.uuid4())
    channel = _subscribed_channel(job_id)
    job_event_publish(job_id=job_id, event_type="job-progress", progress=0, stage="warm-up")
    before = _connections_received()

    for progress in range(1, 41):
        job_event_publish(job_id=job_id, event_type="job-progress", progress=progress, stage="syncing")

    # Each publish used to open a connection of its own (a new event loop per call): 40 here.
    assert _connections_received() - before <= 2
    events = _received(channel, 41)
    assert [event["progress"] for event in events] == list(range(41))
    assert {event["job_id"] for event in events} == {job_id}


def _publish_in_child(job_id: str) -> None:
    job_event_publish(job_id=job_id, event_type="job-progress", progress=7, stage="child")


def test_a_forked_child_publishes_on_its_own_loop() -> None:
    job_id = str(uuid.uuid4())
    channel = _subscribed_channel(job_id)
    # The parent's loop thread exists before the fork, as in a prefork worker whose parent published.
    job_event_publish(job_id=job_id, event_type="job-progress", progress=1, stage="parent")

    child = multiprocessing.get_context("fork").Process(target=_publish_in_child, args=(job_id,))
    child.start()
    child.join(timeout=20)

    assert child.exitcode == 0
    assert [event["stage"] for event in _received(channel, 2)] == ["parent", "child"]


@pytest.fixture(autouse=True)
def _flush_layer_keys() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter("asgi*"):
        client.delete(key)
    client.close()


@pytest.mark.django_db
def test_progress_never_goes_down_and_same_stage_ledger_writes_are_throttled(settings: Any) -> None:
    settings.PROGRESS_DB_WRITE_INTERVAL_MS = 60_000
    owner = get_user_model().objects.create_user(username="progress-owner")
    job = Job.objects.create(kind=Job.Kind.SIMILARITY, owner=owner, params={}, dedup_key="progress-test")
    Job.objects.filter(id=job.id).update(status=Job.Status.RUNNING)
    job_id = str(job.id)
    channel = _subscribed_channel(job_id)

    def ledger() -> tuple[int, str]:
        job.refresh_from_db()
        return job.progress, job.stage

    job_report_progress(job_id=job_id, progress=10, stage="syncing")
    assert ledger() == (10, "syncing")  # a new stage is always written
    job_report_progress(job_id=job_id, progress=20, stage="syncing")
    assert ledger() == (20, "syncing")  # the first report of the interval is written
    job_report_progress(job_id=job_id, progress=30, stage="syncing")
    assert ledger() == (20, "syncing")  # later ones of the interval are published only
    job_report_progress(job_id=job_id, progress=25, stage="syncing")  # lower: dropped
    job_report_progress(job_id=job_id, progress=40, stage="computing")
    assert ledger() == (40, "computing")

    events = _received(channel, 4)
    assert [(event["progress"], event["stage"]) for event in events] == [
        (10, "syncing"),
        (20, "syncing"),
        (30, "syncing"),
        (40, "computing"),
    ]

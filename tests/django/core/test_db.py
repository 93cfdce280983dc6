"""`core.db`: an UPDATE that returns the rows it changed, and one JSON key set by the database."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F

from core.db import JSONSetKey, update_returning
from jobs.models import Job

pytestmark = pytest.mark.django_db


def _job(**fields: object) -> Job:
    owner, _ = get_user_model().objects.get_or_create(username="db-helpers")
    return Job.objects.create(
        kind=Job.Kind.SIMILARITY, owner=owner, params={"wallets": []}, dedup_key=uuid.uuid4().hex, **fields
    )


def test_update_returning_gives_the_rows_as_updated_and_only_those_it_matched() -> None:
    queued, running = _job(), _job(status=Job.Status.RUNNING)
    claimed = update_returning(
        Job.objects.filter(id__in=[queued.id, running.id], status=Job.Status.QUEUED),
        status=Job.Status.RUNNING,
        attempts=F("attempts") + 1,
    )
    assert [(job.id, job.status, job.attempts) for job in claimed] == [(queued.id, Job.Status.RUNNING, 1)]
    # Columns come back converted as a query converts them: JSON as objects, the id as a UUID.
    assert claimed[0].params == {"wallets": []} and claimed[0].id == queued.id
    assert update_returning(Job.objects.filter(id=queued.id, status=Job.Status.QUEUED), stage="x") == []
    assert Job.objects.get(id=running.id).attempts == 0


def test_update_returning_fields_loads_only_those_and_refuses_unknown_names() -> None:
    job = _job()
    (row,) = update_returning(Job.objects.filter(id=job.id), fields=("parent_id",), stage="s")
    assert row.parent_id is None and row.get_deferred_fields() >= {"status", "result", "params"}
    with pytest.raises(ValueError, match="no concrete field"):
        update_returning(Job.objects.filter(id=job.id), fields=("nope",), stage="s")


def test_json_set_key_sets_one_key_and_keeps_the_others() -> None:
    empty, filled = _job(), _job(result={"pairs": [1, 2], "enrichment": {"status": "pending"}})
    for job in (empty, filled):
        Job.objects.filter(id=job.id).update(
            result=JSONSetKey("result", key="enrichment", value={"status": "completed", "n": 2})
        )
    assert Job.objects.get(id=empty.id).result == {"enrichment": {"status": "completed", "n": 2}}
    assert Job.objects.get(id=filled.id).result == {
        "pairs": [1, 2],
        "enrichment": {"status": "completed", "n": 2},
    }
    with pytest.raises(ValueError, match="identifier"):
        JSONSetKey("result", key="a.b", value=1)

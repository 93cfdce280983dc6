"""`GET /jobs`: the caller's jobs only, newest first, filtered and paginated with limit/offset."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobs.models import Job

pytestmark = pytest.mark.django_db


def _job(owner: User, kind: str, status: str, age_min: int, parent: Job | None = None) -> Job:
    job = Job.objects.create(
        kind=kind,
        owner=owner,
        params={"n": age_min},
        dedup_key=f"{owner.pk}-{kind}-{age_min}",
        queue="analysis-operations",
        status=status,
        parent=parent,
    )
    Job.objects.filter(id=job.id).update(created_at=timezone.now() - timedelta(minutes=age_min))
    job.refresh_from_db()
    return job


@pytest.fixture
def owner() -> User:
    return get_user_model().objects.create_user(username="lister")


@pytest.fixture
def client(owner: User) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner).key}")
    return api


@pytest.fixture
def jobs(owner: User) -> list[Job]:
    """Five jobs of the owner (newest first) and one of somebody else."""
    made = [
        _job(owner, Job.Kind.PNL, Job.Status.COMPLETED, 1),
        _job(owner, Job.Kind.BEHAVIOR, Job.Status.FAILED, 5),
        _job(owner, Job.Kind.PNL, Job.Status.QUEUED, 10),
        _job(owner, Job.Kind.WALLET_SYNC, Job.Status.RUNNING, 60),
        _job(owner, Job.Kind.BULK_ANALYSIS, Job.Status.RUNNING, 120),
    ]
    _job(get_user_model().objects.create_user(username="someone"), Job.Kind.PNL, Job.Status.COMPLETED, 2)
    return made


def _ids(response: object) -> list[str]:
    return [job["job_id"] for job in response.json()["results"]]  # type: ignore[attr-defined]


def test_lists_own_jobs_newest_first(client: APIClient, jobs: list[Job]) -> None:
    response = client.get("/jobs")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5 and body["next"] is None and body["previous"] is None
    assert _ids(response) == [str(job.id) for job in jobs]
    first = body["results"][0]
    assert first["kind"] == "pnl" and first["status"] == "completed" and first["parent_id"] is None
    assert first["links"]["result"] == f"/jobs/{first['job_id']}/result"


def test_filters_combine(client: APIClient, jobs: list[Job]) -> None:
    assert _ids(client.get("/jobs?kind=pnl")) == [str(jobs[0].id), str(jobs[2].id)]
    assert _ids(client.get("/jobs?status=running")) == [str(jobs[3].id), str(jobs[4].id)]
    assert _ids(client.get("/jobs?kind=pnl&status=queued")) == [str(jobs[2].id)]
    after = (timezone.now() - timedelta(minutes=30)).isoformat()
    before = (timezone.now() - timedelta(minutes=3)).isoformat()
    in_range = client.get("/jobs", {"created_after": after, "created_before": before})
    assert _ids(in_range) == [str(jobs[1].id), str(jobs[2].id)]
    # A naive ISO 8601 time is read as UTC.
    naive = (timezone.now() - timedelta(minutes=7)).replace(tzinfo=None).isoformat()
    assert _ids(client.get("/jobs", {"created_after": naive})) == [str(jobs[0].id), str(jobs[1].id)]


def test_children_of_a_parent(client: APIClient, owner: User, jobs: list[Job]) -> None:
    parent = jobs[4]
    child = _job(owner, Job.Kind.PNL, Job.Status.QUEUED, 100, parent=parent)
    response = client.get(f"/jobs?parent_id={parent.id}")
    assert _ids(response) == [str(child.id)]
    assert response.json()["results"][0]["parent_id"] == str(parent.id)


def test_pages_with_limit_and_offset(client: APIClient, jobs: list[Job]) -> None:
    first = client.get("/jobs?limit=2").json()
    assert first["count"] == 5 and len(first["results"]) == 2
    assert first["previous"] is None and "offset=2" in first["next"] and "limit=2" in first["next"]
    second = client.get(first["next"]).json()
    last = client.get("/jobs?limit=2&offset=4").json()
    seen = [job["job_id"] for page in (first, second, last) for job in page["results"]]
    assert seen == [str(job.id) for job in jobs]
    assert last["next"] is None


def test_stranger_sees_none_of_them(jobs: list[Job]) -> None:
    stranger = get_user_model().objects.create_user(username="stranger")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=stranger).key}")
    assert api.get("/jobs").json() == {"count": 0, "next": None, "previous": None, "results": []}

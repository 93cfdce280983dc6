"""The admin renders for staff and its actions work (issue 9)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from core.queues import SIMILARITY_QUEUE
from jobs import services
from jobs.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> Client:
    user = get_user_model().objects.create_superuser(username="admin", password="pw", email="a@example.com")
    client = Client()
    client.force_login(user)
    return client


def _job(status: str = Job.Status.QUEUED, key: str = "k") -> Job:
    owner = get_user_model().objects.get_or_create(username="owner")[0]
    return Job.objects.create(
        kind="similarity",
        owner=owner,
        dedup_key=key,
        status=status,
        queue=SIMILARITY_QUEUE,
        params={"wallets": ["a", "b"]},
    )


def test_every_admin_changelist_renders(staff_client: Client) -> None:
    _job()
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = staff_client.get(url)
        assert response.status_code == 200, url
        assert staff_client.get(url, {"q": "x"}).status_code == 200, url


def test_job_detail_and_filters_render(staff_client: Client) -> None:
    job = _job()
    assert staff_client.get(reverse("admin:jobs_job_change", args=[job.id])).status_code == 200
    response = staff_client.get(reverse("admin:jobs_job_changelist"), {"status__exact": "queued"})
    assert response.status_code == 200 and str(job.id) in response.content.decode()


def test_cancel_and_retry_actions(staff_client: Client) -> None:
    queued, failed = _job(key="q"), _job(Job.Status.FAILED, key="f")
    url = reverse("admin:jobs_job_changelist")
    staff_client.post(url, {"action": "cancel_jobs", "_selected_action": [str(queued.id)]})
    staff_client.post(url, {"action": "retry_jobs", "_selected_action": [str(failed.id)]})
    queued.refresh_from_db()
    failed.refresh_from_db()
    assert queued.status == Job.Status.CANCELLED
    assert failed.status == Job.Status.QUEUED and failed.stage == "requeued"


def test_dead_letter_replay_action(staff_client: Client) -> None:
    job = _job(Job.Status.FAILED, key="d")
    letter = services.dead_letter_record(
        task_name="jobs.similarity_finish", error_type="fatal", message="boom", job_id=str(job.id)
    )
    assert staff_client.get(reverse("admin:jobs_deadletter_change", args=[letter.pk])).status_code == 200
    staff_client.post(
        reverse("admin:jobs_deadletter_changelist"),
        {"action": "replay", "_selected_action": [str(letter.pk)]},
    )
    letter.refresh_from_db()
    job.refresh_from_db()
    assert letter.replay_count == 1 and "re-queued" in letter.replay_outcome
    assert job.status == Job.Status.QUEUED


def test_admin_is_closed_to_non_staff() -> None:
    client = Client()
    client.force_login(get_user_model().objects.create_user(username="plain"))
    response = client.get(reverse("admin:jobs_job_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]

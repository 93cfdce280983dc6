"""Ledger services without workers: dedup freshness, the stalled sweep's decisions, dead-letter replay."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from core.queues import SIMILARITY_QUEUE, Priority
from jobs import recovery, services
from jobs.models import DeadLetter, Job

pytestmark = pytest.mark.django_db

PARAMS = {"wallets": ["a" * 32, "b" * 32], "options": {}}


@pytest.fixture
def owner() -> User:
    return get_user_model().objects.create_user(username="owner")


def _submit(owner: User, *, force: bool = False, params: dict | None = None) -> services.JobSubmission:
    return services.job_submit(
        kind=Job.Kind.SIMILARITY,
        owner=owner,
        params=params or PARAMS,
        priority=Priority.HIGH,
        force=force,
    )


def test_fresh_completed_job_is_returned_unless_forced(owner: User, settings) -> None:
    first = _submit(owner).job
    Job.objects.filter(id=first.id).update(status=Job.Status.COMPLETED, finished_at=timezone.now(), result={})
    again = _submit(owner)
    assert again.deduplicated and again.job.id == first.id
    forced = _submit(owner, force=True)
    assert not forced.deduplicated and forced.job.id != first.id

    settings.JOB_RESULT_FRESHNESS_S = 60
    Job.objects.filter(id=first.id).update(finished_at=timezone.now() - timedelta(seconds=61))
    Job.objects.filter(id=forced.job.id).update(status=Job.Status.CANCELLED)
    stale = _submit(owner)
    assert not stale.deduplicated and stale.job.id not in {first.id, forced.job.id}


def test_dedup_key_ignores_owner_of_other_users(owner: User) -> None:
    other = get_user_model().objects.create_user(username="other")
    assert _submit(owner).job.id != _submit(other).job.id


def test_sweep_redrives_a_stalled_job_while_attempts_remain(owner: User, settings) -> None:
    settings.JOB_STALL_TIMEOUT_S = 30
    job = _submit(owner).job
    stale = timezone.now() - timedelta(seconds=31)
    Job.objects.filter(id=job.id).update(status=Job.Status.RUNNING, attempts=1, heartbeat_at=stale)
    assert recovery.jobs_sweep_stalled()["redriven"] == 1
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.attempts == 1 and job.stage == "requeued"
    assert len(job.celery_task_ids) == 1


def test_sweep_leaves_a_job_with_a_fresh_heartbeat_alone(owner: User, settings) -> None:
    settings.JOB_STALL_TIMEOUT_S = 30
    job = _submit(owner).job
    Job.objects.filter(id=job.id).update(status=Job.Status.RUNNING, attempts=1, heartbeat_at=timezone.now())
    assert recovery.jobs_sweep_stalled() == {
        "redriven": 0,
        "dead_lettered": 0,
        "requeued": 0,
        "enrichment_resent": 0,
        "history_deepening_queued": 0,
    }


def test_sweep_dead_letters_a_stalled_job_without_attempts_left(owner: User, settings) -> None:
    settings.JOB_STALL_TIMEOUT_S = 30
    job = _submit(owner).job
    stale = timezone.now() - timedelta(seconds=300)
    Job.objects.filter(id=job.id).update(status=Job.Status.RUNNING, attempts=2, heartbeat_at=stale)
    assert recovery.jobs_sweep_stalled()["dead_lettered"] == 1
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and (job.error or {})["type"] == "stalled"
    letter = DeadLetter.objects.get(job=job)
    assert letter.task_name == "jobs.similarity_flow" and "no heartbeat" in letter.message


def test_sweep_requeues_a_queued_job_whose_message_was_lost(owner: User, settings) -> None:
    settings.JOB_QUEUED_LOST_AFTER_S = 60
    job = _submit(owner).job
    Job.objects.filter(id=job.id).update(created_at=timezone.now() - timedelta(seconds=61))
    first_task = job.celery_task_ids[0]
    assert recovery.jobs_sweep_stalled()["requeued"] == 1
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.celery_task_ids[0] != first_task
    assert recovery.jobs_sweep_stalled()["requeued"] == 0  # not again until the window passes anew


def test_replay_command_requeues_the_failed_job_once(owner: User) -> None:
    job = _submit(owner).job
    services.job_fail(
        job_id=str(job.id),
        error_type="insufficient_data",
        message="upstream down",
        dead_letter={"task_name": "jobs.similarity_finish", "queue": SIMILARITY_QUEUE, "attempts": 1},
    )
    services.dead_letter_record(
        task_name="jobs.similarity_sync_wallet", error_type="transient", message="503", job_id=str(job.id)
    )
    out = StringIO()
    call_command("replay_dead_letters", "--all", stdout=out)
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.attempts == 0 and job.error is None
    assert "replayed 1 dead letter(s)" in out.getvalue()
    assert DeadLetter.objects.filter(job=job, replay_count=1).count() == 1


def test_replay_command_refuses_bad_input() -> None:
    with pytest.raises(CommandError, match="name dead letter ids"):
        call_command("replay_dead_letters")
    with pytest.raises(CommandError, match="no dead letter with id 999"):
        call_command("replay_dead_letters", "999")


def test_replay_of_a_job_with_an_identical_active_job_is_refused(owner: User) -> None:
    job = _submit(owner).job
    services.job_fail(job_id=str(job.id), error_type="fatal", message="boom")
    _submit(owner)  # an identical job is now active
    letter = services.dead_letter_record(
        task_name="jobs.similarity_flow", error_type="fatal", message="boom", job_id=str(job.id)
    )
    with pytest.raises(services.ConflictError, match="already queued or running"):
        services.dead_letter_replay(dead_letter=letter)


def test_cancel_is_durable_in_the_ledger(owner: User) -> None:
    job = _submit(owner).job
    assert services.job_cancel(job=job) is True
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and job.finished_at is not None
    assert services.job_start(job_id=str(job.id)) is None
    assert services.job_cancel(job=job) is False


def test_sweep_resends_an_enrichment_left_pending(owner: User, settings) -> None:
    settings.JOB_STALL_TIMEOUT_S = 30
    job = _submit(owner).job
    Job.objects.filter(id=job.id).update(
        status=Job.Status.COMPLETED,
        result={"enrichment": {"status": "pending"}},
        finished_at=timezone.now() - timedelta(seconds=31),
    )
    from core.redis import enrichment_resent_key, get_redis

    get_redis().delete(enrichment_resent_key(str(job.id)))
    assert recovery.jobs_sweep_stalled()["enrichment_resent"] == 1
    assert recovery.jobs_sweep_stalled()["enrichment_resent"] == 0  # once per window


def test_completion_and_enrichment_merge_in_either_order(owner: User) -> None:
    first, second = _submit(owner).job, _submit(owner, params={**PARAMS, "options": {"top_pairs": 3}}).job
    for job in (first, second):
        assert services.job_start(job_id=str(job.id)) is not None
    enrichment = {"status": "completed", "balances": []}

    # Enrichment first: the completion keeps it (the locked path), whatever the result it stores.
    services.job_attach_enrichment(job_id=str(first.id), enrichment=enrichment)
    assert services.job_complete(job_id=str(first.id), result={"pairs": []})
    assert Job.objects.get(id=first.id).result == {"pairs": [], "enrichment": enrichment}

    # Completion first (one statement, enrichment pending), then the enrichment replaces only its key.
    assert services.job_complete(job_id=str(second.id), result={"pairs": [1]})
    assert Job.objects.get(id=second.id).result == {"pairs": [1], "enrichment": {"status": "pending"}}
    services.job_attach_enrichment(job_id=str(second.id), enrichment=enrichment)
    assert Job.objects.get(id=second.id).result == {"pairs": [1], "enrichment": enrichment}

    # An ended job is not completed again.
    assert not services.job_complete(job_id=str(second.id), result={"pairs": [2]})
    assert (Job.objects.get(id=second.id).result or {})["pairs"] == [1]

"""Submission against the ledger: which identical job is reused, the statements a new job costs, the lost race
on the partial unique index, and enqueueing only after the commit (inside a caller's transaction or not)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.queues import Priority
from jobs import dispatch, selectors, services
from jobs.models import Job

PARAMS = {"wallets": ["c" * 32, "d" * 32], "options": {}}


@pytest.fixture
def owner(db: None) -> User:
    return get_user_model().objects.create_user(username="submitter")


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Each enqueued job id, and whether its row was committed at that moment."""
    sent: list[tuple[str, bool]] = []

    def record(job: Job) -> None:
        committed = transaction.get_autocommit() and not transaction.get_connection().in_atomic_block
        sent.append((str(job.id), committed))

    monkeypatch.setattr(dispatch, "job_enqueue", record)
    return sent


def _submit(owner: User, *, force: bool = False) -> services.JobSubmission:
    return services.job_submit(
        kind=Job.Kind.SIMILARITY,
        owner=owner,
        params=PARAMS,
        priority=Priority.HIGH,
        force=force,
    )


def _miss_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next lookup misses the active job, as when two identical submissions looked up before either
    inserted: the insert then hits the partial unique index, and the retry finds the winner."""
    real = selectors.job_reusable
    calls = []

    def reusable(**kwargs: Any) -> Job | None:
        calls.append(kwargs)
        return None if len(calls) == 1 else real(**kwargs)

    monkeypatch.setattr(selectors, "job_reusable", reusable)


def _finish(job: Job, *, ago_s: float = 0.0) -> None:
    Job.objects.filter(id=job.id).update(
        status=Job.Status.COMPLETED, finished_at=timezone.now() - timedelta(seconds=ago_s), result={}
    )


def test_a_fresh_result_is_preferred_to_an_active_identical_job(owner: User) -> None:
    done = _submit(owner).job
    _finish(done)
    active = _submit(owner, force=True).job
    assert active.id != done.id and active.status == Job.Status.QUEUED

    again = _submit(owner)
    assert again.deduplicated and again.job.id == done.id and again.job.status == Job.Status.COMPLETED
    # `force` skips results, not the job already doing the work.
    forced = _submit(owner, force=True)
    assert forced.deduplicated and forced.job.id == active.id


def test_the_freshest_of_several_results_is_returned(owner: User) -> None:
    older = _submit(owner).job
    _finish(older, ago_s=120)
    newer = _submit(owner, force=True).job
    _finish(newer, ago_s=5)
    key = services.job_dedup_key(kind=Job.Kind.SIMILARITY, owner_id=owner.pk, params=PARAMS)

    reused = selectors.job_reusable(dedup_key=key, include_fresh=True)
    assert reused is not None and reused.id == newer.id
    # The whole row comes back, converted like any ORM read.
    assert reused.params == PARAMS and reused.result == {} and reused.finished_at is not None
    assert reused.owner_id == owner.pk and reused.celery_task_ids == newer.celery_task_ids
    assert selectors.job_reusable(dedup_key=key, include_fresh=False) is None


def test_stale_and_failed_jobs_are_not_reused(owner: User, settings: Any) -> None:
    settings.JOB_RESULT_FRESHNESS_S = 60
    stale = _submit(owner).job
    _finish(stale, ago_s=61)
    failed = _submit(owner).job
    assert failed.id != stale.id
    Job.objects.filter(id=failed.id).update(status=Job.Status.FAILED, finished_at=timezone.now())
    fresh = _submit(owner)
    assert not fresh.deduplicated and fresh.job.id not in {stale.id, failed.id}


def test_a_lost_race_inside_a_transaction_returns_the_winner_and_keeps_the_transaction(
    owner: User,
    enqueued: list[tuple[str, bool]],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        winner = _submit(owner).job
    _miss_once(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        loser = _submit(owner)
    assert loser.deduplicated and loser.job.id == winner.id
    assert Job.objects.filter(dedup_key=winner.dedup_key).count() == 1  # the test's transaction still works
    assert [job_id for job_id, _ in enqueued] == [str(winner.id)]


def test_inside_a_transaction_the_enqueue_waits_for_the_commit(
    owner: User, enqueued: list[tuple[str, bool]], django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = _submit(owner).job
        assert enqueued == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert [job_id for job_id, _ in enqueued] == [str(job.id)]


@pytest.mark.django_db(transaction=True)
def test_a_new_job_is_one_lookup_and_one_insert_then_enqueued_committed(
    enqueued: list[tuple[str, bool]],
) -> None:
    owner = get_user_model().objects.create_user(username="autocommit")
    with CaptureQueriesContext(connection) as queries:
        submission = _submit(owner)
    statements = [query["sql"].split()[0].upper() for query in queries.captured_queries]
    assert statements == ["SELECT", "INSERT"]  # no BEGIN, COMMIT or SAVEPOINT around the insert
    assert not submission.deduplicated
    assert enqueued == [(str(submission.job.id), True)]

    again = _submit(owner)
    assert again.deduplicated and again.job.id == submission.job.id and len(enqueued) == 1


@pytest.mark.django_db(transaction=True)
def test_a_lost_race_outside_a_transaction_returns_the_winner(
    enqueued: list[tuple[str, bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = get_user_model().objects.create_user(username="racer")
    winner = _submit(owner).job
    _miss_once(monkeypatch)
    loser = _submit(owner)
    assert loser.deduplicated and loser.job.id == winner.id
    assert [job_id for job_id, _ in enqueued] == [str(winner.id)]


def test_the_start_task_is_sent_under_the_ledger_task_id_without_a_result(
    owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from celery.canvas import Signature

    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(Signature, "apply_async", lambda self, *args, **options: sent.append(options))
    job = _submit(owner).job
    dispatch.job_enqueue(job)
    assert sent == [{"task_id": job.celery_task_ids[0], "ignore_result": True}]

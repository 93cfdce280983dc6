"""The daily cleanup deletes old ended rows and keeps everything current."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from jobs.maintenance import maintenance_cleanup
from jobs.models import DeadLetter, Job, TaskRun
from wallets.models import BalanceSnapshot, Wallet

pytestmark = pytest.mark.django_db


def test_cleanup_deletes_old_ended_rows_and_keeps_current_ones(settings) -> None:
    settings.JOB_RETENTION_DAYS = 30
    now = timezone.now()
    old = now - timedelta(days=31)
    owner = get_user_model().objects.create_user(username="cleanup")

    def job(status: str, finished: datetime | None, key: str) -> Job:
        return Job.objects.create(
            kind="similarity", owner=owner, dedup_key=key, status=status, queue="q", finished_at=finished
        )

    old_done = job(Job.Status.COMPLETED, old, "a")
    recent_done = job(Job.Status.FAILED, now, "b")
    running = job(Job.Status.RUNNING, None, "c")
    TaskRun.objects.create(task_id="1", task_name="t", queue="q", worker="w", started_at=old)
    TaskRun.objects.create(task_id="2", task_name="t", queue="q", worker="w", started_at=now)
    replayed = DeadLetter.objects.create(task_name="t", error_type="fatal", message="m", replay_count=1)
    pending = DeadLetter.objects.create(task_name="t", error_type="fatal", message="m")
    DeadLetter.objects.filter(pk__in=[replayed.pk, pending.pk]).update(created_at=old)
    wallet = Wallet.objects.create(address="w" * 32)
    for days in (40, 20, 10):
        BalanceSnapshot.objects.create(wallet=wallet, fetched_at=now - timedelta(days=days), sol_lamports=1)
    only = Wallet.objects.create(address="v" * 32)
    BalanceSnapshot.objects.create(wallet=only, fetched_at=old, sol_lamports=1)

    deleted = maintenance_cleanup(now=now)

    assert set(Job.objects.values_list("id", flat=True)) == {recent_done.id, running.id}
    assert not Job.objects.filter(id=old_done.id).exists()
    assert list(TaskRun.objects.values_list("task_id", flat=True)) == ["2"]
    assert list(DeadLetter.objects.values_list("pk", flat=True)) == [pending.pk]
    assert (
        BalanceSnapshot.objects.filter(wallet=wallet).count() == 1
    )  # older than a week: only the newest stays
    assert BalanceSnapshot.objects.filter(wallet=only).count() == 1  # a wallet's newest snapshot always stays
    assert deleted["jobs"] >= 1

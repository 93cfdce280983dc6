"""The analysis flow's compute step, run in-process against the ledger (the real workers are in
tests/integration/test_analysis_jobs.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from jobs import dispatch, recovery
from jobs.flows import analysis
from jobs.models import DeadLetter, Job
from tests.django.analysis.conftest import PRICED, T0, address

pytestmark = pytest.mark.django_db

WALLET = address(21)


def _running_job(kind: str, *, attempts: int = 1) -> Job:
    owner = get_user_model().objects.create_user(username=f"carol-{kind}")
    return Job.objects.create(
        kind=kind,
        owner=owner,
        params={"wallet": WALLET, "force": False},
        dedup_key=f"test-{kind}",
        queue="analysis-operations",
        status=Job.Status.RUNNING,
        attempts=attempts,
    )


@pytest.mark.parametrize("kind", ["pnl", "behavior"])
def test_compute_step_completes_the_job_with_the_result(add_leg, kind: str) -> None:
    add_leg(WALLET, mint=PRICED.mint, direction="buy", qty=1000, sol=1.0, ts=T0)
    add_leg(WALLET, mint=PRICED.mint, direction="sell", qty=1000, sol=1.5, ts=T0 + 90)
    job = _running_job(kind)

    analysis.compute(job_id=str(job.id), attempt=1)

    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED and job.progress == 100
    result = job.result or {}
    assert result["wallet"] == WALLET and result["analysis"] == kind
    assert result["enrichment"]["status"] == "not_applicable"
    if kind == "pnl":
        assert result["pnl"]["realized_pnl_sol"] == pytest.approx(0.5)
        assert result["pnl"]["tokens"][0]["hold_time_s"] == 90.0
    else:
        assert result["behavior"]["hold_median_s"] == 90.0


def test_compute_step_of_a_replaced_run_does_nothing(add_leg) -> None:
    job = _running_job("pnl", attempts=2)
    analysis.compute(job_id=str(job.id), attempt=1)
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.result is None


def test_compute_step_of_a_cancelled_job_does_nothing(add_leg) -> None:
    job = _running_job("behavior")
    Job.objects.filter(id=job.id).update(status=Job.Status.CANCELLED)
    analysis.compute(job_id=str(job.id), attempt=1)
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and job.result is None


def test_both_analysis_kinds_can_be_redriven() -> None:
    assert (
        dispatch.START_TASKS[Job.Kind.PNL]
        == dispatch.START_TASKS[Job.Kind.BEHAVIOR]
        == dispatch.ANALYSIS_FLOW
    )


def test_stalled_analysis_job_is_redriven_then_dead_lettered(django_capture_on_commit_callbacks) -> None:
    job = _running_job("pnl")
    Job.objects.filter(id=job.id).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert recovery.jobs_sweep_stalled()["redriven"] == 1
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.stage == "requeued" and len(callbacks) == 1

    # The second run stalls too: the analysis queue allows two attempts, so this one is final.
    Job.objects.filter(id=job.id).update(
        status=Job.Status.RUNNING, attempts=2, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    assert recovery.jobs_sweep_stalled()["dead_lettered"] == 1
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and (job.error or {})["type"] == "stalled"
    [letter] = DeadLetter.objects.filter(job_id=job.id)
    assert letter.task_name == "jobs.analysis_flow" and letter.queue == "analysis-operations"

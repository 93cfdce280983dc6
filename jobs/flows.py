"""Composition of job flows (SPEC §4): the one place where chains and chords are built.

The similarity flow:
    start (similarity-operations)
      └─ chord(header = [sync W for each W needing sync] + [fetch balances of all W] (wallet-operations),
               body   = finish: similarity on the synced wallets                   (similarity-operations))
    the balances task fires enrichment (enrichment-operations), which the job does not wait for.

Header tasks never raise into the chord: each returns `{kind, wallet, ok, error}`, so the body always runs
and decides with the wallets that succeeded (SPEC §4, §8). Every task of a run carries the run's `attempt`
number, so tasks left over from a run that the stalled sweep replaced stop at their first checkpoint.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from celery import chord
from celery.canvas import Signature
from django.conf import settings
from django.utils import timezone

from config.celery import app as celery_app
from config.queues import (
    ENRICHMENT_QUEUE,
    QUEUES,
    SIMILARITY_QUEUE,
    WALLET_QUEUE,
    Priority,
    transport_priority,
)
from jobs import services
from jobs.models import Job

logger = logging.getLogger(__name__)

START_TASKS = {Job.Kind.SIMILARITY: "jobs.similarity_flow"}

SYNC_PROGRESS_START = 5
SYNC_PROGRESS_END = 60
COMPUTED_PROGRESS = 90
MIN_WALLETS_FOR_SIMILARITY = 2
STALL_MARGIN_S = 60


def _signature(name: str, *, queue: str, priority: int, **kwargs: Any) -> Signature:
    return celery_app.signature(
        name, kwargs=kwargs, queue=queue, priority=transport_priority(priority), task_id=str(uuid.uuid4())
    )


def job_enqueue(job: Job) -> None:
    """Send the job's start task under the task id recorded in the ledger."""
    start = _signature(
        START_TASKS[Job.Kind(job.kind)], queue=job.queue, priority=job.priority, job_id=str(job.id)
    )
    start.apply_async(task_id=job.celery_task_ids[0])


def job_revoke_tasks(job: Job) -> None:
    """Revoke every recorded task of the job; workers that restart forget revokes, the ledger does not."""
    if job.celery_task_ids:
        celery_app.control.revoke(list(job.celery_task_ids))


def task_resend(*, task_name: str, args: list[Any], kwargs: dict[str, Any], queue: str) -> str:
    result = celery_app.send_task(task_name, args=args, kwargs=kwargs, queue=queue or None)
    return str(result.id)


def similarity_flow_start(*, job_id: str) -> None:
    from wallets.selectors import wallets_needing_sync

    job = services.job_start(job_id=job_id)
    if job is None:
        return
    wallets: list[str] = job.params["wallets"]
    needing = wallets_needing_sync(addresses=wallets)
    # Every sync plus the balances fetch is one unit of the 5-60 progress range; fresh wallets count as done.
    common: dict[str, Any] = {
        "job_id": job_id,
        "attempt": job.attempts,
        "total_units": len(wallets) + 1,
        "done_already": len(wallets) - len(needing),
    }
    services.job_report_progress(
        job_id=job_id,
        progress=services.job_progress_between(
            start=SYNC_PROGRESS_START,
            end=SYNC_PROGRESS_END,
            done=common["done_already"],
            total=common["total_units"],
        ),
        stage="syncing",
        detail={"wallets": len(wallets), "needing_sync": len(needing)},
    )
    header = [
        _signature(
            "jobs.similarity_sync_wallet", queue=WALLET_QUEUE, priority=job.priority, wallet=wallet, **common
        )
        for wallet in needing
    ]
    header.append(
        _signature("jobs.similarity_fetch_balances", queue=WALLET_QUEUE, priority=job.priority, **common)
    )
    body = _signature(
        "jobs.similarity_finish",
        queue=SIMILARITY_QUEUE,
        priority=job.priority,
        job_id=job_id,
        attempt=job.attempts,
    )
    services.job_record_task_ids(job_id=job_id, task_ids=[str(sig.id) for sig in [*header, body]])
    chord(header)(body)


def _unit_done(
    *, job_id: str, attempt: int, stage: str, total_units: int, done_already: int, detail: dict[str, Any]
) -> None:
    done = services.job_progress_units_done(
        job_id=job_id, attempt=attempt, total_units=total_units, done_already=done_already
    )
    services.job_report_progress(
        job_id=job_id,
        progress=services.job_progress_between(
            start=SYNC_PROGRESS_START, end=SYNC_PROGRESS_END, done=done, total=total_units
        ),
        stage=stage,
        detail={**detail, "done": done, "total": total_units},
    )


def similarity_flow_sync_wallet(
    *, job_id: str, attempt: int, wallet: str, total_units: int, done_already: int
) -> dict[str, Any]:
    from wallets.services import wallet_sync

    services.job_checkpoint(job_id=job_id, attempt=attempt)
    outcome = wallet_sync(
        address=wallet, checkpoint=lambda: services.job_checkpoint(job_id=job_id, attempt=attempt)
    )
    _unit_done(
        job_id=job_id,
        attempt=attempt,
        stage="syncing",
        total_units=total_units,
        done_already=done_already,
        detail={"wallet": wallet, "new_swaps": outcome.new_swaps},
    )
    return {"kind": "sync", "wallet": wallet, "ok": True, "error": None, "new_swaps": outcome.new_swaps}


def similarity_flow_sync_failed(
    *, job_id: str, attempt: int, wallet: str, total_units: int, done_already: int, error: str
) -> None:
    _unit_done(
        job_id=job_id,
        attempt=attempt,
        stage="syncing",
        total_units=total_units,
        done_already=done_already,
        detail={"wallet": wallet, "error": error},
    )


def similarity_flow_fetch_balances(
    *, job_id: str, attempt: int, total_units: int, done_already: int
) -> dict[str, Any]:
    """Fetch every wallet's balances; a wallet that fails is reported, the others still count."""
    from wallets.services import wallet_fetch_balances

    services.job_checkpoint(job_id=job_id, attempt=attempt)
    job = Job.objects.get(id=job_id)
    fetched: list[str] = []
    failed: dict[str, str] = {}
    for wallet in job.params["wallets"]:
        services.job_checkpoint(job_id=job_id, attempt=attempt)
        try:
            wallet_fetch_balances(address=wallet)
            fetched.append(wallet)
        except services.JobNotRunningError:
            raise
        except Exception as exc:
            failed[wallet] = f"{type(exc).__name__}: {exc}"
    _unit_done(
        job_id=job_id,
        attempt=attempt,
        stage="balances",
        total_units=total_units,
        done_already=done_already,
        detail={"balances_fetched": len(fetched), "balances_failed": len(failed)},
    )
    if fetched:
        enrich = _signature(
            "jobs.enrich_job_balances", queue=ENRICHMENT_QUEUE, priority=Priority.LOW, job_id=job_id
        )
        services.job_record_task_ids(job_id=job_id, task_ids=[str(enrich.id)])
        enrich.apply_async()
    return {
        "kind": "balances",
        "wallet": None,
        "ok": bool(fetched),
        "error": None,
        "fetched": fetched,
        "failed": failed,
    }


def similarity_flow_finish(*, job_id: str, attempt: int, header_results: list[dict[str, Any]]) -> None:
    from similarity.services import similarity_analyze

    try:
        services.job_checkpoint(job_id=job_id, attempt=attempt)
    except services.JobNotRunningError:
        logger.info("similarity body of job %s (attempt %s) skipped: the run is over", job_id, attempt)
        return
    job = Job.objects.get(id=job_id)
    wallets: list[str] = job.params["wallets"]
    failed = {r["wallet"]: r["error"] for r in header_results if r.get("kind") == "sync" and not r.get("ok")}
    synced = [wallet for wallet in wallets if wallet not in failed]
    failed_wallets = [{"wallet": wallet, "error": error} for wallet, error in failed.items()]
    if len(synced) < MIN_WALLETS_FOR_SIMILARITY:
        reasons = "; ".join(f"{item['wallet']}: {item['error']}" for item in failed_wallets)
        services.job_fail(
            job_id=job_id,
            error_type="insufficient_data",
            message=f"Only {len(synced)} of {len(wallets)} wallets could be synced; similarity needs at "
            f"least {MIN_WALLETS_FOR_SIMILARITY}. {reasons}",
            dead_letter={
                "task_name": "jobs.similarity_finish",
                "queue": SIMILARITY_QUEUE,
                "kwargs": {"job_id": job_id, "attempt": attempt},
                "attempts": attempt,
            },
        )
        return
    balances = next((r for r in header_results if r.get("kind") == "balances"), None) or {}
    services.job_report_progress(job_id=job_id, progress=SYNC_PROGRESS_END, stage="computing", detail={})
    result = similarity_analyze(
        wallets=synced, failed_wallets=failed_wallets, options=job.params.get("options") or {}
    )
    result["balances_failed"] = balances.get("failed", {})
    services.job_report_progress(
        job_id=job_id, progress=COMPUTED_PROGRESS, stage="similarity_computed", detail={}
    )
    summary = {
        "wallets": len(synced),
        "failed_wallets": len(failed_wallets),
        "clusters": len(result.get("clusters", [])),
        "top_pair": (result.get("pairs") or [None])[0],
    }
    services.job_complete(job_id=job_id, result=result, summary=summary)


def job_enrich_balances(*, job_id: str) -> None:
    from enrichment.services import enrichment_enrich_balances
    from wallets.selectors import wallet_latest_balances

    job = Job.objects.get(id=job_id)
    if job.status in (Job.Status.CANCELLED, Job.Status.FAILED):
        return
    balances = [wallet_latest_balances(address=wallet) for wallet in job.params["wallets"]]
    enriched = enrichment_enrich_balances(job_id=job_id, balances=[b for b in balances if b is not None])
    services.job_attach_enrichment(job_id=job_id, enrichment=enriched)


def job_enrichment_failed(*, job_id: str, reason: str) -> None:
    services.job_attach_enrichment(
        job_id=job_id, enrichment={"status": "failed", "reason": reason, "balances": []}
    )


def stall_timeout_s(queue: str) -> int:
    if settings.JOB_STALL_TIMEOUT_S:
        return int(settings.JOB_STALL_TIMEOUT_S)
    return QUEUES[queue].hard_time_limit_s + STALL_MARGIN_S


def jobs_sweep_stalled() -> dict[str, int]:
    """Recover jobs that stopped moving (SPEC §3): re-drive while attempts remain, else dead-letter them.

    Covers a worker killed mid-task (its message sits unacknowledged until the visibility timeout) and Redis
    losing queued messages or chord state (restart without persistence, FLUSHALL): the ledger still knows.
    """
    now = timezone.now()
    counts = {"redriven": 0, "dead_lettered": 0, "requeued": 0}
    for job in Job.objects.filter(status=Job.Status.RUNNING).order_by("heartbeat_at")[:500]:
        cutoff = now - timedelta(seconds=stall_timeout_s(job.queue))
        if job.heartbeat_at is not None and job.heartbeat_at >= cutoff:
            continue
        silent_s = int((now - (job.heartbeat_at or job.created_at)).total_seconds())
        if job.attempts < QUEUES[job.queue].max_attempts:
            if services.job_redrive(job=job, reason=f"stalled: no heartbeat for {silent_s}s"):
                counts["redriven"] += 1
            continue
        message = f"stalled: no heartbeat for {silent_s}s after {job.attempts} attempt(s)"
        if services.job_fail(
            job_id=str(job.id),
            error_type="stalled",
            message=message,
            dead_letter={
                "task_name": START_TASKS[Job.Kind(job.kind)],
                "queue": job.queue,
                "kwargs": {"job_id": str(job.id)},
                "attempts": job.attempts,
            },
        ):
            counts["dead_lettered"] += 1
    lost_before = now - timedelta(seconds=settings.JOB_QUEUED_LOST_AFTER_S)
    for job in Job.objects.filter(status=Job.Status.QUEUED, heartbeat_at__lt=lost_before)[:500]:
        # A duplicate start message is harmless (the claim only takes queued jobs), so re-sending is safe.
        if services.job_redrive(job=job, reason="queued message presumed lost"):
            counts["requeued"] += 1
    for job in Job.objects.filter(
        status=Job.Status.QUEUED, heartbeat_at__isnull=True, created_at__lt=lost_before
    )[:500]:
        if services.job_redrive(job=job, reason="queued message presumed lost"):
            counts["requeued"] += 1
    return counts

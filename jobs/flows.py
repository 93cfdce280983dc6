"""Composition of job flows (SPEC §4): the one place where chains and chords are built.

The similarity flow:
    start (similarity-operations)
      └─ chord(header = [sync W for each W needing sync] + [fetch balances of all W] (wallet-operations),
               body   = finish: similarity on the synced wallets                   (similarity-operations))
    the balances task fires enrichment (enrichment-operations), which the job does not wait for.

Header tasks never raise into the chord: each returns `{kind, wallet, ok, error}`, so the body always runs
and decides with the wallets that succeeded (SPEC §4, §8). Every task of a run carries the run's `attempt`
number, so tasks left over from a run that the stalled sweep replaced stop at their first checkpoint.

The analysis flow (PnL or behaviour of one wallet):
    start (analysis-operations)
      ├─ wallet needs a sync, or (PnL) fresher balances:
      │     chain(prepare: sync and/or fetch balances (wallet-operations), compute (analysis-operations))
      └─ otherwise: compute (analysis-operations)
A failed preparation fails the job itself; the compute task then finds the run over and does nothing.

The wallet sync flow (one wallet):
    start (wallet-operations) ─► run: sync the wallet, then fetch its balances (wallet-operations)
The start task only claims the job; the work runs in a second task, which may retry (a claim may not).

The bulk analysis flow (a parent job with children):
    start (analysis-operations): claim the parent, create one child job per wallet per type (PnL, behaviour)
    and one similarity child over the set, enqueue them (each runs its own flow above).
    Each child, when it ends (completed, failed or cancelled), settles its parent after its commit
    (`services.job_parent_settle`): the parent's row lock makes exactly one settle complete it, with counts
    per type and status. A waiting parent has no task of its own, so the stalled sweep never re-drives a
    parent that has children: it settles it instead, repairing a settle lost to a crash.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from celery import chain, chord
from celery.canvas import Signature
from django.conf import settings
from django.utils import timezone

from config.celery import app as celery_app
from core.queues import (
    ANALYSIS_QUEUE,
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

START_TASKS = {
    Job.Kind.SIMILARITY: "jobs.similarity_flow",
    Job.Kind.PNL: "jobs.analysis_flow",
    Job.Kind.BEHAVIOR: "jobs.analysis_flow",
    Job.Kind.WALLET_SYNC: "jobs.wallet_sync_flow",
    Job.Kind.BULK_ANALYSIS: "jobs.bulk_analysis_flow",
}

SYNC_PROGRESS_START = 5
SYNC_PROGRESS_END = 60
COMPUTED_PROGRESS = 90
ANALYSIS_SYNC_PROGRESS = 10
ANALYSIS_SYNCED_PROGRESS = 50
MIN_WALLETS_FOR_SIMILARITY = 2
STALL_MARGIN_S = 60


def _signature(name: str, *, queue: str, priority: int, immutable: bool = False, **kwargs: Any) -> Signature:
    return celery_app.signature(
        name,
        kwargs=kwargs,
        queue=queue,
        priority=transport_priority(priority),
        task_id=str(uuid.uuid4()),
        immutable=immutable,
    )


def job_enqueue(job: Job) -> None:
    """Send the job's start task under the task id recorded in the ledger.

    Nothing reads a start task's result (the ledger holds the job's state): without `ignore_result` every
    submission subscribed the web process to the task's result channel, and the worker stored the result.
    """
    start = _signature(
        START_TASKS[Job.Kind(job.kind)], queue=job.queue, priority=job.priority, job_id=str(job.id)
    )
    start.apply_async(task_id=job.celery_task_ids[0], ignore_result=True)


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
    # Every sync and every wallet's balances fetch is one unit of the 5-60 progress range.
    common: dict[str, Any] = {
        "job_id": job_id,
        "attempt": job.attempts,
        "total_units": len(needing) + len(wallets),
        "done_already": 0,
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
    # One balances task per wallet, so the balances branch takes as long as its slowest wallet, not the sum
    # of all of them (measured: 10 wallets at 250 ms per call took 5.1 s in one task, longer than any sync).
    header += [
        _signature(
            "jobs.similarity_fetch_balances",
            queue=WALLET_QUEUE,
            priority=job.priority,
            wallet=wallet,
            **common,
        )
        for wallet in wallets
    ]
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
    *, job_id: str, attempt: int, wallet: str, total_units: int, done_already: int
) -> dict[str, Any]:
    """Fetch one wallet's balances (cached 30 s in Redis for the body, kept in the database)."""
    from wallets.services import wallet_fetch_balances

    services.job_checkpoint(job_id=job_id, attempt=attempt)
    wallet_fetch_balances(address=wallet)
    similarity_flow_balances_ended(
        job_id=job_id,
        attempt=attempt,
        wallet=wallet,
        total_units=total_units,
        done_already=done_already,
        error=None,
    )
    return {"kind": "balances", "wallet": wallet, "ok": True, "error": None}


def similarity_flow_balances_ended(
    *, job_id: str, attempt: int, wallet: str, total_units: int, done_already: int, error: str | None
) -> None:
    """Count a wallet's balances branch as ended; the last one to end starts enrichment, not awaited."""
    _unit_done(
        job_id=job_id,
        attempt=attempt,
        stage="balances",
        total_units=total_units,
        done_already=done_already,
        detail={"wallet": wallet, **({"error": error} if error else {})},
    )
    wallet_count = len(Job.objects.values_list("params", flat=True).get(id=job_id)["wallets"])
    if services.job_balances_all_ended(job_id=job_id, attempt=attempt, wallet_count=wallet_count):
        enrich = _signature(
            "jobs.enrich_job_balances", queue=ENRICHMENT_QUEUE, priority=Priority.LOW, job_id=job_id
        )
        services.job_record_task_ids(job_id=job_id, task_ids=[str(enrich.id)])
        enrich.apply_async()


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
    balances_failed = {
        r["wallet"]: r["error"] for r in header_results if r.get("kind") == "balances" and not r.get("ok")
    }
    services.job_report_progress(job_id=job_id, progress=SYNC_PROGRESS_END, stage="computing", detail={})
    result = similarity_analyze(
        wallets=synced, failed_wallets=failed_wallets, options=job.params.get("options") or {}
    )
    result["balances_failed"] = balances_failed
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

    job = Job.objects.filter(id=job_id).first()
    # Gone (cleaned up) or ended without a result: there is nothing to enrich.
    if job is None or job.status in (Job.Status.CANCELLED, Job.Status.FAILED):
        return
    balances = [wallet_latest_balances(address=wallet) for wallet in job.params["wallets"]]
    enriched = enrichment_enrich_balances(job_id=job_id, balances=[b for b in balances if b is not None])
    services.job_attach_enrichment(job_id=job_id, enrichment=enriched)


def job_enrichment_failed(*, job_id: str, reason: str) -> None:
    services.job_attach_enrichment(
        job_id=job_id, enrichment={"status": "failed", "reason": reason, "balances": []}
    )


def analysis_flow_start(*, job_id: str) -> None:
    """Claim a PnL or behaviour job and send its tasks: preparation on the wallet queue when needed."""
    from analysis.selectors import analysis_balances_stale
    from wallets.selectors import wallets_needing_sync

    job = services.job_start(job_id=job_id)
    if job is None:
        return
    wallet: str = job.params["wallet"]
    sync = bool(wallets_needing_sync(addresses=[wallet]))
    # Behaviour reads swaps only; PnL also values what the wallet holds now.
    balances = job.kind == Job.Kind.PNL and (sync or analysis_balances_stale(address=wallet))
    compute = _signature(
        "jobs.analysis_compute",
        queue=ANALYSIS_QUEUE,
        priority=job.priority,
        immutable=True,
        job_id=job_id,
        attempt=job.attempts,
    )
    if not (sync or balances):
        services.job_record_task_ids(job_id=job_id, task_ids=[str(compute.id)])
        compute.apply_async()
        return
    prepare = _signature(
        "jobs.analysis_prepare_wallet",
        queue=WALLET_QUEUE,
        priority=job.priority,
        job_id=job_id,
        attempt=job.attempts,
        sync=sync,
        balances=balances,
    )
    services.job_record_task_ids(job_id=job_id, task_ids=[str(prepare.id), str(compute.id)])
    chain(prepare, compute).apply_async()


def analysis_flow_prepare_wallet(*, job_id: str, attempt: int, sync: bool, balances: bool) -> None:
    """Sync the wallet and/or fetch its balances. A balance fetch that fails only costs unrealized PnL."""
    from wallets.services import wallet_fetch_balances, wallet_sync

    services.job_checkpoint(job_id=job_id, attempt=attempt)
    wallet: str = Job.objects.values_list("params", flat=True).get(id=job_id)["wallet"]
    if sync:
        services.job_report_progress(
            job_id=job_id, progress=ANALYSIS_SYNC_PROGRESS, stage="syncing", detail={"wallet": wallet}
        )
        outcome = wallet_sync(
            address=wallet, checkpoint=lambda: services.job_checkpoint(job_id=job_id, attempt=attempt)
        )
        services.job_report_progress(
            job_id=job_id,
            progress=ANALYSIS_SYNCED_PROGRESS,
            stage="synced",
            detail={"wallet": wallet, "new_swaps": outcome.new_swaps},
        )
    if not balances:
        return
    services.job_checkpoint(job_id=job_id, attempt=attempt)
    detail: dict[str, Any] = {"wallet": wallet}
    try:
        wallet_fetch_balances(address=wallet)
    except services.JobNotRunningError:
        raise
    except Exception as exc:
        logger.warning("balances of %s for job %s not fetched: %s", wallet, job_id, exc)
        detail["balances_error"] = f"{type(exc).__name__}: {exc}"
    services.job_report_progress(job_id=job_id, progress=SYNC_PROGRESS_END, stage="balances", detail=detail)


def analysis_flow_compute(*, job_id: str, attempt: int) -> None:
    from analysis.selectors import analysis_result_summary
    from analysis.services import analysis_compute_behavior, analysis_compute_pnl

    try:
        services.job_checkpoint(job_id=job_id, attempt=attempt)
    except services.JobNotRunningError:
        logger.info("analysis of job %s (attempt %s) skipped: the run is over", job_id, attempt)
        return
    job = Job.objects.get(id=job_id)
    wallet: str = job.params["wallet"]
    force = bool(job.params.get("force"))
    services.job_report_progress(
        job_id=job_id, progress=SYNC_PROGRESS_END, stage="computing", detail={"wallet": wallet}
    )
    if job.kind == Job.Kind.PNL:
        result = analysis_compute_pnl(address=wallet, force=force)
    else:
        result = analysis_compute_behavior(address=wallet, force=force)
    # A run replaced meanwhile by the stalled sweep must not complete the job in the new run's place.
    services.job_checkpoint(job_id=job_id, attempt=attempt)
    services.job_report_progress(
        job_id=job_id,
        progress=COMPUTED_PROGRESS,
        stage=f"{job.kind}_computed",
        detail={"recomputed": result["recomputed"]},
    )
    _complete_without_enrichment(
        job_id=job_id, result=result, summary=analysis_result_summary(result), kind=job.kind
    )


def _complete_without_enrichment(
    *, job_id: str, result: dict[str, Any], summary: dict[str, Any], kind: str
) -> None:
    """Complete a job that has no enrichment phase: its result says so instead of staying pending forever."""
    services.job_complete(
        job_id=job_id,
        result=result,
        summary=summary,
        enrichment={**services.NO_ENRICHMENT, "reason": f"a {kind} job starts no enrichment"},
    )


def wallet_sync_flow_start(*, job_id: str) -> None:
    job = services.job_start(job_id=job_id)
    if job is None:
        return
    run = _signature(
        "jobs.wallet_sync_run", queue=WALLET_QUEUE, priority=job.priority, job_id=job_id, attempt=job.attempts
    )
    services.job_record_task_ids(job_id=job_id, task_ids=[str(run.id)])
    run.apply_async()


def wallet_sync_flow_run(*, job_id: str, attempt: int) -> None:
    """Sync one wallet (incrementally; with force even when synced within WALLET_SYNC_FRESHNESS) and fetch
    its balances. A failed balance fetch is reported in the result; the sync it follows stands.
    """
    from wallets.selectors import wallet_sync_state
    from wallets.services import wallet_fetch_balances, wallet_sync

    services.job_checkpoint(job_id=job_id, attempt=attempt)
    params = Job.objects.values_list("params", flat=True).get(id=job_id)
    wallet: str = params["wallet"]
    services.job_report_progress(
        job_id=job_id, progress=ANALYSIS_SYNC_PROGRESS, stage="syncing", detail={"wallet": wallet}
    )
    outcome = wallet_sync(
        address=wallet,
        force=bool(params.get("force")),
        checkpoint=lambda: services.job_checkpoint(job_id=job_id, attempt=attempt),
    )
    services.job_report_progress(
        job_id=job_id,
        progress=SYNC_PROGRESS_END,
        stage="balances",
        detail={"wallet": wallet, "new_swaps": outcome.new_swaps},
    )
    services.job_checkpoint(job_id=job_id, attempt=attempt)
    balances: dict[str, Any]
    try:
        fetched = wallet_fetch_balances(address=wallet)
        balances = {
            "ok": True,
            "sol": fetched["sol"],
            "tokens": len(fetched["tokens"]),
            "fetched_at": fetched["fetched_at"],
        }
    except services.JobNotRunningError:
        raise
    except Exception as exc:
        logger.warning("balances of %s for job %s not fetched: %s", wallet, job_id, exc)
        balances = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    state = wallet_sync_state(address=wallet)
    last_synced_at = state.last_synced_at if state is not None else None
    result = {
        "wallet": wallet,
        "skipped_fresh": outcome.skipped_fresh,
        "new_transactions": outcome.new_transactions,
        "new_swaps": outcome.new_swaps,
        "fetched_transactions": outcome.fetched_transactions,
        "transactions_seen": state.transactions_seen if state is not None else 0,
        "swaps_unparsed": state.swaps_unparsed if state is not None else 0,
        "newest_signature": (state.newest_signature or None) if state is not None else None,
        "last_synced_at": last_synced_at.isoformat() if last_synced_at else None,
        "balances": balances,
    }
    # A run replaced meanwhile by the stalled sweep must not complete the job in the new run's place.
    services.job_checkpoint(job_id=job_id, attempt=attempt)
    summary = {key: result[key] for key in ("wallet", "new_swaps", "newest_signature", "last_synced_at")}
    _complete_without_enrichment(job_id=job_id, result=result, summary=summary, kind=Job.Kind.WALLET_SYNC)


def bulk_analysis_flow_start(*, job_id: str) -> None:
    """Claim a bulk parent and fan out its children; the children's ends settle it.

    The fan-out acts only on a running parent and creates only missing children, so a retry of this task
    (whose claim finds the parent running already) still fans out when the first attempt failed before it.
    """
    services.job_start(job_id=job_id)
    services.bulk_analysis_create_children(parent_id=job_id)


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
    counts = {"redriven": 0, "dead_lettered": 0, "requeued": 0, "enrichment_resent": 0}
    for job in Job.objects.filter(status=Job.Status.RUNNING).order_by("heartbeat_at")[:500]:
        if job.kind == Job.Kind.BULK_ANALYSIS and job.children.exists():
            # Merely waiting: its children are recovered on their own. Settling repairs a lost settle.
            if services.job_parent_settle(parent_id=str(job.id)):
                logger.info("bulk job %s settled by the sweep", job.id)
            continue
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
    counts["enrichment_resent"] = _resend_pending_enrichment(now=now)
    return counts


def _resend_pending_enrichment(*, now: datetime) -> int:
    """Completed jobs whose enrichment stayed pending past its queue's stall window lost the enrichment
    task (a killed worker's message waits out the visibility timeout): send it again, once per window."""
    window_s = stall_timeout_s(ENRICHMENT_QUEUE)
    pending = Job.objects.filter(
        kind=Job.Kind.SIMILARITY,
        status=Job.Status.COMPLETED,
        result__enrichment__status="pending",
        finished_at__lt=now - timedelta(seconds=window_s),
    ).values_list("id", flat=True)[:200]
    resent = 0
    for job_id in pending:
        if not services.job_enrichment_resend_claim(job_id=str(job_id), window_s=window_s):
            continue
        enrich = _signature(
            "jobs.enrich_job_balances", queue=ENRICHMENT_QUEUE, priority=Priority.LOW, job_id=str(job_id)
        )
        enrich.apply_async()
        resent += 1
    return resent

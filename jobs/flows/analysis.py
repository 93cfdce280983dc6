"""PnL or behaviour of one wallet (docs/ARCHITECTURE.md, "One-wallet flows").

    start (analysis-operations)
      ├─ the wallet needs a sync, or (PnL) fresher balances:
      │     chain(prepare: sync and/or fetch balances (wallet-operations), compute (analysis-operations))
      └─ otherwise: compute (analysis-operations)
    with `history: "full"`, a deepening of the wallet's history to the caps (wallet-operations) comes
    between them and sends the compute itself (jobs.flows.history).

A failed preparation fails the job itself; the chained compute task then finds the run over and does
nothing. A sync that leaves the wallet's history short of its caps queues its background deepening, which
the job does not wait for.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from celery import chain

from analysis.selectors import analysis_balances_stale, analysis_result_summary
from analysis.services import analysis_compute_behavior, analysis_compute_pnl
from jobs import dispatch, progress, services
from jobs.flows import history
from jobs.flows.common import (
    COMPUTED_PROGRESS,
    PARALLEL_PHASE_END,
    WALLET_SYNC_PROGRESS,
    WALLET_SYNCED_PROGRESS,
    job_complete_without_enrichment,
    wallet_sync_with_sol_usd,
)
from jobs.models import Job
from wallets.selectors import wallet_history_work_wanted, wallets_needing_sync
from wallets.services import wallet_fetch_balances, wallet_sync

logger = logging.getLogger(__name__)


def start(*, job_id: str) -> None:
    """Claim the job and send its tasks: preparation on the wallet queue when needed, then the compute."""
    job = services.job_start(job_id=job_id)
    if job is None:
        return
    wallet: str = job.params["wallet"]
    sync = bool(wallets_needing_sync(addresses=[wallet]))
    # Behaviour reads swaps only; PnL also values what the wallet holds now.
    balances = job.kind == Job.Kind.PNL and (sync or analysis_balances_stale(address=wallet))
    full = job.params.get("history") == "full" and (
        sync or wallet_history_work_wanted(address=wallet, recheck_days=True)
    )
    # With the full history asked for, the deepening step sends the compute once the history is deep.
    next_step = (
        history.job_deepen_signature(job, then=dispatch.ANALYSIS_COMPUTE.name)
        if full
        else dispatch.signature(
            dispatch.ANALYSIS_COMPUTE,
            priority=job.priority,
            immutable=True,
            job_id=job_id,
            attempt=job.attempts,
        )
    )
    if not (sync or balances):
        services.job_record_run_tasks(job=job, task_ids=[str(next_step.id)])
        next_step.apply_async()
        return
    prepare = dispatch.signature(
        dispatch.ANALYSIS_PREPARE_WALLET,
        priority=job.priority,
        job_id=job_id,
        attempt=job.attempts,
        sync=sync,
        balances=balances,
    )
    services.job_record_run_tasks(job=job, task_ids=[str(prepare.id), str(next_step.id)])
    chain(prepare, next_step).apply_async()


def prepare_wallet(*, job_id: str, attempt: int, sync: bool, balances: bool) -> None:
    """Sync the wallet and/or fetch its balances. A balance fetch that fails only costs unrealized PnL."""
    services.job_checkpoint(job_id=job_id, attempt=attempt)
    kind, params = Job.objects.values_list("kind", "params").get(id=job_id)
    wallet: str = params["wallet"]
    if sync:
        progress.job_report_progress(
            job_id=job_id, progress=WALLET_SYNC_PROGRESS, stage="syncing", detail={"wallet": wallet}
        )
        checkpoint = partial(services.job_checkpoint, job_id=job_id, attempt=attempt)
        # A PnL needs the SOL/USD history of the trades, fetched here on the I/O queue, not by the compute
        # step.
        outcome = (
            wallet_sync_with_sol_usd(wallet=wallet, checkpoint=checkpoint)
            if kind == Job.Kind.PNL
            else wallet_sync(address=wallet, checkpoint=checkpoint)
        )
        if params.get("history") != "full":  # a job that asked for the full history deepens it itself
            history.after_sync(outcome)
        progress.job_report_progress(
            job_id=job_id,
            progress=WALLET_SYNCED_PROGRESS,
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
    except Exception as exc:  # noqa: BLE001 - the analysis goes on without fresh balances; progress says why
        logger.warning("balances of %s for job %s not fetched: %s", wallet, job_id, exc)
        detail["balances_error"] = f"{type(exc).__name__}: {exc}"
    progress.job_report_progress(job_id=job_id, progress=PARALLEL_PHASE_END, stage="balances", detail=detail)


def compute(*, job_id: str, attempt: int) -> None:
    try:
        services.job_checkpoint(job_id=job_id, attempt=attempt)
    except services.JobNotRunningError:
        logger.info("analysis of job %s (attempt %s) skipped: the run is over", job_id, attempt)
        return
    job = Job.objects.get(id=job_id)
    wallet: str = job.params["wallet"]
    force = bool(job.params.get("force"))
    progress.job_report_progress(
        job_id=job_id, progress=PARALLEL_PHASE_END, stage="computing", detail={"wallet": wallet}
    )
    if job.kind == Job.Kind.PNL:
        result = analysis_compute_pnl(address=wallet, force=force)
    else:
        result = analysis_compute_behavior(address=wallet, force=force)
    # A run replaced meanwhile by the stalled sweep must not complete the job in the new run's place.
    services.job_checkpoint(job_id=job_id, attempt=attempt)
    progress.job_report_progress(
        job_id=job_id,
        progress=COMPUTED_PROGRESS,
        stage=f"{job.kind}_computed",
        detail={"recomputed": result["recomputed"]},
    )
    job_complete_without_enrichment(
        job_id=job_id, result=result, summary=analysis_result_summary(result), kind=job.kind
    )

"""Token holders of a mint (docs/ARCHITECTURE.md §5, "The token holders flow").

    start (similarity-operations): claim the job
      └─ discover (wallet-operations): supply, holders, pools, the creation and the first buyers of the mint
           ├─ token metadata (enrichment-operations), not awaited: the result reads what it stored
           └─ the wallets (creator, first buyers, top holders; up to 401) in batches of HOLDERS_SYNC_BATCH,
              at most HOLDERS_SYNC_BATCHES_IN_FLIGHT batches at a time:
                 chord(header = [sync W for each W of the batch needing it]   (wallet-operations),
                       body   = analyse the batch: behaviour, PnL on the mint (analysis-operations))
              each body first sends the batch HOLDERS_SYNC_BATCHES_IN_FLIGHT places after its own, so this
              job never has more than BATCH x IN_FLIGHT syncs in the wallet queue; the body that ends the
              last batch sends
      finish (similarity-operations): similarity over the synced wallets (funding included), classes,
              clusters, supply shares, risk ─► Job(completed)

Sync tasks never raise into their chord (the body must run): each returns a `WalletStepResult`, and a wallet
that failed is listed in the result, never fatal. The run's plan and the wallets' reports live in Redis per
run (`jobs.progress`, like chord state): a run that loses them stalls and the stalled sweep re-drives it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from celery import chord
from django.conf import settings

from core.task_policy import TRANSIENT_ERRORS, describe
from enrichment.services import enrichment_quotes
from holders.services import (
    holders_analyse_wallets,
    holders_discover,
    holders_result,
    holders_summary,
    holders_wallets,
)
from jobs import dispatch, progress, services
from jobs.flows.common import COMPUTED_PROGRESS, job_complete_without_enrichment
from jobs.flows.similarity import WalletStepResult, failed_wallets, sync_result
from jobs.models import Job
from wallets.selectors import wallets_needing_sync
from wallets.services import wallet_sync

logger = logging.getLogger(__name__)

# Progress: 5 claimed, 10 the mint read, 10-85 each wallet's sync and analysis, 85 comparing, 90 classified.
DISCOVERED_PROGRESS = 10
WALLETS_DONE_PROGRESS = 85


def start(*, job_id: str) -> None:
    job = services.job_start(job_id=job_id)
    if job is None:
        return
    discover_task = dispatch.signature(
        dispatch.HOLDERS_DISCOVER, priority=job.priority, job_id=job_id, attempt=job.attempts
    )
    services.job_record_task_ids(job_id=job_id, task_ids=[str(discover_task.id)])
    discover_task.apply_async()


def discover(*, job_id: str, attempt: int) -> None:
    """Read the mint, plan the wallets' batches, start the metadata and the first batches."""
    services.job_checkpoint(job_id=job_id, attempt=attempt)
    job = Job.objects.get(id=job_id)
    params = job.params
    progress.job_report_progress(
        job_id=job_id, progress=5, stage="reading_holders", detail={"mint": params["mint"]}
    )
    discovery = holders_discover(
        mint=params["mint"],
        top=params["top"],
        early=params["early"],
        checkpoint=lambda: services.job_checkpoint(job_id=job_id, attempt=attempt),
    )
    wallets = holders_wallets(discovery)
    needing = wallets_needing_sync(addresses=wallets)
    size = settings.HOLDERS_SYNC_BATCH
    plan: dict[str, Any] = {
        "discovery": discovery,
        "batches": [wallets[start : start + size] for start in range(0, len(wallets), size)],
        "needing_sync": needing,
        # Every sync and every wallet's analysis is one unit of the parallel phase's progress.
        "total_units": len(needing) + len(wallets),
    }
    progress.job_holders_plan_store(job_id=job_id, attempt=attempt, plan=plan)
    progress.job_report_progress(
        job_id=job_id,
        progress=DISCOVERED_PROGRESS,
        stage="syncing",
        detail={
            "holders": len(discovery["holders"]),
            "early_buyers": len(discovery["early_buyers"]),
            "wallets": len(wallets),
            "needing_sync": len(needing),
            "batches": len(plan["batches"]),
            "capped": discovery["accounts"]["capped"] or not discovery["history"]["reached_first"],
        },
    )
    metadata = dispatch.signature(
        dispatch.HOLDERS_TOKEN_METADATA, priority=job.priority, job_id=job_id, mint=params["mint"]
    )
    services.job_record_task_ids(job_id=job_id, task_ids=[str(metadata.id)])
    metadata.apply_async()
    if not plan["batches"]:
        _send_finish(job_id=job_id, attempt=attempt, priority=job.priority)
        return
    for batch in range(min(settings.HOLDERS_SYNC_BATCHES_IN_FLIGHT, len(plan["batches"]))):
        _send_batch(job_id=job_id, attempt=attempt, priority=job.priority, plan=plan, batch=batch)


def _send_batch(*, job_id: str, attempt: int, priority: int, plan: dict[str, Any], batch: int) -> None:
    needing = set(plan["needing_sync"])
    common: dict[str, Any] = {"job_id": job_id, "attempt": attempt, "total_units": plan["total_units"]}
    header = [
        dispatch.signature(dispatch.HOLDERS_SYNC_WALLET, priority=priority, wallet=wallet, **common)
        for wallet in plan["batches"][batch]
        if wallet in needing
    ]
    body_kwargs: dict[str, Any] = {"job_id": job_id, "attempt": attempt, "batch": batch}
    if not header:
        body_kwargs["header_results"] = []
    body = dispatch.signature(dispatch.HOLDERS_ANALYSE_BATCH, priority=priority, **body_kwargs)
    services.job_record_task_ids(job_id=job_id, task_ids=[str(sig.id) for sig in [*header, body]])
    if header:
        chord(header)(body)
    else:
        body.apply_async()


def _send_finish(*, job_id: str, attempt: int, priority: int) -> None:
    finish_task = dispatch.signature(
        dispatch.HOLDERS_FINISH, priority=priority, job_id=job_id, attempt=attempt
    )
    services.job_record_task_ids(job_id=job_id, task_ids=[str(finish_task.id)])
    finish_task.apply_async()


def _units_done(
    *, job_id: str, attempt: int, total_units: int, count: int, stage: str, detail: dict[str, Any]
) -> None:
    done = progress.job_progress_units_done(
        job_id=job_id, attempt=attempt, total_units=total_units, count=count
    )
    progress.job_report_progress(
        job_id=job_id,
        progress=progress.job_progress_between(
            start=DISCOVERED_PROGRESS, end=WALLETS_DONE_PROGRESS, done=done, total=total_units
        ),
        stage=stage,
        detail={**detail, "done": done, "total": total_units},
    )


def sync_wallet(*, job_id: str, attempt: int, wallet: str, total_units: int) -> WalletStepResult:
    services.job_checkpoint(job_id=job_id, attempt=attempt)
    outcome = wallet_sync(
        address=wallet, checkpoint=lambda: services.job_checkpoint(job_id=job_id, attempt=attempt)
    )
    _units_done(
        job_id=job_id,
        attempt=attempt,
        total_units=total_units,
        count=1,
        stage="syncing",
        detail={"wallet": wallet, "new_swaps": outcome.new_swaps},
    )
    return sync_result(wallet=wallet, new_swaps=outcome.new_swaps)


def sync_wallet_failed(*, job_id: str, attempt: int, wallet: str, total_units: int, error: str) -> None:
    _units_done(
        job_id=job_id,
        attempt=attempt,
        total_units=total_units,
        count=1,
        stage="syncing",
        detail={"wallet": wallet, "error": error},
    )


def analyse_batch(
    *, job_id: str, attempt: int, batch: int, header_results: Sequence[WalletStepResult]
) -> None:
    """Send the batch that takes this one's place in the window, then profile this batch's synced wallets.
    The run's last batch to end sends the finish."""
    try:
        services.job_checkpoint(job_id=job_id, attempt=attempt)
    except services.JobNotRunningError:
        logger.info(
            "holders batch %s of job %s (attempt %s) skipped: the run is over", batch, job_id, attempt
        )
        return
    plan = progress.job_holders_plan(job_id=job_id, attempt=attempt)
    if plan is None:
        raise services.JobNotRunningError(f"the plan of job {job_id} (attempt {attempt}) is gone from Redis")
    job = Job.objects.get(id=job_id)
    batches: list[list[str]] = plan["batches"]
    successor = batch + settings.HOLDERS_SYNC_BATCHES_IN_FLIGHT
    if successor < len(batches) and progress.job_holders_window_claim(
        job_id=job_id, attempt=attempt, batch=batch
    ):
        _send_batch(job_id=job_id, attempt=attempt, priority=job.priority, plan=plan, batch=successor)
    wallets = batches[batch]
    failed = failed_wallets(header_results, "sync")
    synced = [wallet for wallet in wallets if wallet not in failed]
    reports: dict[str, dict[str, Any]] = {
        wallet: {"ok": False, "error": error} for wallet, error in failed.items()
    }
    reports.update(_profiles(mint=job.params["mint"], wallets=synced, amounts=plan["discovery"]["amounts"]))
    progress.job_holders_reports_store(job_id=job_id, attempt=attempt, reports=reports)
    _units_done(
        job_id=job_id,
        attempt=attempt,
        total_units=plan["total_units"],
        count=len(wallets),
        stage="analysing",
        detail={"batch": batch, "wallets": len(wallets), "failed": len(failed)},
    )
    if progress.job_holders_batch_ended(job_id=job_id, attempt=attempt, batch=batch, batches=len(batches)):
        _send_finish(job_id=job_id, attempt=attempt, priority=job.priority)


def _profiles(*, mint: str, wallets: list[str], amounts: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Reports of synced wallets, profiled together; when that fails for good, one by one, so a wallet whose
    analysis fails is reported failed instead of failing the job (transient errors are retried)."""
    if not wallets:
        return {}
    try:
        profiles = holders_analyse_wallets(mint=mint, wallets=wallets, amounts=amounts)
        return {wallet: {"ok": True, **profile} for wallet, profile in profiles.items()}
    except TRANSIENT_ERRORS:
        raise
    except Exception:  # noqa: BLE001 - some wallet's analysis failed for good: find which, keep the others
        logger.warning("holders batch analysis failed; profiling its %s wallets one by one", len(wallets))
    reports: dict[str, dict[str, Any]] = {}
    for wallet in wallets:
        try:
            (profile,) = holders_analyse_wallets(mint=mint, wallets=[wallet], amounts=amounts).values()
            reports[wallet] = {"ok": True, **profile}
        except TRANSIENT_ERRORS:
            raise
        except Exception as exc:  # noqa: BLE001 - listed with the result, not fatal (docs/METHODS.md §6)
            reports[wallet] = {"ok": False, "error": f"analysis: {describe(exc)}"}
    return reports


def token_metadata(*, job_id: str, mint: str) -> None:
    """Name, symbol and price of the mint, stored for the PnL marks and the result (never fails the job)."""
    enrichment_quotes(mints=[mint])


def finish(*, job_id: str, attempt: int) -> None:
    try:
        services.job_checkpoint(job_id=job_id, attempt=attempt)
    except services.JobNotRunningError:
        logger.info("holders finish of job %s (attempt %s) skipped: the run is over", job_id, attempt)
        return
    plan = progress.job_holders_plan(job_id=job_id, attempt=attempt)
    if plan is None:
        raise services.JobNotRunningError(f"the plan of job {job_id} (attempt {attempt}) is gone from Redis")
    reports = progress.job_holders_reports(job_id=job_id, attempt=attempt)
    failed = {
        wallet: str(report.get("error") or "") for wallet, report in reports.items() if not report["ok"]
    }
    progress.job_report_progress(
        job_id=job_id, progress=WALLETS_DONE_PROGRESS, stage="comparing", detail={"wallets": len(reports)}
    )
    result = holders_result(discovery=plan["discovery"], reports=reports, failed=failed)
    services.job_checkpoint(job_id=job_id, attempt=attempt)
    progress.job_report_progress(
        job_id=job_id,
        progress=COMPUTED_PROGRESS,
        stage="classified",
        detail={"risk": result["risk"]["level"]},
    )
    job_complete_without_enrichment(
        job_id=job_id, result=result, summary=holders_summary(result), kind=Job.Kind.TOKEN_HOLDERS
    )

"""Composition of job flows (SPEC §4): the one place where chains and chords are built.

The similarity flow:
    start (similarity-operations)
      └─ chord(header = [sync W for each W needing sync] + [fetch balances of all W] (wallet-operations),
               body   = finish: similarity on the synced wallets                   (similarity-operations))
    the balances task fires enrichment (enrichment-operations), which the job does not wait for.

Header tasks never raise into the chord: each returns `{kind, wallet, ok, error}`, so the body always runs
and decides with the wallets that succeeded (SPEC §4, §8).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import chord
from celery.canvas import Signature

from config.celery import app as celery_app
from config.queues import ENRICHMENT_QUEUE, SIMILARITY_QUEUE, WALLET_QUEUE, Priority, transport_priority
from jobs import services
from jobs.models import Job

logger = logging.getLogger(__name__)

START_TASKS = {Job.Kind.SIMILARITY: "jobs.similarity_flow"}

SYNC_PROGRESS_START = 5
SYNC_PROGRESS_END = 60
COMPUTED_PROGRESS = 90
MIN_WALLETS_FOR_SIMILARITY = 2


def _signature(name: str, *, queue: str, priority: int, **kwargs: Any) -> Signature:
    return celery_app.signature(name, kwargs=kwargs, queue=queue, priority=transport_priority(priority))


def job_enqueue(job: Job) -> None:
    """Send the job's start task under the task id recorded in the ledger."""
    start = _signature(
        START_TASKS[Job.Kind(job.kind)], queue=job.queue, priority=job.priority, job_id=str(job.id)
    )
    start.apply_async(task_id=job.celery_task_ids[0])


def similarity_flow_start(*, job_id: str) -> None:
    from wallets.selectors import wallets_needing_sync

    job = services.job_start(job_id=job_id)
    if job is None:
        return
    wallets: list[str] = job.params["wallets"]
    needing = wallets_needing_sync(addresses=wallets)
    # Every sync plus the balances fetch is one unit of the 5-60 progress range; fresh wallets count as done.
    total_units = len(wallets) + 1
    services.job_report_progress(
        job_id=job_id,
        progress=services.job_progress_between(
            start=SYNC_PROGRESS_START,
            end=SYNC_PROGRESS_END,
            done=len(wallets) - len(needing),
            total=total_units,
        ),
        stage="syncing",
        detail={"wallets": len(wallets), "needing_sync": len(needing)},
    )
    header = [
        _signature(
            "jobs.similarity_sync_wallet",
            queue=WALLET_QUEUE,
            priority=job.priority,
            job_id=job_id,
            wallet=wallet,
            total_units=total_units,
            done_already=len(wallets) - len(needing),
        )
        for wallet in needing
    ]
    header.append(
        _signature(
            "jobs.similarity_fetch_balances",
            queue=WALLET_QUEUE,
            priority=job.priority,
            job_id=job_id,
            total_units=total_units,
            done_already=len(wallets) - len(needing),
        )
    )
    body = _signature("jobs.similarity_finish", queue=SIMILARITY_QUEUE, priority=job.priority, job_id=job_id)
    chord(header)(body)


def _unit_done(
    *, job_id: str, stage: str, total_units: int, done_already: int, detail: dict[str, Any]
) -> None:
    done = services.job_progress_units_done(job_id=job_id, total_units=total_units, done_already=done_already)
    services.job_report_progress(
        job_id=job_id,
        progress=services.job_progress_between(
            start=SYNC_PROGRESS_START, end=SYNC_PROGRESS_END, done=done, total=total_units
        ),
        stage=stage,
        detail={**detail, "done": done, "total": total_units},
    )


def similarity_flow_sync_wallet(
    *, job_id: str, wallet: str, total_units: int, done_already: int
) -> dict[str, Any]:
    from wallets.services import wallet_sync

    outcome = wallet_sync(address=wallet, checkpoint=lambda: services.job_checkpoint(job_id=job_id))
    _unit_done(
        job_id=job_id,
        stage="syncing",
        total_units=total_units,
        done_already=done_already,
        detail={"wallet": wallet, "new_swaps": outcome.new_swaps},
    )
    return {"kind": "sync", "wallet": wallet, "ok": True, "error": None, "new_swaps": outcome.new_swaps}


def similarity_flow_sync_failed(
    *, job_id: str, wallet: str, total_units: int, done_already: int, error: str
) -> None:
    _unit_done(
        job_id=job_id,
        stage="syncing",
        total_units=total_units,
        done_already=done_already,
        detail={"wallet": wallet, "error": error},
    )


def similarity_flow_fetch_balances(*, job_id: str, total_units: int, done_already: int) -> dict[str, Any]:
    """Fetch every wallet's balances; a wallet that fails is reported, the others still count."""
    from wallets.services import wallet_fetch_balances

    job = Job.objects.get(id=job_id)
    fetched: list[str] = []
    failed: dict[str, str] = {}
    for wallet in job.params["wallets"]:
        services.job_checkpoint(job_id=job_id)
        try:
            wallet_fetch_balances(address=wallet)
            fetched.append(wallet)
        except services.JobNotRunningError:
            raise
        except Exception as exc:
            failed[wallet] = f"{type(exc).__name__}: {exc}"
    _unit_done(
        job_id=job_id,
        stage="balances",
        total_units=total_units,
        done_already=done_already,
        detail={"balances_fetched": len(fetched), "balances_failed": len(failed)},
    )
    if fetched:
        enrich = _signature(
            "jobs.enrich_job_balances", queue=ENRICHMENT_QUEUE, priority=Priority.LOW, job_id=job_id
        )
        enrich.apply_async()
    return {
        "kind": "balances",
        "wallet": None,
        "ok": bool(fetched),
        "error": None,
        "fetched": fetched,
        "failed": failed,
    }


def similarity_flow_finish(*, job_id: str, header_results: list[dict[str, Any]]) -> None:
    from similarity.services import similarity_analyze

    job = Job.objects.get(id=job_id)
    if job.status != Job.Status.RUNNING:
        return
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
    balances = [wallet_latest_balances(address=wallet) for wallet in job.params["wallets"]]
    enriched = enrichment_enrich_balances(job_id=job_id, balances=[b for b in balances if b is not None])
    services.job_attach_enrichment(job_id=job_id, enrichment=enriched)


def job_enrichment_failed(*, job_id: str, reason: str) -> None:
    services.job_attach_enrichment(
        job_id=job_id, enrichment={"status": "failed", "reason": reason, "balances": []}
    )

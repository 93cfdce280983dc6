"""Sync of one wallet (docs/ARCHITECTURE.md, "One-wallet flows").

    start (wallet-operations) ─► run: sync the wallet, then fetch its balances (wallet-operations)
    with `history: "full"`: run ─► deepen the wallet's history to the caps ─► finish (wallet-operations)

The start task only claims the job; the work runs in a second task, which may retry (a claim may not).
Without `history: "full"`, a sync that leaves the history short of its caps queues its background
deepening, which the job does not wait for.
"""

from __future__ import annotations

import logging
from typing import Any

from jobs import dispatch, progress, services
from jobs.flows import history
from jobs.flows.common import (
    PARALLEL_PHASE_END,
    WALLET_SYNC_PROGRESS,
    job_complete_without_enrichment,
    wallet_sync_with_sol_usd,
)
from jobs.models import Job
from wallets.selectors import wallet_history, wallet_sync_state
from wallets.services import wallet_fetch_balances

logger = logging.getLogger(__name__)


def start(*, job_id: str) -> None:
    job = services.job_start(job_id=job_id)
    if job is None:
        return
    run_task = dispatch.signature(
        dispatch.WALLET_SYNC_RUN, priority=job.priority, job_id=job_id, attempt=job.attempts
    )
    services.job_record_run_tasks(job=job, task_ids=[str(run_task.id)])
    run_task.apply_async()


def run(*, job_id: str, attempt: int) -> None:
    """Sync one wallet (incrementally; with force even when synced within WALLET_SYNC_FRESHNESS) and fetch
    its balances. A failed balance fetch is reported in the result; the sync it follows stands.
    """
    services.job_checkpoint(job_id=job_id, attempt=attempt)
    params = Job.objects.values_list("params", flat=True).get(id=job_id)
    wallet: str = params["wallet"]
    full = params.get("history") == "full"
    progress.job_report_progress(
        job_id=job_id, progress=WALLET_SYNC_PROGRESS, stage="syncing", detail={"wallet": wallet}
    )
    # With the SOL/USD history of the wallet's trades, so the PnL and similarity computations that follow
    # (prefork queues) find it stored.
    outcome = wallet_sync_with_sol_usd(
        wallet=wallet,
        force=bool(params.get("force")),
        checkpoint=lambda: services.job_checkpoint(job_id=job_id, attempt=attempt),
    )
    if not full:
        history.after_sync(outcome)
    progress.job_report_progress(
        job_id=job_id,
        progress=PARALLEL_PHASE_END,
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
    except Exception as exc:  # noqa: BLE001 - the sync stands; the result reports why balances are missing
        logger.warning("balances of %s for job %s not fetched: %s", wallet, job_id, exc)
        balances = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    synced = {
        "skipped_fresh": outcome.skipped_fresh,
        "new_transactions": outcome.new_transactions,
        "new_swaps": outcome.new_swaps,
        "fetched_transactions": outcome.fetched_transactions,
        "balances": balances,
    }
    if not full:
        finish(job_id=job_id, attempt=attempt, synced=synced)
        return
    job = Job.objects.only("id", "priority", "attempts").get(id=job_id)
    deepen = history.job_deepen_signature(
        job, then=dispatch.WALLET_SYNC_FINISH.name, then_kwargs={"synced": synced}
    )
    services.job_record_task_ids(job_id=job_id, task_ids=[str(deepen.id)])
    deepen.apply_async()


def finish(*, job_id: str, attempt: int, synced: dict[str, Any]) -> None:
    """Complete the job with what the sync did (`synced`) and what is stored of the wallet now."""
    services.job_checkpoint(job_id=job_id, attempt=attempt)
    wallet: str = Job.objects.values_list("params", flat=True).get(id=job_id)["wallet"]
    state = wallet_sync_state(address=wallet)
    last_synced_at = state.last_synced_at if state is not None else None
    result = {
        "wallet": wallet,
        **{
            key: synced[key]
            for key in ("skipped_fresh", "new_transactions", "new_swaps", "fetched_transactions")
        },
        "transactions_seen": state.transactions_seen if state is not None else 0,
        "swaps_unparsed": state.swaps_unparsed if state is not None else 0,
        "newest_signature": (state.newest_signature or None) if state is not None else None,
        "last_synced_at": last_synced_at.isoformat() if last_synced_at else None,
        "history": wallet_history(address=wallet).to_dict(),
        "balances": synced["balances"],
    }
    # A run replaced meanwhile by the stalled sweep must not complete the job in the new run's place.
    services.job_checkpoint(job_id=job_id, attempt=attempt)
    summary = {
        key: result[key] for key in ("wallet", "new_swaps", "newest_signature", "last_synced_at", "history")
    }
    job_complete_without_enrichment(job_id=job_id, result=result, summary=summary, kind=Job.Kind.WALLET_SYNC)

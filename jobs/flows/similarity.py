"""The similarity flow (docs/ARCHITECTURE.md, "The similarity flow").

    start (similarity-operations)
      └─ chord(header = [sync W for each W needing sync]
                        + [balances of W for each W not fetched within 30 s]      (wallet-operations),
               body   = finish: similarity over the wallets that synced           (similarity-operations))
    the last balances task to end (or the start, when every wallet's balances are cached) starts the
    enrichment of the job's balances (enrichment-operations), which the job does not wait for. When nothing
    needs fetching at all, the start runs the body itself: no chord.

Header tasks never raise into the chord (Celery would skip the body): each returns a `WalletStepResult`, so
the body always runs and decides with the wallets that succeeded.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict

from celery import chord

from jobs import dispatch, progress, services
from jobs.flows import history
from jobs.flows.common import (
    COMPUTED_PROGRESS,
    PARALLEL_PHASE_END,
    STARTED_PROGRESS,
    wallet_sync_with_sol_usd,
)
from jobs.models import Job
from similarity.services import NotEnoughWalletsError, similarity_analyze, similarity_wallets_comparable
from wallets.selectors import WalletHistory, wallets_reusable_balances, wallets_sync_needs
from wallets.services import wallet_fetch_balances

logger = logging.getLogger(__name__)


class WalletStepResult(TypedDict):
    """What a chord header task returns for one wallet, and the body reads (JSON between processes)."""

    kind: Literal["sync", "balances"]
    wallet: str
    ok: bool
    error: str | None
    new_swaps: NotRequired[int]


def sync_result(*, wallet: str, error: str | None = None, new_swaps: int = 0) -> WalletStepResult:
    if error is not None:
        return {"kind": "sync", "wallet": wallet, "ok": False, "error": error}
    return {"kind": "sync", "wallet": wallet, "ok": True, "error": None, "new_swaps": new_swaps}


def balances_result(*, wallet: str, error: str | None = None) -> WalletStepResult:
    return {"kind": "balances", "wallet": wallet, "ok": error is None, "error": error}


def failed_wallets(results: Sequence[WalletStepResult], kind: Literal["sync", "balances"]) -> dict[str, str]:
    """{wallet: error} of the header's failed steps of one kind."""
    return {r["wallet"]: r["error"] or "" for r in results if r["kind"] == kind and not r["ok"]}


def start(*, job_id: str) -> None:
    job = services.job_start(job_id=job_id)
    if job is None:
        return
    wallets: list[str] = job.params["wallets"]
    sync_needs = wallets_sync_needs(addresses=wallets)
    needing = sync_needs.needing_sync
    # Balances fetched within BALANCE_CACHE_TTL_S are what a fetch now would store: they are read from the
    # cache, like swaps synced within WALLET_SYNC_FRESHNESS, instead of asked again.
    cached_balances = wallets_reusable_balances(addresses=wallets)
    stale_balances = [wallet for wallet in wallets if wallet not in cached_balances]
    if not (needing or stale_balances):
        # Nothing to fetch: no parallel phase (its progress range is skipped), the body runs here on what
        # was just read, and enrichment starts from the cache.
        finish(
            job_id=job_id,
            attempt=job.attempts,
            header_results=[],
            inline=Inline(job=job, histories=sync_needs.histories, balances=cached_balances),
        )
        _start_enrichment(job_id=job_id)
        return
    # Every sync and every balances fetch is one unit of the parallel phase's progress range.
    total_units = len(needing) + len(stale_balances)
    progress.job_report_progress(
        job_id=job_id,
        progress=STARTED_PROGRESS,
        stage="syncing",
        detail={
            "wallets": len(wallets),
            "needing_sync": len(needing),
            "balances_cached": len(wallets) - len(stale_balances),
        },
    )
    common: dict[str, Any] = {"job_id": job_id, "attempt": job.attempts, "total_units": total_units}
    header = [
        dispatch.signature(dispatch.SIMILARITY_SYNC_WALLET, priority=job.priority, wallet=wallet, **common)
        for wallet in needing
    ]
    # One balances task per wallet, so the balances branch takes as long as its slowest wallet, not the sum
    # of all of them (measured: 10 wallets at 250 ms per call took 5.1 s in one task, longer than any sync).
    header += [
        dispatch.signature(
            dispatch.SIMILARITY_FETCH_BALANCES,
            priority=job.priority,
            wallet=wallet,
            wallet_count=len(stale_balances),
            **common,
        )
        for wallet in stale_balances
    ]
    body = dispatch.signature(
        dispatch.SIMILARITY_FINISH, priority=job.priority, job_id=job_id, attempt=job.attempts
    )
    services.job_record_run_tasks(job=job, task_ids=[str(sig.id) for sig in [*header, body]])
    chord(header)(body)
    if not stale_balances:
        # Every wallet's balances are cached: no balances task will be the last one to start enrichment.
        _start_enrichment(job_id=job_id)


def _start_enrichment(*, job_id: str) -> None:
    """Enrich the job's balances, not awaited: the job completes without it (docs/ARCHITECTURE.md)."""
    dispatch.signature(
        dispatch.ENRICH_JOB_BALANCES, priority=dispatch.ENRICHMENT_PRIORITY, job_id=job_id
    ).apply_async()


def _unit_done(*, job_id: str, attempt: int, stage: str, total_units: int, detail: dict[str, Any]) -> None:
    done = progress.job_progress_units_done(job_id=job_id, attempt=attempt, total_units=total_units)
    progress.job_report_progress(
        job_id=job_id,
        progress=progress.job_progress_between(
            start=STARTED_PROGRESS, end=PARALLEL_PHASE_END, done=done, total=total_units
        ),
        stage=stage,
        detail={**detail, "done": done, "total": total_units},
    )


def sync_wallet(*, job_id: str, attempt: int, wallet: str, total_units: int) -> WalletStepResult:
    services.job_checkpoint(job_id=job_id, attempt=attempt)
    outcome = wallet_sync_with_sol_usd(
        wallet=wallet, checkpoint=lambda: services.job_checkpoint(job_id=job_id, attempt=attempt)
    )
    history.after_sync(outcome)
    _unit_done(
        job_id=job_id,
        attempt=attempt,
        stage="syncing",
        total_units=total_units,
        detail={"wallet": wallet, "new_swaps": outcome.new_swaps},
    )
    return sync_result(wallet=wallet, new_swaps=outcome.new_swaps)


def sync_wallet_failed(*, job_id: str, attempt: int, wallet: str, total_units: int, error: str) -> None:
    _unit_done(
        job_id=job_id,
        attempt=attempt,
        stage="syncing",
        total_units=total_units,
        detail={"wallet": wallet, "error": error},
    )


def fetch_balances(
    *, job_id: str, attempt: int, wallet: str, total_units: int, wallet_count: int
) -> WalletStepResult:
    """Fetch one wallet's balances (cached 30 s in Redis for the body, kept in the database)."""
    services.job_checkpoint(job_id=job_id, attempt=attempt)
    wallet_fetch_balances(address=wallet)
    balances_ended(
        job_id=job_id,
        attempt=attempt,
        wallet=wallet,
        total_units=total_units,
        wallet_count=wallet_count,
        error=None,
    )
    return balances_result(wallet=wallet)


def balances_ended(
    *, job_id: str, attempt: int, wallet: str, total_units: int, wallet_count: int, error: str | None
) -> None:
    """Count a wallet's balances branch as ended; the last one to end starts enrichment, not awaited.

    The enrichment task is not recorded for revocation: it checks the job itself and does nothing for a
    cancelled or failed one."""
    _unit_done(
        job_id=job_id,
        attempt=attempt,
        stage="balances",
        total_units=total_units,
        detail={"wallet": wallet, **({"error": error} if error else {})},
    )
    if progress.job_balances_all_ended(job_id=job_id, attempt=attempt, wallet_count=wallet_count):
        _start_enrichment(job_id=job_id)


@dataclass(frozen=True, slots=True)
class Inline:
    """What the start task read when it runs the body itself (nothing to fetch), which the body does not
    read again: the job as its claim returned it (the claim is the checkpoint), the wallets' stored
    histories and their cached balances."""

    job: Job
    histories: dict[str, WalletHistory]
    balances: dict[str, dict[str, Any]]


def finish(
    *, job_id: str, attempt: int, header_results: Sequence[WalletStepResult], inline: Inline | None = None
) -> None:
    """The body: compare the synced wallets and complete the job (inside the start task with `inline`)."""
    job = inline.job if inline is not None else None
    if job is None:
        try:
            services.job_checkpoint(job_id=job_id, attempt=attempt)
        except services.JobNotRunningError:
            logger.info("similarity body of job %s (attempt %s) skipped: the run is over", job_id, attempt)
            return
        job = Job.objects.get(id=job_id)
    wallets: list[str] = job.params["wallets"]
    failed = failed_wallets(header_results, "sync")
    try:
        synced = similarity_wallets_comparable(wallets=wallets, failed=failed)
    except NotEnoughWalletsError as exc:
        services.job_fail(
            job_id=job_id,
            error_type=exc.error_type,
            message=exc.message,
            dead_letter={
                "task_name": dispatch.SIMILARITY_FINISH.name,
                "queue": dispatch.SIMILARITY_FINISH.queue,
                "kwargs": {"job_id": job_id, "attempt": attempt},
                "attempts": attempt,
            },
        )
        return
    result = similarity_analyze(
        wallets=synced,
        failed_wallets=[{"wallet": wallet, "error": error} for wallet, error in failed.items()],
        options=job.params.get("options") or {},
        fetch_sol_usd=False,
        histories=inline.histories if inline is not None else None,
        balances=inline.balances if inline is not None else None,
    )
    result["balances_failed"] = failed_wallets(header_results, "balances")
    if inline is None:
        # Inside the start task the job completes a moment after its claim: a report between them would
        # only cost a ledger write and an event.
        progress.job_report_progress(
            job_id=job_id, progress=COMPUTED_PROGRESS, stage="similarity_computed", detail={}
        )
    summary = {
        "wallets": len(synced),
        "failed_wallets": len(failed),
        "clusters": len(result.get("clusters", [])),
        "top_pair": (result.get("pairs") or [None])[0],
    }
    services.job_complete(job_id=job_id, result=result, summary=summary)

"""What several flows share: their progress milestones, a wallet's sync with the SOL/USD history its PnL
needs, and how a job with no enrichment phase completes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import connections

from analysis.services import analysis_prefetch_sol_usd, analysis_prefetch_sol_usd_days
from jobs import services
from jobs.services import STARTED_PROGRESS
from wallets.services import WalletSyncOutcome, wallet_sync

__all__ = ["STARTED_PROGRESS", "job_complete_without_enrichment", "wallet_sync_with_sol_usd"]

logger = logging.getLogger(__name__)

# Progress milestones (docs/ARCHITECTURE.md, "Progress"): 5 claimed (STARTED_PROGRESS), 5-60 the parallel
# phase (syncs and balances), 60 inputs ready, 90 computed, 100 completed.
PARALLEL_PHASE_END = 60
COMPUTED_PROGRESS = 90
# One-wallet flows: syncing starts at 10 and ends at 50.
WALLET_SYNC_PROGRESS = 10
WALLET_SYNCED_PROGRESS = 50


def job_complete_without_enrichment(
    *, job_id: str, result: dict[str, Any], summary: dict[str, Any], kind: str
) -> None:
    """Complete a job that has no enrichment phase: its result says so instead of staying pending forever."""
    services.job_complete(
        job_id=job_id,
        result=result,
        summary=summary,
        enrichment={**services.NO_ENRICHMENT, "reason": f"a {kind} job starts no enrichment"},
    )


def wallet_sync_with_sol_usd(
    *, wallet: str, checkpoint: Callable[[], None], force: bool = False
) -> WalletSyncOutcome:
    """Sync the wallet and store the SOL/USD history its USD figures need, here on the I/O queue, so the
    computations that follow (prefork queues, which must not wait on the network) find it stored.

    The SOL/USD of the days the listed transactions fall on is fetched in a second thread while the sync
    fetches the transactions themselves (it needs only their block times): on a sync's critical path it
    used to follow the sync, one upstream call per day. What the stored swaps want beyond those days (an
    earlier stretch's) is fetched after the sync, usually nothing."""
    background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sol-usd-prefetch")
    started: list[Future[int]] = []
    try:
        outcome = wallet_sync(
            address=wallet,
            force=force,
            checkpoint=checkpoint,
            on_listed=lambda timestamps: started.append(background.submit(_prefetch_days, timestamps)),
        )
    except BaseException:  # cancellation too: the job does not wait for the prices of a sync it dropped
        background.shutdown(wait=False, cancel_futures=True)
        raise
    for future in started:
        future.result()
    background.shutdown(wait=True)
    analysis_prefetch_sol_usd(address=wallet)
    return outcome


def _prefetch_days(timestamps: Sequence[int]) -> int:
    """In the prefetch thread: never raises (the fetch after the sync tries again), and closes the thread's
    own database connection, which nothing else would."""
    try:
        return analysis_prefetch_sol_usd_days(timestamps=timestamps)
    except Exception:  # the fetch after the sync asks again: the sync must not fail for this one
        logger.warning("SOL/USD prefetch of a sync's days failed; retried after the sync", exc_info=True)
        return 0
    finally:
        connections.close_all()

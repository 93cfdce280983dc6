"""History depth in the job flows (docs/ARCHITECTURE.md, "History depth").

    in the background: jobs.wallet_history_deepen (wallet-operations, LOW), one page of signatures a task,
        sent again while work is left; queued by a flow whose sync left the wallet's stored history short of
        its caps (or over its cap in rows), at most one at a time per wallet (`wallet:history-queued:{W}`),
        and by the stalled sweep for any wallet that still wants it. Nothing waits for it.
    for a job that asked for it (`history: "full"`): jobs.job_history_deepen (wallet-operations, the job's
        priority), pages until the caps, a minute's worth per task, then the job's next step.

What stops a deepening: the wallet's first transaction, WALLET_HISTORY_MAX_SIGNATURES, WALLET_HISTORY_MAX_DAYS
(read again at every page, so lowering them stops it at the next page). A job's deepening also stops at the
checkpoint before each page when the job is cancelled. The background one belongs to no job: cancelling the
job whose sync queued it does not stop it (other jobs read the same wallet); the caps do.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError

from core.redis import get_redis, wallet_history_queued_key
from jobs import dispatch, progress, services
from jobs.flows.common import COMPUTED_PROGRESS, PARALLEL_PHASE_END
from jobs.models import Job
from wallets.services import HistoryDeepenOutcome, WalletSyncOutcome, wallet_history_deepen

logger = logging.getLogger(__name__)

# A queued background deepening is forgotten after this long (a lost message): the sweep queues it again.
BACKGROUND_QUEUED_TTL_S = 600
# A job's deepening hands over to a fresh task after this long, well inside the wallet queue's time limits.
JOB_SLICE_S = 60.0
# A job's deepening reports its progress between these milestones (before the computation's).
DEEPENING_PROGRESS_END = COMPUTED_PROGRESS - 5


def queue_background_deepening(*, wallet: str) -> bool:
    """Queue the wallet's background deepening unless one is queued or running already; False when not
    queued now. A failure to queue is logged, not raised: the sync it follows stands, the sweep retries."""
    try:
        if not get_redis().set(wallet_history_queued_key(wallet), "1", nx=True, ex=BACKGROUND_QUEUED_TTL_S):
            return False
        _send_background(wallet)
    except Exception as exc:  # noqa: BLE001 - a bonus after the sync; the stalled sweep queues it again
        logger.warning("background deepening of %s not queued: %s: %s", wallet, type(exc).__name__, exc)
        return False
    return True


def after_sync(outcome: WalletSyncOutcome) -> None:
    """What a flow does after syncing a wallet for a job that did not ask for its full history."""
    if outcome.history_work_wanted:
        queue_background_deepening(wallet=outcome.address)


def _send_background(wallet: str) -> None:
    dispatch.signature(
        dispatch.WALLET_HISTORY_DEEPEN, priority=dispatch.HISTORY_PRIORITY, wallet=wallet
    ).apply_async()


def background_slice(*, wallet: str) -> None:
    """One page of the wallet's background deepening; queues the next while work is left."""
    outcome = wallet_history_deepen(address=wallet, max_pages=1)
    key = wallet_history_queued_key(wallet)
    if not outcome.more:
        get_redis().delete(key)
        return
    get_redis().set(key, "1", ex=BACKGROUND_QUEUED_TTL_S)
    _send_background(wallet)


def background_ended(*, wallet: str) -> None:
    """The background deepening gave up (its error is on the wallet and in the dead letters): forget it, so
    a later sync or the sweep queues it again."""
    try:
        get_redis().delete(wallet_history_queued_key(wallet))
    except RedisError:
        logger.warning("could not clear the queued deepening of %s; it expires by itself", wallet)


def job_deepen(*, job_id: str, attempt: int, then: str, then_kwargs: dict[str, Any]) -> None:
    """Deepen the job's wallet to the caps, then send the job's next step (`then`, with `then_kwargs`)."""
    services.job_checkpoint(job_id=job_id, attempt=attempt)
    job = Job.objects.only("params", "priority").get(id=job_id)
    wallet: str = job.params["wallet"]
    started = time.monotonic()
    recheck_days = True  # a wallet limited by days is probed once: the caps may have changed since
    # Counts as the wallet's queued deepening, so the sweep does not queue a background one beside it.
    queued = wallet_history_queued_key(wallet)
    get_redis().set(queued, f"job:{job_id}", ex=BACKGROUND_QUEUED_TTL_S)
    while True:
        try:
            outcome = wallet_history_deepen(
                address=wallet,
                checkpoint=lambda: services.job_checkpoint(job_id=job_id, attempt=attempt),
                max_pages=1,
                recheck_days=recheck_days,
            )
        except services.JobNotRunningError:
            get_redis().delete(queued)  # cancelled: what is left is the background deepening's again
            raise
        recheck_days = False
        _report(job_id=job_id, outcome=outcome)
        if not outcome.more:
            get_redis().delete(queued)
            break
        if time.monotonic() - started >= JOB_SLICE_S:
            again = dispatch.signature(
                dispatch.JOB_HISTORY_DEEPEN,
                priority=job.priority,
                job_id=job_id,
                attempt=attempt,
                then=then,
                then_kwargs=then_kwargs,
            )
            services.job_record_task_ids(job_id=job_id, task_ids=[str(again.id)])
            again.apply_async()
            return
    services.job_checkpoint(job_id=job_id, attempt=attempt)
    step = dispatch.signature(
        dispatch.HISTORY_NEXT_STEPS[then],
        priority=job.priority,
        job_id=job_id,
        attempt=attempt,
        **then_kwargs,
    )
    services.job_record_task_ids(job_id=job_id, task_ids=[str(step.id)])
    step.apply_async()


def job_deepen_signature(job: Job, *, then: str, then_kwargs: dict[str, Any] | None = None) -> Any:
    """The signature of a job's deepening step; immutable, so a chain does not pass it a result."""
    return dispatch.signature(
        dispatch.JOB_HISTORY_DEEPEN,
        priority=job.priority,
        immutable=True,
        job_id=str(job.id),
        attempt=job.attempts,
        then=then,
        then_kwargs=then_kwargs or {},
    )


def _report(*, job_id: str, outcome: HistoryDeepenOutcome) -> None:
    history = outcome.history
    share = min(1.0, history.signatures / max(1, settings.WALLET_HISTORY_MAX_SIGNATURES))
    progress.job_report_progress(
        job_id=job_id,
        progress=PARALLEL_PHASE_END + int((DEEPENING_PROGRESS_END - PARALLEL_PHASE_END) * share),
        stage="deepening",
        detail={"wallet": outcome.address, **history.to_dict()},
    )

"""Bulk analysis: a parent job with children (docs/ARCHITECTURE.md, "Bulk analysis").

    start (analysis-operations): claim the parent, create one child job per wallet per type (PnL,
    behaviour) and one similarity child over the set, enqueue them (each runs its own flow).

Each child, when it ends (completed, failed or cancelled), settles its parent after its own commit
(`services.job_parent_settle`): the parent's row lock makes exactly one settle complete it, with counts per
type and status. A waiting parent has no task of its own, so the stalled sweep never re-drives a parent that
has children: it settles it instead, repairing a settle lost to a crash.
"""

from __future__ import annotations

from jobs import services


def start(*, job_id: str) -> None:
    """Claim a bulk parent and fan out its children; the children's ends settle it.

    The fan-out acts only on a running parent and creates only missing children, so a retry of this task
    (whose claim finds the parent running already) still fans out when the first attempt failed before it.
    """
    services.job_start(job_id=job_id)
    services.bulk_analysis_create_children(parent_id=job_id)

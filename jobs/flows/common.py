"""What several flows share: their progress milestones and how a job with no enrichment phase completes."""

from __future__ import annotations

from typing import Any

from jobs import services
from jobs.services import STARTED_PROGRESS

__all__ = ["STARTED_PROGRESS", "job_complete_without_enrichment"]

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

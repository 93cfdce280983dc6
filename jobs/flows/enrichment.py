"""Enrichment of a job's balances: prices and metadata, merged into the job's result when ready and pushed as
`enrichment-completed` (docs/ARCHITECTURE.md, "Enrichment"). The job never waits for it: its failure is
reported in the result, never fails the job."""

from __future__ import annotations

from enrichment.services import enrichment_enrich_balances
from jobs import services
from jobs.models import Job
from wallets.selectors import wallet_latest_balances


def enrich_balances(*, job_id: str) -> None:
    # Not the result: it can be the whole similarity output, and only the key this task sets is written.
    row = Job.objects.filter(id=job_id).values_list("status", "params").first()
    # Gone (cleaned up) or ended without a result: there is nothing to enrich.
    if row is None:
        return
    status, params = row
    if status in (Job.Status.CANCELLED, Job.Status.FAILED):
        return
    balances = [wallet_latest_balances(address=wallet) for wallet in params["wallets"]]
    enriched = enrichment_enrich_balances(job_id=job_id, balances=[b for b in balances if b is not None])
    services.job_attach_enrichment(job_id=job_id, enrichment=enriched)


def enrichment_failed(*, job_id: str, reason: str) -> None:
    services.job_attach_enrichment(
        job_id=job_id, enrichment={"status": "failed", "reason": reason, "balances": []}
    )

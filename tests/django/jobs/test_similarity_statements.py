"""What a similarity job of wallets already synced, priced and analysed costs the database: one statement
per step (docs/ARCHITECTURE.md §14). A field read that the queries did not load would add a statement per
wallet here, as would a step that reads what an earlier one already read."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analysis.services import analysis_prefetch_sol_usd
from jobs.flows import similarity
from jobs.models import Job
from jobs.services import job_submit_similarity
from wallets.selectors import wallets_reusable_balances, wallets_sync_needs
from wallets.services import wallet_fetch_balances, wallet_sync
from wallets.simulated_market import SimulatedMarket

pytestmark = pytest.mark.django_db


def test_a_job_of_cached_wallets_is_six_statements_and_completes(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    enrichments: list[str] = []
    monkeypatch.setattr(similarity, "_start_enrichment", lambda *, job_id: enrichments.append(job_id))
    owner = get_user_model().objects.create_user(username="statements")
    wallets = SimulatedMarket(seed=0).sample_wallets(2)
    for wallet in wallets:
        wallet_sync(address=wallet)
        analysis_prefetch_sol_usd(address=wallet)
        # The balances' Redis copy is written after the commit; without it the job would fetch them again.
        with django_capture_on_commit_callbacks(execute=True):
            wallet_fetch_balances(address=wallet)
    assert not wallets_sync_needs(addresses=wallets).needing_sync
    assert set(wallets_reusable_balances(addresses=wallets)) == set(wallets)

    def run_job(window_s: int) -> tuple[Job, list[dict[str, Any]]]:
        job = job_submit_similarity(owner=owner, wallets=wallets, options={"co_trade_window_s": window_s}).job
        with CaptureQueriesContext(connection) as queries:
            similarity.start(job_id=str(job.id))
        job.refresh_from_db()
        return job, queries.captured_queries

    first, _ = run_job(60)  # computes and stores both wallets' PnL and behaviour
    job, statements = run_job(61)

    assert first.status == job.status == Job.Status.COMPLETED
    assert job.result is not None and first.result is not None
    summaries = job.result["wallet_summaries"]
    assert summaries == first.result["wallet_summaries"] and set(summaries) == set(wallets)
    assert all(summary["pnl"] and summary["behavior"] for summary in summaries.values())
    tables = [
        next(word.strip('"').split('"')[0] for word in query["sql"].split() if word.startswith('"'))
        for query in statements
    ]
    # Claim; wallets; funding; legs; stored runs with their headlines; completion.
    assert tables == [
        "jobs_job",
        "wallets_wallet",
        "wallets_nativetransfer",
        "wallets_swap",
        "analysis_analysisrun",
        "jobs_job",
    ], [query["sql"][:120] for query in statements]
    assert enrichments == [str(first.id), str(job.id)]

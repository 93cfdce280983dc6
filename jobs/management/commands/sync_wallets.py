"""Sync wallets from the command line: one `wallet_sync` job per wallet, as `POST /jobs/wallets/sync`.

Every address is checked before any job is submitted. `--wait` follows the jobs in the ledger with a
progress bar on stderr (wallets done and failed, the upstream call rate) and prints a table of what each
sync found; it exits non-zero when one failed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import ApplicationError
from core.queues import Priority
from jobs import selectors, services
from jobs.management.commands import _cli
from jobs.models import Job
from wallets.addresses import validate_addresses


class Command(BaseCommand):
    help = "Sync wallets (arguments or --file) and fetch their balances, one wallet_sync job per wallet."

    def add_arguments(self, parser: CommandParser) -> None:
        _cli.add_common_arguments(parser)
        parser.add_argument(
            "--history",
            choices=services.HISTORY_DEPTHS,
            default="initial",
            help="initial (default): a first sync stores the newest WALLET_SYNC_INITIAL_SIGNATURES and "
            "deeper history follows in the background; full: each job deepens its wallet to the caps itself",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        _cli.check_wait_arguments(options["timeout"], options["poll"])
        addresses = _cli.read_addresses(options["addresses"], options["file"])
        user = _cli.owner(options["user"])
        try:
            wallets = sorted(validate_addresses(addresses, min_count=1, max_count=len(addresses)))
            submissions = [
                services.job_submit_wallet_job(
                    kind=Job.Kind.WALLET_SYNC,
                    owner=user,
                    wallet=wallet,
                    force=options["force"],
                    history=options["history"],
                    priority=Priority.NORMAL,
                )
                for wallet in wallets
            ]
        except ApplicationError as exc:
            raise _cli.one_line_error(exc) from exc
        for submission in submissions:
            how = "existing job, deduplicated" if submission.deduplicated else "queued"
            self.stdout.write(f"sync job {submission.job.id}: {submission.job.params['wallet']} ({how})")
        if options["wait"]:
            self._wait([str(s.job.id) for s in submissions], options["timeout"], options["poll"])

    def _wait(self, job_ids: list[str], timeout_s: float, poll_s: float) -> None:
        bar = _cli.ProgressBar(self.stderr, len(job_ids), "wallets done")
        rate = _cli.UpstreamCallRate()
        ended: list[int] = [0]

        def finished() -> bool:
            statuses = selectors.jobs_statuses(job_ids=job_ids)
            over = [status for status in statuses.values() if status in Job.TERMINAL_STATUSES]
            ended[0] = len(over)
            bar.update(len(over), sum(status != Job.Status.COMPLETED for status in over), rate=rate.sample())
            return len(over) == len(job_ids)

        def timed_out() -> str:
            return f"timed out after {timeout_s:.0f}s: {ended[0]} of {len(job_ids)} syncs ended"

        try:
            _cli.wait_until(finished, timeout_s=timeout_s, poll_s=poll_s, on_timeout=timed_out)
        finally:
            bar.close()
        jobs = selectors.jobs_by_ids(job_ids=job_ids)
        rows = []
        for job in jobs:
            result = job.result or {}
            history = result.get("history") or {}
            stored = history.get("signatures")
            if stored is not None and not history.get("complete"):
                stored = f"{stored} ({history.get('limited_by') or 'deepening'})"
            rows.append(
                [
                    job.params["wallet"],
                    job.status,
                    result.get("new_transactions"),
                    result.get("new_swaps"),
                    stored,
                    result.get("newest_signature"),
                    result.get("last_synced_at"),
                    (job.error or {}).get("message", "")[:80],
                ]
            )
        headers = ["wallet", "status", "new txs", "new swaps", "stored txs", "newest signature"]
        self.stdout.write(_cli.table([*headers, "last synced", "error"], rows))
        unsuccessful = sum(1 for job in jobs if job.status != Job.Status.COMPLETED)
        if unsuccessful:
            raise CommandError(f"{unsuccessful} of {len(jobs)} syncs failed or were cancelled")

"""Bulk analysis from the command line: the same parent/children jobs as `POST /jobs/bulk-analysis`.

More wallets than MAX_WALLETS_PER_JOB are split into several bulk jobs (not with similarity, which is
computed over one set). `--wait` follows the jobs in the ledger with a progress bar on stderr (wallets done
and failed, the upstream call rate, analyses ended) and prints a summary table; it exits non-zero when an
analysis failed or was cancelled.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import ApplicationError
from core.queues import Priority
from jobs import selectors, services
from jobs.management.commands import _cli
from jobs.models import Job
from wallets.addresses import validate_addresses


class Command(BaseCommand):
    help = "Submit PnL, behaviour and/or similarity analyses of wallets (arguments or --file) as bulk jobs."

    def add_arguments(self, parser: CommandParser) -> None:
        _cli.add_common_arguments(parser)
        parser.add_argument(
            "--types",
            default="pnl,behavior",
            help=f"comma-separated, from {','.join(selectors.BULK_ANALYSIS_TYPES)} (default: pnl,behavior)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        _cli.check_wait_arguments(options["timeout"], options["poll"])
        addresses = _cli.read_addresses(options["addresses"], options["file"])
        types = [kind.strip().lower() for kind in options["types"].split(",") if kind.strip()]
        user = _cli.owner(options["user"])
        try:
            wallets = sorted(validate_addresses(addresses, min_count=1, max_count=len(addresses)))
            chunk = settings.MAX_WALLETS_PER_JOB
            if Job.Kind.SIMILARITY in types and len(wallets) > chunk:
                raise CommandError(
                    f"similarity compares one set of at most {chunk} wallets (MAX_WALLETS_PER_JOB); "
                    f"got {len(wallets)}: leave similarity out or pass fewer wallets"
                )
            submissions = [
                services.job_submit_bulk_analysis(
                    owner=user,
                    wallets=wallets[start : start + chunk],
                    types=types,
                    force=options["force"],
                    priority=Priority.NORMAL,
                )
                for start in range(0, len(wallets), chunk)
            ]
        except ApplicationError as exc:
            raise _cli.one_line_error(exc) from exc
        for submission in submissions:
            job = submission.job
            how = "existing job, deduplicated" if submission.deduplicated else "queued"
            self.stdout.write(
                f"bulk job {job.id}: {len(job.params['wallets'])} wallet(s) x {','.join(job.params['types'])}"
                f" ({how})"
            )
        if options["wait"]:
            self._wait([str(s.job.id) for s in submissions], options["timeout"], options["poll"])

    def _wait(self, job_ids: list[str], timeout_s: float, poll_s: float) -> None:
        parents = selectors.jobs_by_ids(job_ids=job_ids)
        first = selectors.bulk_wallet_progress(parents=parents)
        per_wallet = first.wallets_total > 0  # similarity alone has no per-wallet analyses to count
        bar = _cli.ProgressBar(
            self.stderr,
            first.wallets_total if per_wallet else first.analyses_total,
            "wallets done" if per_wallet else "analyses ended",
        )
        rate = _cli.UpstreamCallRate()
        states: list[selectors.JobTreeState] = []
        progress: list[selectors.BulkWalletProgress] = [first]

        def finished() -> bool:
            states[:] = [selectors.job_tree_state(job_id=job_id) for job_id in job_ids]
            now = progress[0] = selectors.bulk_wallet_progress(parents=[state.job for state in states])
            note = f"{now.analyses_ended}/{now.analyses_total} analyses ended"
            if per_wallet:
                bar.update(now.wallets_done, now.wallets_failed, rate=rate.sample(), note=note)
            else:
                failed = sum(
                    state.by_status.get(status, 0)
                    for state in states
                    for status in (Job.Status.FAILED, Job.Status.CANCELLED)
                )
                bar.update(now.analyses_ended, failed, rate=rate.sample())
            return all(state.job.is_terminal for state in states)

        def timed_out() -> str:
            now = progress[0]
            return (
                f"timed out after {timeout_s:.0f}s: {now.analyses_ended} of {now.analyses_total} analyses "
                f"ended; follow {job_ids[0]}"
            )

        try:
            _cli.wait_until(finished, timeout_s=timeout_s, poll_s=poll_s, on_timeout=timed_out)
        finally:
            bar.close()
        self._summary(states)

    def _summary(self, states: list[selectors.JobTreeState]) -> None:
        statuses = [str(status) for status in Job.TERMINAL_STATUSES]
        rows: dict[str, dict[str, int]] = {}
        problems: list[str] = []
        for state in states:
            if state.job.status != Job.Status.COMPLETED:
                error = (state.job.error or {}).get("message", "")
                problems.append(f"bulk job {state.job.id} {state.job.status} {error}".strip())
            for child in selectors.job_children(parent_id=state.job.id):
                counts = rows.setdefault(child.kind, dict.fromkeys(statuses, 0))
                if child.status in counts:
                    counts[child.status] += 1
                else:
                    problems.append(f"{child.kind} job {child.id} still {child.status}")
        per_kind = sorted(rows.items())
        totals = {status: sum(counts[status] for _, counts in per_kind) for status in statuses}
        table_rows: list[list[object]] = [
            [kind, *(counts[status] for status in statuses), sum(counts.values())]
            for kind, counts in per_kind
        ]
        table_rows.append(["all", *(totals[status] for status in statuses), sum(totals.values())])
        self.stdout.write(_cli.table(["type", *statuses, "total"], table_rows))
        unsuccessful = totals[Job.Status.FAILED] + totals[Job.Status.CANCELLED]
        if unsuccessful:
            problems.append(f"{unsuccessful} of {sum(totals.values())} analyses failed or were cancelled")
        if problems:
            raise CommandError("; ".join(problems))

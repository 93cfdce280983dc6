"""Token holders from the command line: a `token_holders` job per mint, as POST /jobs/token-holders/analyze.

Every mint and count is checked before any job is submitted. `--wait` follows the jobs in the ledger with a
progress bar on stderr (jobs ended, and where each running one is) and prints a table per mint: risk level,
holders, first buyers, clusters, the bundled and insider shares; it exits non-zero when a job failed, was
cancelled, or did not end within `--timeout`.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import ApplicationError
from core.queues import Priority
from holders.services import DEFAULT_EARLY, DEFAULT_TOP, MAX_EARLY, MAX_TOP
from jobs import selectors, services
from jobs.management.commands import _cli
from jobs.models import Job
from wallets.addresses import validate_addresses

_PCT = "{:.2f}"


class Command(BaseCommand):
    help = "Analyse the holders of token mints (arguments or --file), one token_holders job per mint."

    def add_arguments(self, parser: CommandParser) -> None:
        _cli.add_common_arguments(parser, what="token mint addresses")
        parser.add_argument(
            "--top", type=int, default=DEFAULT_TOP, help=f"largest holders to analyse, 1-{MAX_TOP}"
        )
        parser.add_argument(
            "--early", type=int, default=DEFAULT_EARLY, help=f"first buyers to analyse, 1-{MAX_EARLY}"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        _cli.check_wait_arguments(options["timeout"], options["poll"])
        addresses = _cli.read_addresses(options["addresses"], options["file"], what="token mint addresses")
        user = _cli.owner(options["user"])
        try:
            mints = validate_addresses(addresses, min_count=1, max_count=len(addresses), field="mints")
            submissions = [
                services.job_submit_token_holders(
                    owner=user,
                    mint=mint,
                    top=options["top"],
                    early=options["early"],
                    force=options["force"],
                    priority=Priority.NORMAL,
                )
                for mint in mints
            ]
        except ApplicationError as exc:
            raise _cli.one_line_error(exc) from exc
        for submission in submissions:
            params = submission.job.params
            how = "existing job, deduplicated" if submission.deduplicated else "queued"
            self.stdout.write(
                f"holders job {submission.job.id}: {params['mint']} top {params['top']}, "
                f"early {params['early']} ({how})"
            )
        if options["wait"]:
            self._wait([str(s.job.id) for s in submissions], options["timeout"], options["poll"])

    def _wait(self, job_ids: list[str], timeout_s: float, poll_s: float) -> None:
        bar = _cli.ProgressBar(self.stderr, len(job_ids), "holders analyses ended")
        jobs: list[Job] = []

        def finished() -> bool:
            jobs[:] = selectors.jobs_by_ids(job_ids=job_ids)
            ended = [job for job in jobs if job.is_terminal]
            running = [job for job in jobs if not job.is_terminal]
            note = ", ".join(f"{job.params['mint'][:6]}… {job.stage} {job.progress}%" for job in running[:3])
            bar.update(len(ended), sum(1 for job in ended if job.status != Job.Status.COMPLETED), note=note)
            return len(ended) == len(job_ids)

        def timed_out() -> str:
            ended = sum(1 for job in jobs if job.is_terminal)
            return f"timed out after {timeout_s:.0f}s: {ended} of {len(job_ids)} holders analyses ended"

        try:
            _cli.wait_until(finished, timeout_s=timeout_s, poll_s=poll_s, on_timeout=timed_out)
        finally:
            bar.close()
        self.stdout.write(_cli.table(_HEADERS, [_row(job) for job in jobs]))
        unsuccessful = [job for job in jobs if job.status != Job.Status.COMPLETED]
        if unsuccessful:
            reasons = "; ".join(
                f"{job.params['mint']} {job.status}: {(job.error or {}).get('message', '')}"[:200]
                for job in unsuccessful
            )
            raise CommandError(
                f"{len(unsuccessful)} of {len(jobs)} holders analyses did not complete: {reasons}"
            )


_HEADERS = [
    "mint",
    "status",
    "risk",
    "holders",
    "early",
    "clusters",
    "bundled %",
    "insider %",
    "failed wallets",
]


def _share(value: object) -> str:
    return _PCT.format(value) if isinstance(value, int | float) else "?"


def _row(job: Job) -> list[object]:
    result = job.result or {}
    risk = result.get("risk") or {}
    return [
        job.params["mint"],
        job.status,
        risk.get("level"),
        len(result.get("holders") or []),
        len(result.get("early_buyers") or []),
        len(result.get("clusters") or []),
        _share(risk.get("bundled_supply_pct")) if result else None,
        _share(risk.get("insider_supply_pct")) if result else None,
        len(result.get("failed_wallets") or []),
    ]

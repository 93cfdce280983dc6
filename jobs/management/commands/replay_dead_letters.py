"""Replay dead letters: their jobs run again from the ledger (see jobs.services.dead_letter_replay)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from core.errors import ApplicationError
from jobs.models import DeadLetter
from jobs.services import dead_letter_replay


class Command(BaseCommand):
    help = "Replay dead letters by id, or all that match the filters (never replayed ones by default)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", type=int, help="dead letter ids")
        parser.add_argument("--all", action="store_true", help="every dead letter matching the filters")
        parser.add_argument("--queue", help="only this queue")
        parser.add_argument("--error-type", help="only this error type (e.g. transient, insufficient_data)")
        parser.add_argument("--since-hours", type=float, help="only dead letters newer than this")
        parser.add_argument("--include-replayed", action="store_true", help="also those replayed before")
        parser.add_argument("--dry-run", action="store_true", help="list what would be replayed")

    def handle(self, *args: Any, **options: Any) -> None:
        ids: list[int] = options["ids"]
        if not ids and not options["all"]:
            raise CommandError("name dead letter ids, or pass --all (with filters) to replay every match")
        letters = DeadLetter.objects.order_by("created_at")
        if ids:
            letters = letters.filter(pk__in=ids)
            missing = set(ids) - set(letters.values_list("pk", flat=True))
            if missing:
                raise CommandError(f"no dead letter with id {', '.join(map(str, sorted(missing)))}")
        if options["queue"]:
            letters = letters.filter(queue=options["queue"])
        if options["error_type"]:
            letters = letters.filter(error_type=options["error_type"])
        if options["since_hours"] is not None:
            if options["since_hours"] <= 0:
                raise CommandError("--since-hours must be positive")
            letters = letters.filter(created_at__gte=timezone.now() - timedelta(hours=options["since_hours"]))
        if not ids and not options["include_replayed"]:
            letters = letters.filter(replay_count=0)
        replayed_jobs: set[str] = set()
        count = 0
        for letter in letters:
            if letter.job_id and str(letter.job_id) in replayed_jobs:
                continue  # one replay per job: its other dead letters belong to the same run
            if options["dry_run"]:
                self.stdout.write(f"would replay #{letter.pk} {letter.task_name}: {letter.message[:100]}")
            else:
                try:
                    outcome = dead_letter_replay(dead_letter=letter)
                except ApplicationError as exc:
                    outcome = f"not replayed: {exc.message}"
                self.stdout.write(f"#{letter.pk} {letter.task_name}: {outcome}")
            if letter.job_id:
                replayed_jobs.add(str(letter.job_id))
            count += 1
        self.stdout.write(f"{'would replay' if options['dry_run'] else 'replayed'} {count} dead letter(s)")

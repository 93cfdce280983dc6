from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from core.errors import ApplicationError
from jobs import services
from jobs.models import DeadLetter, Job, TaskRun


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "owner",
        "status",
        "progress",
        "stage",
        "queue",
        "priority",
        "attempts",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "kind", "queue", "created_at")
    search_fields = ("id", "dedup_key", "owner__username", "stage")
    readonly_fields = (
        "id",
        "dedup_key",
        "created_at",
        "started_at",
        "finished_at",
        "heartbeat_at",
        "celery_task_ids",
    )
    list_select_related = ("owner",)
    date_hierarchy = "created_at"
    actions = ["cancel_jobs", "retry_jobs"]

    @admin.action(description="Cancel the selected jobs")
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        cancelled = sum(
            services.job_cancel(job=job) for job in queryset.filter(status__in=Job.ACTIVE_STATUSES)
        )
        self.message_user(request, f"Cancelled {cancelled} job(s).")

    @admin.action(description="Retry the selected failed or cancelled jobs")
    def retry_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        retried = 0
        for job in queryset.filter(status__in=(Job.Status.FAILED, Job.Status.CANCELLED)):
            try:
                retried += services.job_redrive(job=job, reset_attempts=True, reason="retried from the admin")
            except ApplicationError as exc:
                self.message_user(request, f"{job.id}: {exc.message}", level=messages.WARNING)
        self.message_user(request, f"Re-queued {retried} job(s).")


@admin.register(TaskRun)
class TaskRunAdmin(admin.ModelAdmin):
    list_display = ("task_name", "queue", "worker", "state", "runtime_ms", "started_at", "job_id")
    list_filter = ("queue", "state", "task_name")
    search_fields = ("task_id", "worker")
    readonly_fields = [field.name for field in TaskRun._meta.fields]


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "task_name",
        "queue",
        "error_type",
        "short_message",
        "attempts",
        "job_id",
        "created_at",
        "replay_count",
    )
    list_filter = ("queue", "error_type", "task_name", "created_at")
    search_fields = ("task_id", "message", "job__id")
    readonly_fields = [field.name for field in DeadLetter._meta.fields]
    actions = ["replay"]

    @admin.display(description="message")
    def short_message(self, letter: DeadLetter) -> str:
        return letter.message[:120]

    @admin.action(description="Replay the selected dead letters")
    def replay(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        for letter in queryset:
            try:
                outcome = services.dead_letter_replay(dead_letter=letter)
            except ApplicationError as exc:
                outcome = f"not replayed: {exc.message}"
            self.message_user(request, f"#{letter.pk}: {outcome}")

from django.contrib import admin

from jobs.models import Job, TaskRun


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


@admin.register(TaskRun)
class TaskRunAdmin(admin.ModelAdmin):
    list_display = ("task_name", "queue", "worker", "state", "runtime_ms", "started_at", "job_id")
    list_filter = ("queue", "state", "task_name")
    search_fields = ("task_id", "job__id", "worker")
    readonly_fields = [field.name for field in TaskRun._meta.fields]

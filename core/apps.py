from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Runtime helpers every app shares: errors, queues and task policy, Redis keys, HTTP to upstreams, rate
    limits, metrics. It imports no other app of the project (docs/ARCHITECTURE.md)."""

    name = "core"
    default_auto_field = "django.db.models.BigAutoField"

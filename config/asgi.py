"""ASGI entry point: WebSockets (daphne). REST is served by gunicorn over WSGI (docs/ARCHITECTURE.md §14
explains why)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from jobs.consumers import JobProgressConsumer  # noqa: E402
from jobs.ws_auth import JobAuthMiddlewareStack  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": JobAuthMiddlewareStack(
            URLRouter([path("ws/job-progress/", JobProgressConsumer.as_asgi())])
        ),
    }
)

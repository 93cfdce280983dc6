"""The Lab (README, Similarity Lab): pages that submit to the job API and follow the job-progress socket:
the Similarity Lab and Token holders."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.generic import TemplateView

from holders.services import DEFAULT_EARLY, DEFAULT_TOP, MAX_EARLY, MAX_TOP
from jobs.events import result_url


def lab_websocket_url() -> str:
    """The socket the page opens; empty means the page's own origin, which the script resolves."""
    url = settings.WEBSOCKET_PUBLIC_URL
    # The env reader strips a trailing slash, but the consumer's route ends with one.
    return f"{url}/" if url and not url.endswith("/") else url


def _job_config(submit_url_name: str) -> dict[str, Any]:
    """What a page needs to submit a job and follow it."""
    return {
        "submitUrl": reverse(submit_url_name),
        # The templates take the job id in place of the marker.
        "cancelUrl": reverse("job-cancel", kwargs={"job_id": "JOB_ID"}),
        "statusUrl": reverse("job-status", kwargs={"job_id": "JOB_ID"}),
        "resultUrl": result_url("JOB_ID"),
        "websocketUrl": lab_websocket_url(),
        "websocketPath": "/ws/job-progress/",
    }


@method_decorator(ensure_csrf_cookie, name="dispatch")
class LabView(LoginRequiredMixin, TemplateView):
    """The page carries only configuration; everything it shows comes from the API and the socket."""

    template_name = "lab/index.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["lab_config"] = {
            **_job_config("similarity-submit"),
            "maxWallets": settings.MAX_WALLETS_PER_JOB,
        }
        return context


@method_decorator(ensure_csrf_cookie, name="dispatch")
class HoldersLabView(LoginRequiredMixin, TemplateView):
    """Token holders (README, Similarity Lab): submit a mint, watch the fan-out, read the holders and first
    buyers with their classes and clusters, the supply they hold and the risk level."""

    template_name = "lab/holders.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["lab_config"] = {
            **_job_config("token-holders-submit"),
            "defaultTop": DEFAULT_TOP,
            "defaultEarly": DEFAULT_EARLY,
            "maxTop": MAX_TOP,
            "maxEarly": MAX_EARLY,
        }
        return context

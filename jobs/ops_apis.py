"""Operator endpoints: health, queue statistics, metrics, queue job listings (README, Guarantees and
operations).

Health details, statistics and metrics answer monitoring callers only (`core.monitoring_access`: staff, the
monitoring token, allow-listed addresses); `/health` (config/urls.py) stays open as the liveness answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import IsAdminUser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import query_values
from core.errors import NotFoundError
from core.monitoring_access import MONITORING_AUTHENTICATION, MonitoringAccess
from core.queues import QUEUES
from jobs import monitoring
from jobs.apis import ErrorSerializer, JobOutputSerializer
from jobs.models import Job


class _CheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    round_trip_ms = serializers.FloatField(required=False)
    error = serializers.CharField(required=False)


class _HealthQueueSerializer(serializers.Serializer):
    waiting = serializers.IntegerField()
    oldest_waiting_age_s = serializers.FloatField(allow_null=True)
    active = serializers.IntegerField()
    consuming_workers = serializers.IntegerField()
    workers = serializers.ListField(child=serializers.CharField())
    failures_last_hour = serializers.IntegerField()


class HealthOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["healthy", "degraded", "unhealthy"])
    redis = _CheckSerializer()
    database = _CheckSerializer()
    queues = serializers.DictField(
        child=_HealthQueueSerializer(), help_text="Per queue; empty when unhealthy"
    )
    problems = serializers.ListField(child=serializers.CharField())


class _RuntimeStatsSerializer(serializers.Serializer):
    completed = serializers.IntegerField()
    failed = serializers.IntegerField()
    retried = serializers.IntegerField()
    mean_ms = serializers.FloatField(allow_null=True)
    p95_ms = serializers.FloatField(allow_null=True)
    success_rate = serializers.FloatField(allow_null=True)


class QueueStatsOutputSerializer(serializers.Serializer):
    queue = serializers.CharField()
    waiting = serializers.IntegerField()
    oldest_waiting_age_s = serializers.FloatField(allow_null=True)
    active = serializers.IntegerField()
    consuming_workers = serializers.IntegerField()
    last_hour = _RuntimeStatsSerializer()
    since_start = _RuntimeStatsSerializer()
    dead_letters_last_hour = serializers.IntegerField()


_QUEUES = inline_serializer(name="QueuesStats", fields={"queues": QueueStatsOutputSerializer(many=True)})


def _known_queue(queue: str) -> str:
    if queue not in QUEUES:
        raise NotFoundError(f"No queue named {queue!r}; queues are: {', '.join(QUEUES)}.")
    return queue


class _MonitoringApi(APIView):
    authentication_classes = MONITORING_AUTHENTICATION
    permission_classes = [MonitoringAccess]


_DENIED: dict[int, Any] = {401: ErrorSerializer, 403: ErrorSerializer}


class HealthQueuesApi(_MonitoringApi):
    """503 when unhealthy, so probes can act on it."""

    @extend_schema(
        responses={200: HealthOutputSerializer, 503: HealthOutputSerializer, **_DENIED},
        summary="Health of Redis, the database and queues (monitoring access)",
    )
    def get(self, request: Request) -> Response:
        report = monitoring.health_report()
        return Response(report, status=503 if report["status"] == "unhealthy" else 200)


class QueueStatsApi(_MonitoringApi):
    @extend_schema(
        responses={200: QueueStatsOutputSerializer, 404: ErrorSerializer, **_DENIED},
        summary="Statistics of one queue (monitoring access)",
    )
    def get(self, request: Request, queue: str) -> Response:
        return Response(monitoring.queue_statistics(_known_queue(queue)))


class QueuesApi(_MonitoringApi):
    @extend_schema(
        responses={200: _QUEUES, **_DENIED}, summary="Statistics of every queue (monitoring access)"
    )
    def get(self, request: Request) -> Response:
        return Response({"queues": monitoring.queues_report()})


class _PrometheusTextRenderer(BaseRenderer):
    """The metrics as they are; an error body as the usual JSON (the content type follows)."""

    media_type = "text/plain"
    format = "txt"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if isinstance(data, str):
            return data.encode()
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data).encode()


class _AlwaysPrometheusText(BaseContentNegotiation):
    """Scrapers ask for OpenMetrics first and the text format second; everyone gets the text format."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return None

    def select_renderer(self, request: Request, renderers: Any, format_suffix: str | None = None) -> Any:
        return renderers[0], renderers[0].media_type


class MetricsApi(_MonitoringApi):
    http_method_names = ["get", "head"]
    renderer_classes = [_PrometheusTextRenderer]
    content_negotiation_class = _AlwaysPrometheusText

    @extend_schema(
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="Prometheus text format"),
            **_DENIED,
        },
        summary="Prometheus metrics: jobs by kind and status, task durations, queue depth, upstream calls, "
        "errors and 429s, cache hits, WebSocket connections (monitoring access)",
    )
    def get(self, request: Request) -> Response:
        return Response(monitoring.prometheus_text(), content_type=CONTENT_TYPE_LATEST)


class QueueJobsApi(APIView):
    """Jobs of one queue, newest first. Staff only: jobs carry their owners' parameters."""

    permission_classes = [IsAdminUser]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Job.Status.choices, required=False)
        limit = serializers.IntegerField(required=False, min_value=1, max_value=500, default=50)

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: JobOutputSerializer(many=True), 400: ErrorSerializer, 404: ErrorSerializer},
        summary="Jobs of one queue (staff)",
    )
    def get(self, request: Request, queue: str) -> Response:
        filters = self.FilterSerializer(data=query_values(request))
        filters.is_valid(raise_exception=True)
        jobs = Job.objects.filter(queue=_known_queue(queue))
        if "status" in filters.validated_data:
            jobs = jobs.filter(status=filters.validated_data["status"])
        return Response(JobOutputSerializer(jobs[: filters.validated_data["limit"]], many=True).data)

"""Operator endpoints: health, queue statistics, queue job listings (SPEC §7)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import query_values
from core.errors import NotFoundError
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


class HealthQueuesApi(APIView):
    """Open to monitoring systems: it carries no user data. 503 when unhealthy, so probes can act on it."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        responses={200: HealthOutputSerializer, 503: HealthOutputSerializer},
        summary="Health of Redis, the database and queues",
    )
    def get(self, request: Request) -> Response:
        report = monitoring.health_report()
        return Response(report, status=503 if report["status"] == "unhealthy" else 200)


class QueueStatsApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        responses={200: QueueStatsOutputSerializer, 404: ErrorSerializer}, summary="Statistics of one queue"
    )
    def get(self, request: Request, queue: str) -> Response:
        return Response(monitoring.queue_statistics(_known_queue(queue)))


class QueuesApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses={200: _QUEUES}, summary="Statistics of every queue")
    def get(self, request: Request) -> Response:
        return Response({"queues": [monitoring.queue_statistics(queue) for queue in QUEUES]})


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format; no user data, so open like the health endpoint."""
    return HttpResponse(monitoring.prometheus_text(), content_type=CONTENT_TYPE_LATEST)


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

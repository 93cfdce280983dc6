"""Dead letters over HTTP (docs/ARCHITECTURE.md §4; README, Using the API). They carry other users'
parameters, so they are for staff."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import query_values
from core.errors import NotFoundError
from core.queues import QUEUES
from jobs import services
from jobs.apis import ErrorSerializer
from jobs.models import DeadLetter


class DeadLetterOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeadLetter
        fields = [
            "id",
            "task_name",
            "task_id",
            "queue",
            "kwargs",
            "error_type",
            "message",
            "attempts",
            "job",
            "created_at",
            "replay_count",
            "replayed_at",
            "replay_outcome",
        ]


ERROR_TYPE_MAX_LENGTH = 40  # DeadLetter.error_type's column


class FailedStatsApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema_serializer(component_name="DeadLetterStats")
    class OutputSerializer(serializers.Serializer):
        total = serializers.IntegerField()
        last_hour = serializers.IntegerField()
        last_day = serializers.IntegerField()
        unreplayed = serializers.IntegerField()
        by_queue = serializers.DictField(child=serializers.IntegerField())
        by_error_type = serializers.DictField(child=serializers.IntegerField())

    @extend_schema(responses={200: OutputSerializer}, summary="Dead-letter counts (staff)")
    def get(self, request: Request) -> Response:
        now = timezone.now()
        letters = DeadLetter.objects.all()
        body = {
            "total": letters.count(),
            "last_hour": letters.filter(created_at__gte=now - timedelta(hours=1)).count(),
            "last_day": letters.filter(created_at__gte=now - timedelta(days=1)).count(),
            "unreplayed": letters.filter(replay_count=0).count(),
            "by_queue": dict(letters.values_list("queue").annotate(n=Count("id")).values_list("queue", "n")),
            "by_error_type": dict(
                letters.values_list("error_type").annotate(n=Count("id")).values_list("error_type", "n")
            ),
        }
        return Response(self.OutputSerializer(body).data)


class FailedRecentApi(APIView):
    permission_classes = [IsAdminUser]

    class FilterSerializer(serializers.Serializer):
        limit = serializers.IntegerField(required=False, min_value=1, max_value=500, default=50)
        queue = serializers.ChoiceField(choices=list(QUEUES), required=False)
        # Taken as given (trimming would make "\r" blank, refusing a value the schema allows); the pattern
        # documents the NUL that DRF refuses (and PostgreSQL could not compare).
        error_type = serializers.RegexField(
            r"^[^\x00]+$",
            required=False,
            trim_whitespace=False,
            max_length=ERROR_TYPE_MAX_LENGTH,
        )

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: DeadLetterOutputSerializer(many=True), 400: ErrorSerializer},
        summary="The newest dead letters (staff)",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=query_values(request))
        filters.is_valid(raise_exception=True)
        letters = DeadLetter.objects.all()
        if "queue" in filters.validated_data:
            letters = letters.filter(queue=filters.validated_data["queue"])
        if "error_type" in filters.validated_data:
            letters = letters.filter(error_type=filters.validated_data["error_type"])
        return Response(
            DeadLetterOutputSerializer(letters[: filters.validated_data["limit"]], many=True).data
        )


class FailedRetryApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema_serializer(component_name="DeadLetterReplay")
    class OutputSerializer(serializers.Serializer):
        dead_letter_id = serializers.IntegerField()
        outcome = serializers.CharField()

    @extend_schema(
        request=None,
        responses={202: OutputSerializer, 404: ErrorSerializer, 409: ErrorSerializer},
        summary="Replay a dead letter: its job runs again from the ledger (staff)",
    )
    def post(self, request: Request, dead_letter_id: int) -> Response:
        letter = DeadLetter.objects.filter(pk=dead_letter_id).first()
        if letter is None:
            raise NotFoundError(f"No dead letter with id {dead_letter_id}.")
        outcome = services.dead_letter_replay(dead_letter=letter)
        return Response(
            self.OutputSerializer({"dead_letter_id": letter.pk, "outcome": outcome}).data, status=202
        )

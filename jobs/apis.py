"""HTTP interface of the jobs (SPEC §7): one view per operation, nested input/output serializers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import ConflictError, InvalidInputError
from config.queues import SIMILARITY_QUEUE, Priority
from jobs import selectors, services
from jobs.events import result_url
from jobs.models import Job
from wallets.addresses import InvalidAddressError, validate_addresses

# `fields` would shadow Serializer.fields in a class body, so the error shape is declared inline.
ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorBody",
            fields={
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
            },
        )
    },
)


def _user(request: Request) -> User:
    # IsAuthenticated has already refused anonymous requests; this narrows the type.
    assert isinstance(request.user, User)
    return request.user


def _links(job: Job) -> dict[str, str]:
    base = f"/jobs/{job.id}"
    return {
        "self": base,
        "status": f"{base}/status",
        "progress": f"{base}/progress",
        "result": result_url(str(job.id)),
        "websocket": "/ws/job-progress/",
    }


class SubmitOutputSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    status = serializers.CharField()
    deduplicated = serializers.BooleanField()
    queue = serializers.CharField()
    wallet_count = serializers.IntegerField()
    links = serializers.DictField(child=serializers.CharField())


class SimilaritySubmitApi(APIView):
    class InputSerializer(serializers.Serializer):
        wallets = serializers.JSONField(help_text="2 to MAX_WALLETS_PER_JOB base58 wallet addresses")
        options = serializers.DictField(required=False, default=dict)
        force = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        request=InputSerializer,
        responses={202: SubmitOutputSerializer, 200: SubmitOutputSerializer, 400: ErrorSerializer},
        summary="Submit a similarity analysis of a set of wallets",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            wallets = validate_addresses(data["wallets"], min_count=2, max_count=settings.MAX_WALLETS_PER_JOB)
        except InvalidAddressError as exc:
            raise InvalidInputError(
                str(exc), fields=getattr(exc, "fields", None) or {"wallets": [str(exc)]}
            ) from exc
        params: dict[str, Any] = {"wallets": sorted(wallets), "options": data["options"]}
        submission = services.job_submit(
            kind=Job.Kind.SIMILARITY,
            owner=_user(request),
            params=params,
            queue=SIMILARITY_QUEUE,
            priority=Priority.HIGH,
            force=data["force"],
        )
        job = submission.job
        body = SubmitOutputSerializer(
            {
                "job_id": job.id,
                "status": job.status,
                "deduplicated": submission.deduplicated,
                "queue": job.queue,
                "wallet_count": len(job.params.get("wallets", [])),
                "links": _links(job),
            }
        ).data
        return Response(
            body, status=status.HTTP_200_OK if submission.deduplicated else status.HTTP_202_ACCEPTED
        )


class JobOutputSerializer(serializers.ModelSerializer):
    job_id = serializers.UUIDField(source="id")
    links = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "job_id",
            "kind",
            "status",
            "progress",
            "stage",
            "params",
            "error",
            "queue",
            "priority",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
            "heartbeat_at",
            "links",
        ]

    def get_links(self, job: Job) -> dict[str, str]:
        return _links(job)


class CancelOutputSerializer(serializers.Serializer):
    job_id = serializers.UUIDField(source="id")
    status = serializers.CharField()
    cancelled = serializers.BooleanField(help_text="false when the job was cancelled already")


def _cancel(request: Request, job_id: str) -> Response:
    job = selectors.job_get_for_owner(job_id=job_id, user=request.user)
    if job.status == Job.Status.CANCELLED:
        return Response(CancelOutputSerializer({"id": job.id, "status": job.status, "cancelled": False}).data)
    if not services.job_cancel(job=job):
        job.refresh_from_db()
        raise ConflictError(
            f"The job is already {job.status}; only queued or running jobs can be cancelled.",
            code="job_not_active",
        )
    return Response(CancelOutputSerializer({"id": job.id, "status": job.status, "cancelled": True}).data)


class JobDetailApi(APIView):
    @extend_schema(responses={200: JobOutputSerializer, 404: ErrorSerializer}, summary="A job of yours")
    def get(self, request: Request, job_id: str) -> Response:
        job = selectors.job_get_for_owner(job_id=job_id, user=request.user)
        return Response(JobOutputSerializer(job).data)

    @extend_schema(
        request=None,
        responses={200: CancelOutputSerializer, 404: ErrorSerializer, 409: ErrorSerializer},
        summary="Cancel a job (the same as POST /jobs/{id}/cancel)",
    )
    def delete(self, request: Request, job_id: str) -> Response:
        return _cancel(request, job_id)


class JobCancelApi(APIView):
    @extend_schema(
        request=None,
        responses={200: CancelOutputSerializer, 404: ErrorSerializer, 409: ErrorSerializer},
        summary="Cancel a queued or running job: stored in the ledger, then signalled to the workers",
    )
    def post(self, request: Request, job_id: str) -> Response:
        return _cancel(request, job_id)


class JobStatusApi(APIView):
    class OutputSerializer(serializers.Serializer):
        job_id = serializers.UUIDField(source="id")
        status = serializers.CharField()
        progress = serializers.IntegerField()
        stage = serializers.CharField()
        error = serializers.JSONField(allow_null=True)
        finished_at = serializers.DateTimeField(allow_null=True)

    @extend_schema(responses={200: OutputSerializer, 404: ErrorSerializer}, summary="A job's status")
    def get(self, request: Request, job_id: str) -> Response:
        job = selectors.job_get_for_owner(job_id=job_id, user=request.user)
        return Response(self.OutputSerializer(job).data)


class JobProgressApi(APIView):
    class OutputSerializer(serializers.Serializer):
        job_id = serializers.UUIDField(source="id")
        status = serializers.CharField()
        progress = serializers.IntegerField()
        stage = serializers.CharField()
        heartbeat_at = serializers.DateTimeField(allow_null=True)

    @extend_schema(responses={200: OutputSerializer, 404: ErrorSerializer}, summary="A job's progress")
    def get(self, request: Request, job_id: str) -> Response:
        job = selectors.job_get_for_owner(job_id=job_id, user=request.user)
        return Response(self.OutputSerializer(job).data)


class JobResultApi(APIView):
    class OutputSerializer(serializers.Serializer):
        job_id = serializers.UUIDField(source="id")
        kind = serializers.CharField()
        status = serializers.CharField()
        progress = serializers.IntegerField()
        result = serializers.JSONField(allow_null=True)

    @extend_schema(
        responses={200: OutputSerializer, 202: OutputSerializer, 404: ErrorSerializer, 409: ErrorSerializer},
        summary="A job's result: 200 when completed, 202 while queued or running, 409 when it failed",
    )
    def get(self, request: Request, job_id: str) -> Response:
        job = selectors.job_get_for_owner(job_id=job_id, user=request.user)
        if job.status in (Job.Status.FAILED, Job.Status.CANCELLED):
            error = job.error or {"type": job.status, "message": f"The job was {job.status}."}
            raise ConflictError(f"The job {job.status}: {error.get('message', '')}", code=f"job_{job.status}")
        body = self.OutputSerializer(
            {
                "id": job.id,
                "kind": job.kind,
                "status": job.status,
                "progress": job.progress,
                "result": job.result if job.status == Job.Status.COMPLETED else None,
            }
        ).data
        return Response(body, status=status.HTTP_200_OK if job.status == Job.Status.COMPLETED else 202)

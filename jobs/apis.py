"""HTTP interface of the jobs (README, Using the API): one view per operation, nested input/output
serializers.

Submissions validate in `jobs.services` (shared with the management commands) and are throttled per user
(`core.throttles`). Every job is visible to its owner only: anyone else gets the same 404 as for a job
that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib.auth.models import User
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_body, query_values
from core.errors import ConflictError
from core.fields import JsonListField, JsonObjectField, StrictBooleanField, StrictInputSerializer
from core.throttles import SubmitRateThrottle, submit_throttle_charge
from holders.services import DEFAULT_EARLY, DEFAULT_TOP, MAX_EARLY, MAX_TOP
from jobs import selectors, services
from jobs.events import result_url
from jobs.models import Job
from jobs.openapi import ErrorSerializer
from similarity.services import SIMILARITY_MIN_WALLETS, SIMILARITY_OPTIONS_JSON_SCHEMA
from wallets.addresses import ADDRESS_EXAMPLES, ADDRESS_JSON_SCHEMA


@extend_schema_field({**ADDRESS_JSON_SCHEMA, "example": ADDRESS_EXAMPLES[0]})
class AddressField(serializers.JSONField):
    """Checked by the service, which says exactly what is wrong with the address."""


def _address_list(*, min_items: int) -> JsonListField:
    """Checked by the service, which names every bad entry (`wallets[3]`) and counts distinct ones."""
    return JsonListField(
        items_schema=ADDRESS_JSON_SCHEMA,
        min_items=min_items,
        max_items_setting="MAX_WALLETS_PER_JOB",
        description=f"Wallet addresses; duplicates are collapsed (they count towards maxItems, and at least "
        f"{min_items} must be distinct). Bad entries are named `wallets[i]`.",
        example=list(ADDRESS_EXAMPLES),
    )


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "enum": list(selectors.BULK_ANALYSIS_TYPES)},
        "minItems": 1,
        "description": "Analyses to run; duplicates are collapsed.",
    }
)
class AnalysisTypesField(serializers.JSONField):
    pass


def _count_field(*, default: int, maximum: int, what: str) -> serializers.JSONField:
    """A count the holders service checks (an integer from 1 to `maximum`; a string or a fraction is refused,
    naming the field)."""

    @extend_schema_field(
        {"type": "integer", "minimum": 1, "maximum": maximum, "default": default, "description": what}
    )
    class CountField(serializers.JSONField):
        pass

    return CountField(required=False)


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


_SUBMIT_RESPONSES: dict[int, Any] = {
    202: SubmitOutputSerializer,
    200: SubmitOutputSerializer,
    400: ErrorSerializer,
    409: ErrorSerializer,
}


# One instance serves every submission: building a serializer deep-copies its declared fields (74 µs per
# answer against 9 µs, docs/BENCHMARKS.md §1), while `to_representation` keeps no state: threads share it.
_SUBMIT_OUTPUT = SubmitOutputSerializer()


def _submit_response(submission: services.JobSubmission, *, wallet_count: int) -> Response:
    """202 for a new job, 200 with the existing one when the submission was deduplicated."""
    job = submission.job
    body = _SUBMIT_OUTPUT.to_representation(
        {
            "job_id": job.id,
            "status": job.status,
            "deduplicated": submission.deduplicated,
            "queue": job.queue,
            "wallet_count": wallet_count,
            "links": _links(job),
        }
    )
    return Response(body, status=status.HTTP_200_OK if submission.deduplicated else status.HTTP_202_ACCEPTED)


class _SubmitApi(APIView):
    """A job submission: throttled per user (see `core.throttles` for what counts), and refused while the
    user's active jobs are at MAX_ACTIVE_JOBS_PER_USER (`services.job_submit_admitted`)."""

    throttle_classes = [SubmitRateThrottle]

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        SubmitRateThrottle.settle(request, response)
        return super().finalize_response(request, response, *args, **kwargs)

    def admitted(
        self, request: Request, submit: Callable[[], services.JobSubmission]
    ) -> services.JobSubmission:
        def charge(jobs: int) -> None:
            submit_throttle_charge(request, jobs=jobs)

        return services.job_submit_admitted(owner=_user(request), submit=submit, charge=charge)


class SimilaritySubmitApi(_SubmitApi):
    @extend_schema_serializer(component_name="SimilaritySubmitInput")
    class InputSerializer(StrictInputSerializer):
        wallets = _address_list(min_items=SIMILARITY_MIN_WALLETS)
        # Checked by the similarity service, which names every bad key (`options.top_pairs`).
        options = JsonObjectField(json_schema=SIMILARITY_OPTIONS_JSON_SCHEMA, required=False, default=dict)
        force = StrictBooleanField(
            required=False, default=False, help_text="Do the work again even when a fresh result exists"
        )

    @extend_schema(
        request=InputSerializer,
        responses=_SUBMIT_RESPONSES,
        summary="Submit a similarity analysis of a set of wallets",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        submission = self.admitted(
            request,
            lambda: services.job_submit_similarity(
                owner=_user(request), wallets=data["wallets"], options=data["options"], force=data["force"]
            ),
        )
        return _submit_response(submission, wallet_count=len(submission.job.params["wallets"]))


@extend_schema_serializer(component_name="WalletJobInput")
class WalletJobInputSerializer(StrictInputSerializer):
    wallet = AddressField()
    force = StrictBooleanField(
        required=False, default=False, help_text="Do the work again even when a fresh result exists"
    )
    history = serializers.ChoiceField(
        choices=list(services.HISTORY_DEPTHS),
        required=False,
        default="initial",
        help_text="`initial`: the stored history (a first sync stores the newest "
        "WALLET_SYNC_INITIAL_SIGNATURES transactions; deeper history is added in the background, not "
        "awaited). `full`: the job deepens the wallet's history up to WALLET_HISTORY_MAX_SIGNATURES / "
        "WALLET_HISTORY_MAX_DAYS before it computes. The result's `history` says what it covers.",
    )


class _WalletJobSubmitApi(_SubmitApi):
    kind: Job.Kind
    InputSerializer = WalletJobInputSerializer

    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        submission = self.admitted(
            request,
            lambda: services.job_submit_wallet_job(
                kind=self.kind,
                owner=_user(request),
                wallet=data["wallet"],
                force=data["force"],
                history=data["history"],
            ),
        )
        return _submit_response(submission, wallet_count=1)


_WALLET_JOB_SCHEMA: dict[str, Any] = {"request": WalletJobInputSerializer, "responses": _SUBMIT_RESPONSES}


class PnlSubmitApi(_WalletJobSubmitApi):
    """Average-cost PnL per token and for the wallet (docs/METHODS.md §2); the wallet is synced first when
    needed."""

    kind = Job.Kind.PNL

    @extend_schema(**_WALLET_JOB_SCHEMA, summary="Submit the PnL analysis of a wallet")
    def post(self, request: Request) -> Response:
        return super().post(request)


class BehaviorSubmitApi(_WalletJobSubmitApi):
    """Trading-behaviour profile (docs/METHODS.md §3); the wallet is synced first when needed."""

    kind = Job.Kind.BEHAVIOR

    @extend_schema(**_WALLET_JOB_SCHEMA, summary="Submit the trading-behaviour analysis of a wallet")
    def post(self, request: Request) -> Response:
        return super().post(request)


class WalletSyncSubmitApi(_WalletJobSubmitApi):
    """Sync a wallet's swap history incrementally (with force even when it was synced within
    WALLET_SYNC_FRESHNESS) and fetch its balances."""

    kind = Job.Kind.WALLET_SYNC

    @extend_schema(
        **_WALLET_JOB_SCHEMA,
        summary="Submit the sync of a wallet; the result counts new transactions and swaps and says when it "
        "was last synced",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


_ONE_WALLET_TYPES = [kind for kind in selectors.BULK_ANALYSIS_TYPES if kind != Job.Kind.SIMILARITY]


class BulkAnalysisSubmitApi(_SubmitApi):
    """A parent job with one child job per wallet and analysis type (PnL, behaviour) and one similarity
    job over the set. The parent completes when every child has ended; its result counts them per type and
    status and lists the child job ids. Cancelling the parent cancels its children."""

    @extend_schema_serializer(component_name="BulkAnalysisInput")
    class InputSerializer(StrictInputSerializer):
        # Similarity needs two distinct wallets, the other analyses one: "two wallets, or no similarity".
        schema_extra: ClassVar[dict[str, Any]] = {
            "anyOf": [
                {"properties": {"wallets": {"minItems": SIMILARITY_MIN_WALLETS}}},
                {"properties": {"types": {"items": {"enum": _ONE_WALLET_TYPES}}}},
            ]
        }

        wallets = _address_list(min_items=1)
        types = AnalysisTypesField()
        force = StrictBooleanField(
            required=False, default=False, help_text="Passed to every child: recompute fresh results"
        )

    @extend_schema(
        request=InputSerializer,
        responses=_SUBMIT_RESPONSES,
        summary="Submit PnL, behaviour and/or similarity analyses of many wallets as one parent job",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        submission = self.admitted(
            request,
            lambda: services.job_submit_bulk_analysis(
                owner=_user(request), wallets=data["wallets"], types=data["types"], force=data["force"]
            ),
        )
        return _submit_response(submission, wallet_count=len(submission.job.params["wallets"]))


class TokenHoldersSubmitApi(_SubmitApi):
    """Who holds a mint, who bought it first, and how much of its supply acts together (docs/METHODS.md §6):
    the `top` holders and the first `early` buyers, with the creator, are synced, profiled and compared; each
    gets its classes (creator, bundler, sniper, insider, fresh, bot) and cluster; the result adds the supply
    held per class and per cluster and a risk level. A mint is checked for form here; an address that is no
    token mint fails the job (`not_a_token_mint`). `wallet_count` in the answer is the most wallets the job
    will look at (top + early); its result counts the ones it found."""

    @extend_schema_serializer(component_name="TokenHoldersSubmitInput")
    class InputSerializer(StrictInputSerializer):
        mint = AddressField(help_text="The token's mint address")
        top = _count_field(default=DEFAULT_TOP, maximum=MAX_TOP, what="Largest holders to analyse")
        early = _count_field(default=DEFAULT_EARLY, maximum=MAX_EARLY, what="First buyers to analyse")
        force = StrictBooleanField(
            required=False, default=False, help_text="Do the work again even when a fresh result exists"
        )

    @extend_schema(
        request=InputSerializer,
        responses=_SUBMIT_RESPONSES,
        summary="Submit the holders analysis of a token: holders, first buyers, classes, clusters, risk",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        submission = self.admitted(
            request,
            lambda: services.job_submit_token_holders(
                owner=_user(request),
                mint=data["mint"],
                top=data.get("top"),
                early=data.get("early"),
                force=data["force"],
            ),
        )
        params = submission.job.params
        return _submit_response(submission, wallet_count=int(params["top"]) + int(params["early"]))


class JobOutputSerializer(serializers.ModelSerializer):
    job_id = serializers.UUIDField(source="id")
    parent_id = serializers.UUIDField(allow_null=True, help_text="The parent job of a child job")
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
            "parent_id",
            "created_at",
            "started_at",
            "finished_at",
            "heartbeat_at",
            "links",
        ]

    def get_links(self, job: Job) -> dict[str, str]:
        return _links(job)


class JobPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200


class JobListApi(APIView):
    """Your jobs, newest first, paginated with `limit` (1 to 200, default 50) and `offset`."""

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Job.Status.choices, required=False)
        kind = serializers.ChoiceField(choices=Job.Kind.choices, required=False)
        created_after = serializers.DateTimeField(
            required=False, help_text="ISO 8601; jobs created at or after this instant"
        )
        created_before = serializers.DateTimeField(
            required=False,
            help_text="ISO 8601; jobs created before this instant (at or before created_after: no jobs)",
        )
        parent_id = serializers.UUIDField(required=False, help_text="Only the children of this job")
        limit = serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=JobPagination.max_limit,
            default=JobPagination.default_limit,
        )
        offset = serializers.IntegerField(required=False, min_value=0, default=0)

    @extend_schema_serializer(component_name="JobPage")
    class OutputSerializer(serializers.Serializer):
        count = serializers.IntegerField()
        next = serializers.URLField(allow_null=True)
        previous = serializers.URLField(allow_null=True)
        results = JobOutputSerializer(many=True)

    @extend_schema(
        operation_id="jobs_list",
        parameters=[FilterSerializer],
        responses={200: OutputSerializer, 400: ErrorSerializer},
        summary="Your jobs, newest first, filtered and paginated",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=query_values(request))
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        jobs = selectors.job_list_for_owner(
            user=_user(request),
            status=data.get("status"),
            kind=data.get("kind"),
            created_after=data.get("created_after"),
            created_before=data.get("created_before"),
            parent_id=data.get("parent_id"),
        )
        paginator = JobPagination()
        page = paginator.paginate_queryset(jobs, request, view=self) or []
        return paginator.get_paginated_response(JobOutputSerializer(page, many=True).data)


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


_CANCEL_RESPONSES: dict[int, Any] = {200: CancelOutputSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


class JobDetailApi(APIView):
    @extend_schema(responses={200: JobOutputSerializer, 404: ErrorSerializer}, summary="A job of yours")
    def get(self, request: Request, job_id: str) -> Response:
        job = selectors.job_get_for_owner(job_id=job_id, user=request.user)
        return Response(JobOutputSerializer(job).data)

    @extend_schema(
        request=None,
        responses=_CANCEL_RESPONSES,
        summary="Cancel a job (the same as POST /jobs/{id}/cancel)",
    )
    def delete(self, request: Request, job_id: str) -> Response:
        return _cancel(request, job_id)


class JobCancelApi(APIView):
    @extend_schema(
        request=None,
        responses=_CANCEL_RESPONSES,
        summary="Cancel a queued or running job (and a parent's children): stored in the ledger, then "
        "signalled to the workers",
    )
    def post(self, request: Request, job_id: str) -> Response:
        return _cancel(request, job_id)


class JobStatusApi(APIView):
    @extend_schema_serializer(component_name="JobStatus")
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
    @extend_schema_serializer(component_name="JobProgress")
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
    @extend_schema_serializer(component_name="JobResult")
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


@csrf_exempt  # it changes nothing; without this a POST would get the CSRF middleware's HTML 403 instead
def api_not_found(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body("not_found", f"No route for {request.path}."), status=404)

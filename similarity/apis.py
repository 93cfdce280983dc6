"""The synchronous similarity path (SPEC §4): every step inside the request, one after the other.

Kept for clients of the pre-queue API and as the baseline the queued flow is benchmarked against. It holds
a web worker for the whole analysis, so large sets belong on `POST /jobs/similarity/analyze`.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ErrorSerializer
from core.errors import ApplicationError, InvalidInputError
from core.fields import JsonListField, JsonObjectField, StrictInputSerializer
from jobs.throttles import SyncAnalysisRateThrottle
from similarity.services import SIMILARITY_OPTIONS_JSON_SCHEMA, similarity_validate_options
from wallets.addresses import ADDRESS_EXAMPLES, ADDRESS_JSON_SCHEMA, InvalidAddressError, validate_addresses

MIN_WALLETS = 2


class InsufficientDataError(ApplicationError):
    code = "insufficient_data"
    status = 422


def similarity_analyze_now(*, wallets: list[str], options: dict[str, Any]) -> dict[str, Any]:
    """Sync, fetch balances, compute and enrich, in sequence, in this process."""
    from enrichment.services import enrichment_enrich_balances
    from similarity.services import similarity_analyze
    from wallets.services import wallet_fetch_balances, wallet_sync

    failed: dict[str, str] = {}
    for wallet in wallets:
        try:
            wallet_sync(address=wallet)
        except Exception as exc:
            failed[wallet] = f"{type(exc).__name__}: {exc}"
    synced = [wallet for wallet in wallets if wallet not in failed]
    if len(synced) < MIN_WALLETS:
        raise InsufficientDataError(
            f"Only {len(synced)} of {len(wallets)} wallets could be synced; "
            f"similarity needs at least {MIN_WALLETS}.",
            fields={"wallets": [f"{wallet}: {error}" for wallet, error in failed.items()]},
        )
    balances = []
    for wallet in synced:
        try:
            balances.append(wallet_fetch_balances(address=wallet))
        except Exception as exc:
            failed.setdefault(wallet, f"balances: {type(exc).__name__}: {exc}")
    result = similarity_analyze(
        wallets=synced,
        failed_wallets=[{"wallet": wallet, "error": error} for wallet, error in failed.items()],
        options=options,
    )
    try:
        result["enrichment"] = enrichment_enrich_balances(job_id=f"sync-{uuid.uuid4()}", balances=balances)
    except Exception as exc:
        result["enrichment"] = {"status": "failed", "reason": f"{type(exc).__name__}: {exc}", "balances": []}
    return result


class SimilaritySyncApi(APIView):
    throttle_classes = [SyncAnalysisRateThrottle]

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        SyncAnalysisRateThrottle.record(request, response)
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema_serializer(component_name="SimilaritySyncInput")
    class InputSerializer(StrictInputSerializer):
        wallets = JsonListField(
            items_schema=ADDRESS_JSON_SCHEMA,
            min_items=MIN_WALLETS,
            max_items_setting="MAX_WALLETS_PER_JOB",
            description=f"Wallet addresses; duplicates are collapsed (at least {MIN_WALLETS} distinct).",
            example=list(ADDRESS_EXAMPLES),
        )
        options = JsonObjectField(json_schema=SIMILARITY_OPTIONS_JSON_SCHEMA, required=False, default=dict)

    @extend_schema(
        request=InputSerializer,
        responses={
            200: inline_serializer(name="SimilaritySyncResult", fields={"wallets": serializers.ListField()}),
            422: ErrorSerializer,
        },
        summary="Similarity computed inside the request (legacy, synchronous; prefer the job API)",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            wallets = validate_addresses(
                serializer.validated_data["wallets"],
                min_count=MIN_WALLETS,
                max_count=settings.MAX_WALLETS_PER_JOB,
            )
        except InvalidAddressError as exc:
            raise InvalidInputError(str(exc), fields=exc.fields or {"wallets": [str(exc)]}) from exc
        # Before any sync: an unknown or bad option must not cost the wallets' syncs first.
        options = similarity_validate_options(serializer.validated_data["options"])
        return Response(similarity_analyze_now(wallets=wallets, options=options))

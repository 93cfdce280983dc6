"""The synchronous similarity path: every step inside the request, one after the other.

Kept for clients of the pre-queue API and as the baseline the queued flow is benchmarked against. It holds
a web thread for the whole analysis, so it is bounded (`similarity_analyze_now`): at most
SYNC_ANALYSIS_MAX_WALLETS wallets, and a few calls at once per user and in total, refused with 429 before
any work; larger sets belong on `POST /jobs/similarity/analyze`.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ErrorSerializer
from core.fields import JsonListField, JsonObjectField, StrictInputSerializer
from core.throttles import SyncAnalysisRateThrottle
from similarity.services import (
    SIMILARITY_MIN_WALLETS,
    SIMILARITY_OPTIONS_JSON_SCHEMA,
    similarity_analyze_now,
)
from wallets.addresses import ADDRESS_EXAMPLES, ADDRESS_JSON_SCHEMA


class SimilaritySyncApi(APIView):
    throttle_classes = [SyncAnalysisRateThrottle]

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        SyncAnalysisRateThrottle.settle(request, response)
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema_serializer(component_name="SimilaritySyncInput")
    class InputSerializer(StrictInputSerializer):
        wallets = JsonListField(
            items_schema=ADDRESS_JSON_SCHEMA,
            min_items=SIMILARITY_MIN_WALLETS,
            max_items_setting="SYNC_ANALYSIS_MAX_WALLETS",
            beyond_max_hint="larger sets go to the job API: POST /jobs/similarity/analyze",
            description=(
                f"Wallet addresses; duplicates are collapsed (at least {SIMILARITY_MIN_WALLETS} distinct)."
            ),
            example=list(ADDRESS_EXAMPLES),
        )
        options = JsonObjectField(json_schema=SIMILARITY_OPTIONS_JSON_SCHEMA, required=False, default=dict)

    @extend_schema(
        request=InputSerializer,
        responses={
            200: inline_serializer(name="SimilaritySyncResult", fields={"wallets": serializers.ListField()}),
            422: ErrorSerializer,
        },
        summary="Similarity computed inside the request (legacy, synchronous, bounded; prefer the job API)",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = similarity_analyze_now(
            user_id=request.user.pk,
            wallets=serializer.validated_data["wallets"],
            options=serializer.validated_data["options"],
        )
        return Response(result)

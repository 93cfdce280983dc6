"""The synchronous similarity path: every step inside the request, one after the other.

Kept for clients of the pre-queue API and as the baseline the queued flow is benchmarked against. It holds
a web worker for the whole analysis, so large sets belong on `POST /jobs/similarity/analyze`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.throttles import SyncAnalysisRateThrottle
from similarity.services import SIMILARITY_MIN_WALLETS, similarity_analyze_now
from wallets.addresses import validate_addresses


class SimilaritySyncApi(APIView):
    throttle_classes = [SyncAnalysisRateThrottle]

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        SyncAnalysisRateThrottle.settle(request, response)
        return super().finalize_response(request, response, *args, **kwargs)

    class InputSerializer(serializers.Serializer):
        wallets = serializers.JSONField(help_text="2 to MAX_WALLETS_PER_JOB base58 wallet addresses")
        options = serializers.DictField(required=False, default=dict)

    @extend_schema(
        request=InputSerializer,
        responses={
            200: inline_serializer(name="SimilaritySyncResult", fields={"wallets": serializers.ListField()})
        },
        summary="Similarity computed inside the request (legacy, synchronous; prefer the job API)",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        wallets = validate_addresses(
            serializer.validated_data["wallets"],
            min_count=SIMILARITY_MIN_WALLETS,
            max_count=settings.MAX_WALLETS_PER_JOB,
        )
        return Response(similarity_analyze_now(wallets=wallets, options=serializer.validated_data["options"]))

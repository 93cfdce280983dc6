"""The synchronous similarity path: every step inside the request, one after the other.

Kept for clients of the pre-queue API and as the baseline the queued flow is benchmarked against. It holds
a web thread for the whole analysis, so it is bounded (`similarity_analyze_now`): at most
SYNC_ANALYSIS_MAX_WALLETS wallets, and a few calls at once per user and in total, refused with 429 before
any work; larger sets belong on `POST /jobs/similarity/analyze`.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.throttles import SyncAnalysisRateThrottle
from similarity.services import similarity_analyze_now


class SimilaritySyncApi(APIView):
    throttle_classes = [SyncAnalysisRateThrottle]

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        SyncAnalysisRateThrottle.settle(request, response)
        return super().finalize_response(request, response, *args, **kwargs)

    class InputSerializer(serializers.Serializer):
        wallets = serializers.JSONField(help_text="2 to SYNC_ANALYSIS_MAX_WALLETS base58 wallet addresses")
        options = serializers.DictField(
            required=False, default=dict, help_text="The job API's similarity options (unknown keys: 400)"
        )

    @extend_schema(
        request=InputSerializer,
        responses={
            200: inline_serializer(name="SimilaritySyncResult", fields={"wallets": serializers.ListField()})
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

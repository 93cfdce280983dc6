"""The application's URLs plus `POST /bench/bare`: the baseline of the submission benchmark.

The bare endpoint goes through the same DRF pipeline as `POST /jobs/similarity/analyze` (token
authentication, JSON parsing, the JSON renderer) and stops there: no validation, no ledger, no enqueue.
"""

from __future__ import annotations

from django.urls import path
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import handler404, handler500
from config.urls import urlpatterns as app_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]


class BareApi(APIView):
    def post(self, request: Request) -> Response:
        wallets = request.data.get("wallets") if isinstance(request.data, dict) else None
        return Response({"received": len(wallets or [])}, status=status.HTTP_202_ACCEPTED)


urlpatterns = [path("bench/bare", BareApi.as_view(), name="bench-bare"), *app_urlpatterns]

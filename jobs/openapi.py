"""OpenAPI generation (drf-spectacular): the error answers every view can give (the shape: core.api).

Each view documents what its own code answers; the answers that come from the framework around it are the
same everywhere, so this schema class adds them from the view's configuration instead of every view
repeating them: 400 for a body that is not valid JSON (and 415 for one that is not JSON at all), 401 for
views that need a user, 403 for staff-only views, 429 with `Retry-After` for throttled views.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.permissions import AllowAny, IsAdminUser

from core.api import ErrorSerializer

_BODY_METHODS = {"POST", "PUT", "PATCH"}


class ApiAutoSchema(AutoSchema):
    def _needs_user(self) -> bool:
        permissions = getattr(self.view, "permission_classes", [])
        return not all(permission is AllowAny for permission in permissions)

    def _staff_only(self) -> bool:
        return any(permission is IsAdminUser for permission in getattr(self.view, "permission_classes", []))

    def _throttled(self) -> bool:
        return bool(getattr(self.view, "throttle_classes", []))

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        # `@extend_schema(responses=...)` replaces get_response_serializers, so the additions go here.
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        extra: list[int] = []
        if self.method in _BODY_METHODS and self.get_request_serializer() is not None:
            extra += [400, 415]
        if self._needs_user():
            extra.append(401)
        if self._staff_only():
            extra.append(403)
        if self._throttled():
            extra.append(429)
        for code in extra:
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    ErrorSerializer, str(code), direction=direction
                )
        return responses

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self._throttled():
            parameters.append(
                OpenApiParameter(
                    "Retry-After",
                    OpenApiTypes.INT,
                    location=OpenApiParameter.HEADER,
                    response=[429],
                    description="Seconds until the throttle lets this user submit again",
                )
            )
        return parameters


class MonitoringTokenScheme(OpenApiAuthenticationExtension):
    """The monitoring endpoints' `Authorization: Bearer <MONITORING_TOKEN>` (core/monitoring_access.py)."""

    target_class = "core.monitoring_access.MonitoringTokenAuthentication"
    name = "monitoringToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "MONITORING_TOKEN (monitoring endpoints only; staff users and allow-listed "
            "addresses need none)",
        }

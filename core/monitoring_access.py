"""Who may read the monitoring endpoints (health details, queue statistics, metrics).

They carry no user data, but they cost work and describe the deployment, so only three kinds of caller get
them: staff users (token or session), a monitoring system sending `Authorization: Bearer <MONITORING_TOKEN>`
(Prometheus's `authorization` scrape option), and connections from MONITORING_ALLOWED_IPS. The allow-list
checks the connection's own address (REMOTE_ADDR), never a forwarded-for header, which the client writes.
A caller with none of these gets 401; a signed-in user who is not staff gets 403.
"""

from __future__ import annotations

import hmac
import ipaddress
from functools import lru_cache
from typing import Any

from django.conf import settings
from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    TokenAuthentication,
    get_authorization_header,
)
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

# What `request.auth` holds for a caller that sent the monitoring token (it is no user).
MONITORING_CREDENTIAL = "monitoring-token"


class MonitoringTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <MONITORING_TOKEN>`. Other schemes are left to the next authenticator."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        expected = settings.MONITORING_TOKEN.encode()
        if len(parts) != 2 or not expected or not hmac.compare_digest(parts[1], expected):
            raise AuthenticationFailed("Invalid monitoring token.")
        return None, MONITORING_CREDENTIAL

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="monitoring"'


MONITORING_AUTHENTICATION = [MonitoringTokenAuthentication, TokenAuthentication, SessionAuthentication]


@lru_cache(maxsize=8)
def _networks(
    allowed: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(network, strict=False) for network in allowed)


def _connection_allowed(request: Request) -> bool:
    if not settings.MONITORING_ALLOWED_IPS:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in _networks(tuple(settings.MONITORING_ALLOWED_IPS)))


class MonitoringAccess(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.auth == MONITORING_CREDENTIAL:
            return True
        user = request.user
        if user is not None and user.is_authenticated and user.is_staff:
            return True
        return _connection_allowed(request)

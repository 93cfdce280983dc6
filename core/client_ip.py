"""The address a request came from, as the login limits count it (settings.CLIENT_IP_HEADER)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip_address(request: HttpRequest) -> str | None:
    """The proxy's header when one is configured (behind a proxy every connection comes from the proxy),
    else the connection's own address. Only a header the proxy overwrites may be trusted: a client can send
    any header it likes."""
    header = settings.CLIENT_IP_HEADER
    if header:
        value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "").strip()
        if value:
            return value
    return request.META.get("REMOTE_ADDR")

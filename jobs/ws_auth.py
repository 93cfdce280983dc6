"""WebSocket authentication: the API token (header or `?token=`), else the Django session."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import validate_host
from rest_framework.authtoken.models import Token


@database_sync_to_async
def _user_for_token(key: str) -> Any:
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


def _token_from_scope(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, key = value.decode("latin-1").partition(" ")
            if scheme.lower() in {"token", "bearer"} and key.strip():
                return key.strip()
    # Browsers cannot set headers on a WebSocket; non-browser clients without header support use the query.
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    tokens = query.get("token")
    return tokens[0] if tokens else None


def _origin_allowed(scope: dict[str, Any]) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            host = urlparse(value.decode("latin-1")).hostname or ""
            return validate_host(host, settings.ALLOWED_HOSTS or ["localhost", "127.0.0.1"])
    return False


class TokenAuthMiddleware(BaseMiddleware):
    """A token authenticates on its own; a session cookie only from an allowed Origin.

    The Origin check guards cookie sessions against cross-site WebSocket hijacking; a token cannot be
    sent by another site's page, so token clients need no Origin header.
    """

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        key = _token_from_scope(scope)
        if key:
            scope = {**scope, "user": await _user_for_token(key)}
        elif not _origin_allowed(scope):
            scope = {**scope, "user": AnonymousUser()}
        return await super().__call__(scope, receive, send)


def JobAuthMiddlewareStack(inner: Any) -> Any:
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))

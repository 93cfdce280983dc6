"""WebSocket authentication: the API token (header or `?token=`), else the Django session."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain
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


_DEFAULT_PORTS = {"http": 80, "https": 443}
OriginKey = tuple[str, str, int]


def _origin_key(origin: str) -> OriginKey | None:
    """(scheme, host, port) of a browser Origin such as `https://app.example.com:8443`; None for anything
    else (`null`, a path, a port that is not a number)."""
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.path or parts.query or parts.username:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _is_secure(scope: dict[str, Any]) -> bool:
    """Like Django's `request.is_secure()`: the proxy's header when SECURE_PROXY_SSL_HEADER names one and
    the proxy sent it, else the connection's own scheme."""
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        meta_name, secure_value = proxy_header
        sent = _header(scope, meta_name.removeprefix("HTTP_").lower().replace("_", "-").encode())
        if sent is not None:
            return sent.split(",")[0].strip() == secure_value
    return scope.get("scheme") == "wss"


def _own_origin(scope: dict[str, Any]) -> OriginKey | None:
    """The origin the socket itself was opened on, when its Host is one of ALLOWED_HOSTS."""
    host = _header(scope, b"host")
    if not host:
        return None
    domain, _ = split_domain_port(host)
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
    if not domain or not validate_host(domain, allowed_hosts):
        return None
    return _origin_key(f"{'https' if _is_secure(scope) else 'http'}://{host}")


def _origin_allowed(scope: dict[str, Any]) -> bool:
    """The same rule as Django's CSRF check for a form POST: the Origin is the socket's own origin or one of
    CSRF_TRUSTED_ORIGINS (`https://*.example.com` covers subdomains), scheme, host and port alike."""
    origin = _header(scope, b"origin")
    key = _origin_key(origin) if origin is not None else None
    if origin is None or key is None:
        return False
    if key == _own_origin(scope):
        return True
    netloc = urlsplit(origin).netloc
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        if "*" in trusted:
            scheme, _, pattern = trusted.partition("://")
            if scheme.lower() == key[0] and is_same_domain(netloc, pattern.lstrip("*")):
                return True
        elif _origin_key(trusted) == key:
            return True
    return False


class TokenAuthMiddleware(BaseMiddleware):
    """A token authenticates on its own; a session cookie only from an allowed Origin (`_origin_allowed`).

    The Origin check guards cookie sessions against cross-site WebSocket hijacking: browsers send cookies
    with a WebSocket handshake from any page, and a page on another port or scheme of the same host is
    another origin. A token cannot be sent by another site's page, so token clients need no Origin header.
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

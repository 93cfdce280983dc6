"""A session cookie authenticates on the job-progress WebSocket only from an allowed Origin: the socket's own
origin (its Host, with https when the connection or the TLS proxy says so) or one of CSRF_TRUSTED_ORIGINS,
scheme, host and port alike (the hostname alone passed before: any port, any scheme). Through channels'
communicator on the whole ASGI application.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.test import Client

from config.asgi import application
from tests.support.asgi import close_consumer_connections, token_headers

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/ws/job-progress/"


@pytest.fixture(autouse=True)
def _close_consumer_connections() -> Iterator[None]:
    yield
    close_consumer_connections()


@pytest.fixture
def owner() -> User:
    return get_user_model().objects.create_user(username="ws-origin", password="pw-for-tests")


def _session_headers(user: User, *, origin: str | None, host: str, forwarded_proto: str | None = None) -> Any:
    browser = Client()
    browser.force_login(user)
    headers = [
        (b"host", host.encode()),
        (b"cookie", f"sessionid={browser.cookies['sessionid'].value}".encode()),
    ]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if forwarded_proto is not None:
        headers.append((b"x-forwarded-proto", forwarded_proto.encode()))
    return headers


def _connects(headers: list[tuple[bytes, bytes]]) -> bool:
    async def attempt() -> bool:
        communicator = WebsocketCommunicator(application, PATH, headers=headers)
        connected, _ = await communicator.connect(timeout=10)
        await communicator.disconnect()
        return bool(connected)

    return asyncio.run(attempt())


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        ("http://localhost:8001", "localhost:8001", True),  # the socket's own origin
        ("http://LOCALHOST:8001", "localhost:8001", True),  # hostnames are case-insensitive
        ("http://127.0.0.1:8000", "127.0.0.1:8001", True),  # a trusted origin (CSRF_TRUSTED_ORIGINS)
        ("http://localhost:9999", "localhost:8001", False),  # wrong port
        ("https://localhost:8001", "localhost:8001", False),  # wrong scheme
        ("http://127.0.0.1:8080", "127.0.0.1:8001", False),  # the trusted host on another port
        ("https://127.0.0.1:8000", "127.0.0.1:8001", False),  # the trusted origin's host and port, over https
        ("http://evil.example:8001", "localhost:8001", False),
        ("http://evil.example", "evil.example", False),  # same origin, but a host not in ALLOWED_HOSTS
        ("null", "localhost:8001", False),
        (None, "localhost:8001", False),
        ("http://localhost:8001:1", "localhost:8001", False),
    ],
)
def test_a_session_authenticates_only_from_an_allowed_origin(
    owner: User, settings: Any, origin: str | None, host: str, allowed: bool
) -> None:
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    settings.CSRF_TRUSTED_ORIGINS = ["http://127.0.0.1:8000"]
    assert _connects(_session_headers(owner, origin=origin, host=host)) is allowed


def test_behind_a_tls_proxy_the_origin_is_https(owner: User, settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["localhost"]
    settings.CSRF_TRUSTED_ORIGINS = []
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    https = {"origin": "https://localhost:8443", "host": "localhost:8443"}
    assert _connects(_session_headers(owner, **https, forwarded_proto="https"))
    assert not _connects(_session_headers(owner, **https))  # the proxy did not say https
    assert not _connects(
        _session_headers(
            owner, origin="http://localhost:8443", host="localhost:8443", forwarded_proto="https"
        )
    )


def test_a_wildcard_trusted_origin_covers_subdomains_on_its_scheme_and_port(
    owner: User, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = [".example.com"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.example.com"]
    host = "ws.example.com:8001"
    assert _connects(_session_headers(owner, origin="https://app.example.com", host=host))
    assert not _connects(_session_headers(owner, origin="http://app.example.com", host=host))
    assert not _connects(_session_headers(owner, origin="https://app.example.com:444", host=host))
    assert not _connects(_session_headers(owner, origin="https://example.org", host=host))


def test_a_token_needs_no_origin(owner: User) -> None:
    assert _connects([*token_headers(owner), (b"origin", b"http://anywhere.example:1")])

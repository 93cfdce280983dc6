"""Helpers for driving the ASGI application in-process with channels' communicator."""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.db import connections
from rest_framework.authtoken.models import Token


def token_headers(user: User) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Token {Token.objects.create(user=user).key}".encode())]


def close_consumer_connections() -> None:
    """Consumers' database calls run on asgiref's one sync thread, whose connection would outlive a test (and
    keep the test database from being dropped)."""
    asyncio.run(sync_to_async(connections.close_all)())

"""Health with Redis down: the endpoint still answers, fast, and says unhealthy."""

from __future__ import annotations

import socket
import time

import pytest
from rest_framework.test import APIClient

from jobs import monitoring

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("cache_s", [0, 5])
def test_health_is_unhealthy_and_fast_with_redis_down(settings, cache_s: float) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.HEALTH_CACHE_S = cache_s  # 5: the shared cache is down too, and each process keeps its own
    settings.MONITORING_ALLOWED_IPS = ["127.0.0.1"]
    monitoring.monitoring_cache_clear()
    started = time.monotonic()
    response = APIClient(REMOTE_ADDR="127.0.0.1").get("/health/queues")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["redis"]["ok"] is False and body["database"]["ok"] is True
    assert "redis unavailable" in body["problems"]
    assert elapsed < 3.0


def test_broker_lists_cover_every_priority_step() -> None:
    lists = monitoring.broker_lists("wallet-operations")
    assert lists[0] == "wallet-operations" and lists[-1] == "wallet-operations:9" and len(lists) == 10

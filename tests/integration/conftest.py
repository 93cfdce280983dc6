"""Integration fixtures: the real stack (four queue workers, gunicorn, daphne) on real Redis and PostgreSQL.

`./scripts/test` starts Redis and PostgreSQL and exports REDIS_URL and DATABASE_URL; the stack's processes
use pytest-django's test database, so tests can read what the workers wrote through the ORM.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from tests.support.stack import Stack

# What the tests send to read the stack's health, statistics and metrics (`Authorization: Bearer …`).
MONITORING_TOKEN = "integration-tests-monitoring-token"
MONITORING_HEADERS = {"Authorization": f"Bearer {MONITORING_TOKEN}"}


def _require_services() -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("integration tests need PostgreSQL: run ./scripts/test (it starts PostgreSQL and Redis)")
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"integration tests need Redis at {settings.REDIS_URL}: {exc}; run ./scripts/test")


def _database_url() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )


@pytest.fixture(scope="session")
def live_stack(django_db_setup: None, django_db_blocker: object, artifacts_dir: Path) -> Iterator[Stack]:
    _require_services()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "SIMULATED_LATENCY_MS": os.environ.get("TEST_SIMULATED_LATENCY_MS", "20"),
        "LOG_LEVEL": "INFO",
        # Short recovery windows so the stalled sweep's re-drives fit in a test run; production defaults are
        # the queue's hard limit plus a minute and ten minutes.
        "JOB_STALL_TIMEOUT_S": "20",
        "JOB_QUEUED_LOST_AFTER_S": "20",
        "STALLED_SWEEP_INTERVAL_S": "2",
        # and a killed sync's wallet lock frees itself before the re-drive's sync needs it.
        "WALLET_SYNC_LOCK_TTL_S": "15",
        # Retries inside a call still happen, only closer together, so a permanently failing upstream
        # exhausts them (and the tasks' attempts) in a test's time.
        "UPSTREAM_RETRY_BACKOFF_S": "0.05",
        # Heavy bots' histories deepen to a cap a test can wait for (ordinary wallets stay far below it).
        "WALLET_HISTORY_MAX_SIGNATURES": "3000",
        "MONITORING_TOKEN": MONITORING_TOKEN,
        "PYTHONUNBUFFERED": "1",
    }
    stack = Stack(env=env, log_dir=artifacts_dir / "logs")
    try:
        stack.start(beat=True)
        yield stack
    finally:
        stack.stop()


@dataclass(frozen=True)
class ApiUser:
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


def make_api_user(prefix: str = "user") -> ApiUser:
    user = get_user_model().objects.create_user(
        username=f"{prefix}-{uuid.uuid4().hex[:8]}", password="pw-for-tests"
    )
    token = Token.objects.create(user=user)
    return ApiUser(user.username, token.key)


@pytest.fixture
def api_user(transactional_db: None) -> ApiUser:
    return make_api_user()

"""Monitoring endpoints (issue 15, item 3): behind a token, an allow-list or a staff login, except the
liveness answer; each report computed once per cache period however many callers ask at once."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.metrics import metric_counters
from jobs import monitoring
from tests.support.parallel import run_in_parallel

TOKEN = "monitoring-token-for-the-tests-0123456789"
PROTECTED = ["/health/queues", "/jobs/queues", "/jobs/queue/wallet-operations/stats", "/metrics"]


@pytest.fixture(autouse=True)
def monitoring_access(settings: Any) -> None:
    settings.MONITORING_TOKEN = TOKEN
    settings.MONITORING_ALLOWED_IPS = ["10.20.0.0/16", "192.0.2.7"]
    monitoring.monitoring_cache_clear()


def _user_client(*, staff: bool) -> APIClient:
    user = get_user_model().objects.create_user(username=f"ops-{uuid.uuid4().hex[:8]}", is_staff=staff)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("path", PROTECTED)
def test_anonymous_callers_are_refused_in_the_error_shape(path: str) -> None:
    response = APIClient().get(path)

    assert response.status_code == 401, response.content
    assert response.json()["error"]["code"] == "not_authenticated"
    assert set(response.json()["error"]) == {"code", "message", "fields"}


@pytest.mark.django_db
def test_the_liveness_answer_stays_open() -> None:
    response = APIClient().get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", PROTECTED)
def test_the_monitoring_token_opens_every_endpoint(path: str) -> None:
    assert APIClient().get(path, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert APIClient().get(path, HTTP_AUTHORIZATION=f"Bearer {TOKEN}x").status_code == 401
    assert APIClient().get(path, HTTP_AUTHORIZATION="Bearer").status_code == 401


@pytest.mark.django_db
def test_an_empty_token_setting_opens_nothing(settings: Any) -> None:
    settings.MONITORING_TOKEN = ""
    assert APIClient().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401
    assert APIClient().get("/metrics", HTTP_AUTHORIZATION="Bearer").status_code == 401


@pytest.mark.django_db
def test_allow_listed_addresses_pass_and_others_do_not() -> None:
    assert APIClient(REMOTE_ADDR="10.20.3.4").get("/metrics").status_code == 200
    assert APIClient(REMOTE_ADDR="192.0.2.7").get("/jobs/queues").status_code == 200
    assert APIClient(REMOTE_ADDR="10.21.0.1").get("/metrics").status_code == 401
    # A forwarded-for header is the client's word, not the connection's: it opens nothing.
    assert (
        APIClient(REMOTE_ADDR="10.21.0.1").get("/metrics", HTTP_X_FORWARDED_FOR="10.20.3.4").status_code
        == 401
    )


@pytest.mark.django_db
def test_staff_pass_and_other_users_are_forbidden() -> None:
    assert _user_client(staff=True).get("/jobs/queues").status_code == 200
    refused = _user_client(staff=False).get("/jobs/queues")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"

    session = APIClient()
    session.force_login(get_user_model().objects.create_user(username="ops-staff", is_staff=True))
    assert session.get("/metrics").status_code == 200


def _computations(report: str) -> int:
    return sum(
        value
        for name, labels, value in metric_counters()
        if name == "monitoring_computations_total" and labels.get("report") == report
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("path", "report"), [("/jobs/queues", "queues"), ("/health/queues", "health"), ("/metrics", "metrics")]
)
def test_concurrent_callers_share_one_computation(live_server: Any, path: str, report: str) -> None:
    before = _computations(report)

    responses = run_in_parallel(
        12,
        lambda _: requests.get(
            f"{live_server.url}{path}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
        ),
    )

    assert [r.status_code for r in responses] == [200] * 12
    assert len({r.content for r in responses}) == 1
    assert _computations(report) - before == 1

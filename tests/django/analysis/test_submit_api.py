"""`POST /jobs/analysis/pnl` and `/behavior`: validation, answer shape, deduplication."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobs.models import Job
from tests.django.analysis.conftest import address

pytestmark = pytest.mark.django_db

URLS = ("/jobs/analysis/pnl", "/jobs/analysis/behavior")


@pytest.fixture
def client() -> APIClient:
    user = get_user_model().objects.create_user(username="bob")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "wallet"),
        ({"wallet": "not-base58-0OIl"}, "wallet"),
        ({"wallet": "3" * 20}, "wallet"),
        ({"wallet": 12345}, "wallet"),
        ({"wallet": [address(1)]}, "wallet"),
        ({"wallet": address(1), "force": "maybe"}, "force"),
        ({"wallet": address(1), "history": "deep"}, "history"),
        ({"wallet": address(1), "history": True}, "history"),
    ],
)
def test_bad_input_is_400_naming_the_field(client: APIClient, url: str, payload: dict, field: str) -> None:
    response = client.post(url, payload, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == "invalid_input" and body["error"]["message"]
    assert list(body["error"]["fields"]) == [field]
    assert not Job.objects.exists()


def test_unauthenticated_is_401() -> None:
    response = APIClient().post(URLS[0], {"wallet": address(1)}, format="json")
    assert response.status_code == 401


def test_submit_answers_202_then_200_for_the_same_request(client: APIClient) -> None:
    wallet = address(2)
    first = client.post(URLS[0], {"wallet": f"  {wallet} "}, format="json")
    assert first.status_code == 202, first.content
    body = first.json()
    assert body["deduplicated"] is False and body["status"] == "queued"
    assert body["queue"] == "analysis-operations" and body["wallet_count"] == 1
    assert body["links"]["result"] == f"/jobs/{body['job_id']}/result"
    job = Job.objects.get(id=body["job_id"])
    assert job.kind == "pnl" and job.params == {"wallet": wallet, "force": False}

    again = client.post(URLS[0], {"wallet": wallet}, format="json")
    assert again.status_code == 200 and again.json()["job_id"] == body["job_id"]
    assert again.json()["deduplicated"] is True

    behavior = client.post(URLS[1], {"wallet": wallet}, format="json")
    assert behavior.status_code == 202 and behavior.json()["job_id"] != body["job_id"]
    assert Job.objects.get(id=behavior.json()["job_id"]).kind == "behavior"


def test_forced_submission_is_its_own_job(client: APIClient) -> None:
    wallet = address(3)
    plain = client.post(URLS[0], {"wallet": wallet}, format="json").json()
    forced = client.post(URLS[0], {"wallet": wallet, "force": True}, format="json")
    assert forced.status_code == 202 and forced.json()["job_id"] != plain["job_id"]
    assert Job.objects.get(id=forced.json()["job_id"]).params["force"] is True


@pytest.mark.parametrize("url", [*URLS, "/jobs/wallets/sync"])
def test_history_full_is_its_own_job_and_initial_is_the_default(client: APIClient, url: str) -> None:
    wallet = address(3)
    plain = client.post(url, {"wallet": wallet}, format="json").json()
    initial = client.post(url, {"wallet": wallet, "history": "initial"}, format="json")
    full = client.post(url, {"wallet": wallet, "history": "full"}, format="json")

    assert initial.status_code == 200 and initial.json()["job_id"] == plain["job_id"]
    assert full.status_code == 202 and full.json()["job_id"] != plain["job_id"]
    assert Job.objects.get(id=plain["job_id"]).params == {"wallet": wallet, "force": False}
    assert Job.objects.get(id=full.json()["job_id"]).params == {
        "wallet": wallet,
        "force": False,
        "history": "full",
    }

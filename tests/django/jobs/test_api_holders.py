"""POST /jobs/token-holders/analyze without workers: the 202/200 contract, canonical parameters, ownership
and every bad input a 400 naming its field (nothing queued)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobs import dispatch
from jobs.models import Job

pytestmark = pytest.mark.django_db

MINT = "Gj6CLfWkvL9dKSL1ENahP5m7RGeY5W6r4ZzuvAqNsfrm"
URL = "/jobs/token-holders/analyze"


@pytest.fixture(autouse=True)
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What would be enqueued, recorded instead of sent: no worker runs here."""
    queued: list[str] = []
    monkeypatch.setattr(dispatch, "job_enqueue", lambda job: queued.append(str(job.id)))
    return queued


def client(username: str) -> APIClient:
    user = get_user_model().objects.create_user(username=username)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


def post(api: APIClient, body: Any) -> Any:
    return api.post(URL, body, format="json")


def test_a_mint_is_accepted_with_default_counts_and_an_identical_submission_gets_the_same_job(
    sent: list[str], django_capture_on_commit_callbacks: Any
) -> None:
    api = client("holders-owner")
    with django_capture_on_commit_callbacks(execute=True):
        first = post(api, {"mint": f"  {MINT} "})
    assert first.status_code == 202, first.content
    answer = first.json()
    assert answer["queue"] == "similarity-operations" and answer["deduplicated"] is False
    assert answer["wallet_count"] == 100  # at most 50 holders + 50 first buyers
    job = Job.objects.get(id=answer["job_id"])
    assert job.kind == Job.Kind.TOKEN_HOLDERS
    assert job.params == {"mint": MINT, "top": 50, "early": 50}
    assert sent == [str(job.id)]

    again = post(api, {"mint": MINT, "top": 50, "early": 50})
    assert again.status_code == 200 and again.json()["job_id"] == str(job.id)
    assert again.json()["deduplicated"] is True
    other = post(api, {"mint": MINT, "top": 200, "early": 1})
    assert other.status_code == 202 and other.json()["wallet_count"] == 201
    stranger = post(client("holders-stranger"), {"mint": MINT})
    assert stranger.status_code == 202 and stranger.json()["job_id"] != str(job.id)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"mint": "0OIl-not-base58"}, "mint", "is not base58"),
        ({"mint": "3" * 20}, "mint", "decodes to"),
        ({"mint": 12345}, "mint", "must be a string"),
        ({}, "mint", "required"),
        ({"mint": MINT, "top": 0}, "top", "from 1 to 200"),
        ({"mint": MINT, "top": 201}, "top", "from 1 to 200"),
        ({"mint": MINT, "top": "50"}, "top", "from 1 to 200"),
        ({"mint": MINT, "top": True}, "top", "from 1 to 200"),
        ({"mint": MINT, "top": 1.5}, "top", "from 1 to 200"),
        ({"mint": MINT, "top": None}, "top", "null"),
        ({"mint": MINT, "early": -1}, "early", "from 1 to 200"),
        ({"mint": MINT, "force": "true"}, "force", "valid boolean"),
        ({"mint": MINT, "wallets": []}, "wallets", "unknown field"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_queues_nothing(
    body: dict[str, Any], field: str, words: str, sent: list[str]
) -> None:
    response = post(client("holders-bad"), body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert field in error["fields"], error
    assert words in " ".join(error["fields"][field]) or words in error["message"], error
    assert sent == [] and not Job.objects.exists()


def test_an_integral_number_counts_like_an_integer() -> None:
    response = post(client("holders-float"), {"mint": MINT, "top": 20.0, "early": 3})
    assert response.status_code == 202, response.content
    assert Job.objects.get(id=response.json()["job_id"]).params == {"mint": MINT, "top": 20, "early": 3}

"""The synchronous similarity path: all steps in the request, same result shape as the job's."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.throttles import submit_throttle_reset
from wallets.simulated_market import SimulatedMarket

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> APIClient:
    user = get_user_model().objects.create_user(username="sync-user")
    submit_throttle_reset(user_id=user.pk)
    token = Token.objects.create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api


def test_synchronous_similarity_returns_the_full_result(client: APIClient) -> None:
    family = SimulatedMarket(seed=0).families()[0].members[:3]
    response = client.post("/analyses/similarity", {"wallets": family}, format="json")
    assert response.status_code == 200, response.content
    result = response.json()
    assert sorted(result["wallets"]) == sorted(family)
    assert len(result["matrices"]["combined"]) == 3
    assert result["enrichment"]["status"] == "completed"
    assert result["pairs"] and result["pairs"][0]["combined"] > 0


def test_synchronous_similarity_refuses_bad_input(client: APIClient) -> None:
    response = client.post("/analyses/similarity", {"wallets": ["nope"]}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "wallets[0]": response.json()["error"]["fields"]["wallets[0]"]
    }


def test_synchronous_analyses_spend_the_submission_budget_successes_included(
    client: APIClient, settings: Any
) -> None:
    settings.SUBMIT_THROTTLE_RATE = "1/minute"
    family = SimulatedMarket(seed=0).families()[0].members[:2]
    assert client.post("/analyses/similarity", {"wallets": family}, format="json").status_code == 200

    refused = client.post("/analyses/similarity", {"wallets": family}, format="json")

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert int(refused["Retry-After"]) >= 1

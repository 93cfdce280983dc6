"""Bad input on the submit endpoint gets 400 with `{error: {code, message, fields}}`; no auth gets 401."""

from __future__ import annotations

import base58
import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

URL = "/jobs/similarity/analyze"
VALID_A = base58.b58encode(bytes(range(32))).decode()
VALID_B = base58.b58encode(bytes(range(1, 33))).decode()
SHORT_KEY = base58.b58encode(bytes(31)).decode().replace("1", "2")


@pytest.fixture
def client() -> APIClient:
    user = get_user_model().objects.create_user(username="alice")
    token = Token.objects.create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api


def _assert_error_shape(body: dict, code: str) -> None:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"wallets": []}, "wallets"),
        ({"wallets": [VALID_A]}, "wallets"),
        ({"wallets": [VALID_A, VALID_A]}, "wallets"),
        ({"wallets": [VALID_A, "not-base58-0OIl"]}, "wallets[1]"),
        ({"wallets": [VALID_A, SHORT_KEY]}, "wallets[1]"),
        ({"wallets": VALID_A}, "wallets"),
        ({"wallets": {"a": VALID_A}}, "wallets"),
        ({"wallets": [VALID_A, 12345]}, "wallets[1]"),
        ({}, "wallets"),
        ({"wallets": [VALID_A, VALID_B], "force": "maybe"}, "force"),
        ({"wallets": [VALID_A, VALID_B], "options": [1, 2]}, "options"),
    ],
)
def test_bad_input_is_400_naming_the_field(client: APIClient, payload: dict, field: str) -> None:
    response = client.post(URL, payload, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    _assert_error_shape(body, "invalid_input")
    assert field in body["error"]["fields"], body


def test_malformed_json_is_400(client: APIClient) -> None:
    response = client.post(URL, data='{"wallets": [', content_type="application/json")
    assert response.status_code == 400
    _assert_error_shape(response.json(), "malformed_json")


def test_too_many_wallets_is_400(client: APIClient, settings) -> None:
    settings.MAX_WALLETS_PER_JOB = 3
    wallets = [base58.b58encode(bytes([i]) * 32).decode() for i in range(1, 5)]
    response = client.post(URL, {"wallets": wallets}, format="json")
    assert response.status_code == 400
    _assert_error_shape(response.json(), "invalid_input")


def test_unauthenticated_is_401() -> None:
    response = APIClient().post(URL, {"wallets": [VALID_A, VALID_B]}, format="json")
    assert response.status_code == 401
    _assert_error_shape(response.json(), "not_authenticated")


def test_bad_token_is_401() -> None:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token nope")
    response = api.post(URL, {"wallets": [VALID_A, VALID_B]}, format="json")
    assert response.status_code == 401
    _assert_error_shape(response.json(), "authentication_failed")


def test_valid_submission_is_accepted_and_duplicates_collapse(client: APIClient) -> None:
    response = client.post(URL, {"wallets": [VALID_A, VALID_B, VALID_A]}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["wallet_count"] == 2 and body["deduplicated"] is False and body["status"] == "queued"
    again = client.post(URL, {"wallets": [VALID_B, VALID_A]}, format="json")
    assert again.status_code == 200 and again.json()["job_id"] == body["job_id"]


def test_unknown_and_malformed_job_ids_are_404(client: APIClient) -> None:
    for job_id in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        response = client.get(f"/jobs/{job_id}")
        assert response.status_code == 404
        _assert_error_shape(response.json(), "not_found")

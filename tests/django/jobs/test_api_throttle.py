"""Per-user submission throttle: 429 in the error shape with Retry-After; what counts and what does not."""

from __future__ import annotations

import hashlib
from typing import Any

import base58
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.throttles import submit_throttle_reset

pytestmark = pytest.mark.django_db

URL = "/jobs/wallets/sync"


def address(seed: int) -> str:
    return base58.b58encode(hashlib.sha256(f"throttle-{seed}".encode()).digest()).decode()


def _client(username: str) -> tuple[User, APIClient]:
    user = get_user_model().objects.create_user(username=username)
    submit_throttle_reset(user_id=user.pk)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return user, api


@pytest.fixture(autouse=True)
def rate(settings: Any) -> None:
    settings.SUBMIT_THROTTLE_RATE = "3/minute"


def test_fourth_counted_submission_is_refused_with_retry_after() -> None:
    _, api = _client("busy")
    for seed in range(3):
        assert api.post(URL, {"wallet": address(seed)}, format="json").status_code == 202
    refused = api.post(URL, {"wallet": address(9)}, format="json")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert set(refused.json()["error"]) == {"code", "message", "fields"}
    assert 1 <= int(refused["Retry-After"]) <= 60
    # Every submit endpoint shares the one budget; reads are not throttled.
    assert api.post("/jobs/analysis/pnl", {"wallet": address(1)}, format="json").status_code == 429
    assert api.get("/jobs").status_code == 200
    # Another user has a budget of their own.
    _, other = _client("calm")
    assert other.post(URL, {"wallet": address(0)}, format="json").status_code == 202


def test_deduplicated_submissions_are_not_counted_but_invalid_ones_are() -> None:
    _, api = _client("repeater")
    assert api.post(URL, {"wallet": address(0)}, format="json").status_code == 202
    for _ in range(10):
        assert api.post(URL, {"wallet": address(0)}, format="json").status_code == 200
    assert api.post(URL, {"wallet": "nope"}, format="json").status_code == 400
    assert api.post(URL, {"wallet": address(1)}, format="json").status_code == 202
    assert api.post(URL, {"wallet": address(2)}, format="json").status_code == 429


def test_an_empty_rate_turns_the_throttle_off(settings: Any) -> None:
    settings.SUBMIT_THROTTLE_RATE = ""
    _, api = _client("unlimited")
    assert all(api.post(URL, {"wallet": address(s)}, format="json").status_code == 202 for s in range(5))

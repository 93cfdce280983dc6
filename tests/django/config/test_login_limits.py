"""Login forms (the Lab's and the admin's) lock a username out on an address after too many wrong passwords.

The limit and the cool-off are settings (LOGIN_FAILURE_LIMIT, LOGIN_COOLOFF_S); API tokens never pass
through a login form, so they keep working.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token

from tests.support.stack import wait_for

pytestmark = pytest.mark.django_db

PASSWORD = "the-right-password"


@pytest.fixture
def staff_user():
    return get_user_model().objects.create_user(
        username="operator", password=PASSWORD, is_staff=True, is_superuser=True
    )


def _login(client: Client, path: str, password: str, address: str = "203.0.113.7") -> int:
    response = client.post(path, {"username": "operator", "password": password}, REMOTE_ADDR=address)
    return int(response.status_code)


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_too_many_wrong_passwords_lock_the_login_out_even_with_the_right_one(staff_user, path: str) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, path, "wrong") == 200  # the form again, with its error
    assert _login(client, path, "wrong") == 429
    refused = client.post(path, {"username": "operator", "password": PASSWORD}, REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 429
    assert b"Too many failed sign-ins" in refused.content
    assert "_auth_user_id" not in client.session
    # Another address is not locked out: nobody can lock a user out from elsewhere.
    assert _login(Client(), path, PASSWORD, address="198.51.100.9") == 302


@override_settings(AXES_COOLOFF_TIME=timedelta(seconds=2))
def test_the_lockout_ends_after_the_cool_off(staff_user) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "/accounts/login/", "wrong")
    assert _login(client, "/accounts/login/", PASSWORD) == 429
    from axes.models import AccessAttempt

    # Every attempt during the lockout starts the cool-off again, so wait on the record, then try once.
    wait_for(
        lambda: (
            not AccessAttempt.objects.filter(
                attempt_time__gt=timezone.now() - settings.AXES_COOLOFF_TIME
            ).exists()
        ),
        timeout_s=15,
        what="the cool-off to pass",
    )
    assert _login(Client(), "/accounts/login/", PASSWORD) == 302


@override_settings(CLIENT_IP_HEADER="X-Real-IP")
def test_behind_a_proxy_the_proxys_client_address_is_counted(staff_user) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/accounts/login/",
            {"username": "operator", "password": "wrong"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_REAL_IP="203.0.113.7",
        )
    locked = client.post(
        "/accounts/login/",
        {"username": "operator", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_REAL_IP="203.0.113.7",
    )
    assert locked.status_code == 429
    # Another client behind the same proxy still signs in.
    other = Client().post(
        "/accounts/login/",
        {"username": "operator", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_REAL_IP="198.51.100.9",
    )
    assert other.status_code == 302


def test_api_tokens_keep_working_for_a_locked_out_user(staff_user) -> None:
    token = Token.objects.create(user=staff_user)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(Client(), "/accounts/login/", "wrong")
    assert _login(Client(), "/accounts/login/", PASSWORD) == 429
    response = Client().get("/jobs", HTTP_AUTHORIZATION=f"Token {token.key}", REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 200

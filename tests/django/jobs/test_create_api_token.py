"""create_api_token prints a token (creating the user on request) and refuses bad input in one line."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("create_api_token", *args, stdout=out)
    return out.getvalue().strip()


def test_creates_the_user_and_prints_a_stable_token() -> None:
    key = _run("alice", "--create-user")
    assert Token.objects.get(user__username="alice").key == key
    assert _run("alice") == key  # asked again: the same token
    rotated = _run("alice", "--rotate")
    assert rotated != key and Token.objects.get(user__username="alice").key == rotated


def test_staff_and_password_options() -> None:
    _run("ops", "--create-user", "--staff", "--password", "s3cret")
    user = get_user_model().objects.get(username="ops")
    assert user.is_staff and user.is_superuser and user.check_password("s3cret")


@pytest.mark.parametrize(
    ("args", "message"),
    [(("nobody",), "no user named 'nobody'; pass --create-user"), (("  ",), "username must not be empty")],
)
def test_bad_input_is_a_clear_error(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        _run(*args)

"""FLOWER_BASIC_AUTH must name at least one user with a password; anything else is refused."""

from __future__ import annotations

import pytest

from config.flower import parse_basic_auth


def test_one_or_more_users_with_passwords_are_accepted() -> None:
    assert parse_basic_auth("admin:s3cret") == ["admin:s3cret"]
    assert parse_basic_auth("admin:s3cret, ops:pass:with:colons") == ["admin:s3cret", "ops:pass:with:colons"]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("admin", "entry 1 has no ':'"),
        (":s3cret", "entry 1 has an empty user"),
        ("admin:", "entry 1 has an empty password"),
        ("admin:s3cret,", "entry 2 has no ':'"),
        ("admin:s3cret,ops:", "entry 2 has an empty password"),
    ],
)
def test_missing_users_or_passwords_are_refused(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_basic_auth(raw)


def test_the_refusal_never_echoes_a_password() -> None:
    with pytest.raises(ValueError) as refused:
        parse_basic_auth("admin:very-secret-password,ops")
    assert "very-secret-password" not in str(refused.value)

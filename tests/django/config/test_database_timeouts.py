"""Database calls have timeouts like every other external call: a statement over the limit is cancelled."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the timeouts are PostgreSQL settings"),
]


def test_connections_carry_the_statement_timeout() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "5min"  # DATABASE_STATEMENT_TIMEOUT_S default, 300 s
    assert connection.settings_dict["OPTIONS"]["connect_timeout"] == 5


def test_a_statement_over_its_timeout_fails_with_a_database_error() -> None:
    # A DatabaseError is what tasks retry as transient (jobs/tasks.py), so a stuck query ends in a retry.
    with (
        pytest.raises(DatabaseError, match="statement timeout"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL statement_timeout = '100ms'")
        cursor.execute("SELECT pg_sleep(2)")

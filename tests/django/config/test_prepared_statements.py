"""PostgreSQL connections bind parameters server-side and prepare the statements they repeat
(`DATABASE_PREPARED_STATEMENTS`, config/settings.py): the server stops parsing and planning the job
machinery's few statements again for every job."""

from __future__ import annotations

import pytest
from django.db import connection

from wallets.models import Wallet

pytestmark = pytest.mark.django_db


def _prepared_on_this_connection() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_statement_repeated_on_a_connection_is_prepared_by_the_server() -> None:
    assert connection.vendor == "postgresql"
    for number in range(6):
        list(Wallet.objects.filter(address=f"W{number}").values_list("address", flat=True))

    prepared = _prepared_on_this_connection()
    assert any('FROM "wallets_wallet"' in statement and "$1" in statement for statement in prepared), prepared

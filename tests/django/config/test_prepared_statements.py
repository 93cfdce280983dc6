"""PostgreSQL connections bind parameters server-side and prepare the statements they repeat
(`DATABASE_PREPARED_STATEMENTS`, config/settings.py): the server stops parsing and planning the job
machinery's few statements again for every job."""

from __future__ import annotations

import pytest
from django.db import connection

from jobs.selectors import job_reusable
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


def test_the_raw_dedup_lookup_survives_a_column_added_while_it_is_prepared() -> None:
    for _ in range(6):
        assert job_reusable(dedup_key="no-such-key", include_fresh=True) is None
    assert any("dedup_key" in statement for statement in _prepared_on_this_connection())
    # A migration adding a column while the processes run (rolled back with the test's transaction).
    with connection.cursor() as cursor:
        cursor.execute('ALTER TABLE "jobs_job" ADD COLUMN "added_by_a_migration" integer')

    assert job_reusable(dedup_key="no-such-key", include_fresh=True) is None

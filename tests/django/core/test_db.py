"""`core.db`: an UPDATE that returns the rows it changed, one JSON key set by the database, and an insert
that skips rows already stored."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import F
from django.db.utils import ConnectionHandler

from core.db import JSONSetKey, bulk_insert_new, update_returning
from jobs.models import Job
from wallets.models import Token, Transaction, TransactionEffect, Wallet

pytestmark = pytest.mark.django_db


def _job(**fields: object) -> Job:
    owner, _ = get_user_model().objects.get_or_create(username="db-helpers")
    return Job.objects.create(
        kind=Job.Kind.SIMILARITY, owner=owner, params={"wallets": []}, dedup_key=uuid.uuid4().hex, **fields
    )


def test_update_returning_gives_the_rows_as_updated_and_only_those_it_matched() -> None:
    queued, running = _job(), _job(status=Job.Status.RUNNING)
    claimed = update_returning(
        Job.objects.filter(id__in=[queued.id, running.id], status=Job.Status.QUEUED),
        status=Job.Status.RUNNING,
        attempts=F("attempts") + 1,
    )
    assert [(job.id, job.status, job.attempts) for job in claimed] == [(queued.id, Job.Status.RUNNING, 1)]
    # Columns come back converted as a query converts them: JSON as objects, the id as a UUID.
    assert claimed[0].params == {"wallets": []} and claimed[0].id == queued.id
    assert update_returning(Job.objects.filter(id=queued.id, status=Job.Status.QUEUED), stage="x") == []
    assert Job.objects.get(id=running.id).attempts == 0


def test_update_returning_fields_loads_only_those_and_refuses_unknown_names() -> None:
    job = _job()
    (row,) = update_returning(Job.objects.filter(id=job.id), fields=("parent_id",), stage="s")
    assert row.parent_id is None and row.get_deferred_fields() >= {"status", "result", "params"}
    with pytest.raises(ValueError, match="no concrete field"):
        update_returning(Job.objects.filter(id=job.id), fields=("nope",), stage="s")


def test_json_set_key_sets_one_key_and_keeps_the_others() -> None:
    empty, filled = _job(), _job(result={"pairs": [1, 2], "enrichment": {"status": "pending"}})
    for job in (empty, filled):
        Job.objects.filter(id=job.id).update(
            result=JSONSetKey("result", key="enrichment", value={"status": "completed", "n": 2})
        )
    assert Job.objects.get(id=empty.id).result == {"enrichment": {"status": "completed", "n": 2}}
    assert Job.objects.get(id=filled.id).result == {
        "pairs": [1, 2],
        "enrichment": {"status": "completed", "n": 2},
    }
    with pytest.raises(ValueError, match="identifier"):
        JSONSetKey("result", key="a.b", value=1)


def test_bulk_insert_new_stores_every_column_and_skips_rows_already_stored() -> None:
    wallet = Wallet.objects.create(address="W" * 32)
    liquidity = {"added": [{"mint": "M", "amount_raw": "12345678901234567890"}]}
    effects = [
        TransactionEffect(
            wallet=wallet,
            signature=f"sig{i}",
            slot=10 + i,
            timestamp=1_700_000_000 + i,
            kind="swap",
            fee_lamports=5000,
            sol_change_lamports=-(10**15) - i,
            rent_lamports=0,
            liquidity=liquidity if i == 1 else None,
        )
        for i in range(3)
    ]
    assert bulk_insert_new(TransactionEffect, [_fields(effect) for effect in effects[:2]]) == 2
    # The first row conflicts with the stored one (one per wallet and signature) and is left as stored.
    changed_first = {**_fields(effects[0]), "fee_lamports": 1}
    assert bulk_insert_new(TransactionEffect, [changed_first, _fields(effects[2])]) == 1
    stored = {row.signature: row for row in TransactionEffect.objects.filter(wallet=wallet)}
    assert [_fields(stored[f"sig{i}"]) for i in range(3)] == [_fields(effect) for effect in effects]
    assert stored["sig0"].liquidity is None and stored["sig1"].liquidity == liquidity

    payload = Transaction.pack({"signature": "sig0", "slot": 10})
    row = {"signature": "sig0", "slot": 10, "timestamp": 1, "payload": payload}
    assert bulk_insert_new(Transaction, [row]) == 1
    stored_transaction = Transaction.objects.get(signature="sig0")
    assert bytes(stored_transaction.payload) == payload
    assert stored_transaction.created_at is not None  # auto_now_add is applied to a field left out
    assert bulk_insert_new(Transaction, []) == 0
    with pytest.raises(ValueError, match="no concrete field attname"):
        bulk_insert_new(Transaction, [{**row, "wallet": "W" * 32}])


def test_bulk_insert_new_counts_only_the_rows_it_inserted_on_sqlite(
    django_db_blocker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The embedded default (./scripts/demo) runs on SQLite: a scratch in-memory database with the token table.
    sqlite = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    configured = ConnectionHandler({"default": sqlite, "scratch": sqlite})
    monkeypatch.setitem(connections.settings, "scratch", configured.settings["scratch"])
    with django_db_blocker.unblock():
        try:
            with connections["scratch"].schema_editor() as editor:
                editor.create_model(Token)
            rows = [{"mint": "M1", "decimals": 6}, {"mint": "M2", "decimals": 9}]
            assert bulk_insert_new(Token, rows, using="scratch") == 2
            assert (
                bulk_insert_new(
                    Token, [{"mint": "M2", "decimals": 0}, {"mint": "M3", "decimals": 0}], using="scratch"
                )
                == 1
            )
            stored = dict(Token.objects.using("scratch").values_list("mint", "decimals"))
            assert stored == {"M1": 6, "M2": 9, "M3": 0}
            assert (
                Token.objects.using("scratch").get(mint="M1").first_seen_at is not None
            )  # the field's default
        finally:
            connections["scratch"].close()
            del connections["scratch"]


def _fields(effect: TransactionEffect) -> dict[str, object]:
    return {
        field.attname: getattr(effect, field.attname)
        for field in TransactionEffect._meta.concrete_fields
        if not field.primary_key
    }

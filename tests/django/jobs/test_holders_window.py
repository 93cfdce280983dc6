"""The holders flow's window over the wallet queue, without workers: the discovery sends
HOLDERS_SYNC_BATCHES_IN_FLIGHT batches, each batch's body sends the one that many places after it exactly
once (a retried body sends nothing again), and the body that ends the last batch sends the finish once."""

from __future__ import annotations

import hashlib
from typing import Any

import base58
import pytest
from django.contrib.auth import get_user_model
from pytest_django.fixtures import Settings

from core.redis import get_redis
from jobs import services
from jobs.flows import token_holders
from jobs.models import Job

pytestmark = pytest.mark.django_db

WALLETS = [base58.b58encode(hashlib.sha256(f"holder-{i}".encode()).digest()).decode() for i in range(23)]
MINT = base58.b58encode(hashlib.sha256(b"window-mint").digest()).decode()


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> dict[str, list[Any]]:
    settings.HOLDERS_SYNC_BATCH = 5
    settings.HOLDERS_SYNC_BATCHES_IN_FLIGHT = 2
    record: dict[str, list[Any]] = {"batches": [], "finish": [], "metadata": []}
    discovery = {
        "mint": MINT,
        "creation": None,
        "early_buyers": [],
        "holders": [[wallet, 1] for wallet in WALLETS],
        "amounts": dict.fromkeys(WALLETS, 1),
        "accounts": {"capped": False},
        "history": {"reached_first": False},
    }
    monkeypatch.setattr(token_holders, "holders_discover", lambda **_: discovery)
    monkeypatch.setattr(token_holders, "_send_batch", lambda *, batch, **_: record["batches"].append(batch))
    monkeypatch.setattr(token_holders, "_send_finish", lambda **_: record["finish"].append(1))
    monkeypatch.setattr(
        token_holders,
        "holders_analyse_wallets",
        lambda *, wallets, **_: {w: {"behavior": None, "pnl": None} for w in wallets},
    )
    monkeypatch.setattr(token_holders.dispatch, "signature", lambda *a, **k: _Sent(record))
    get_redis().flushdb()
    return record


class _Sent:
    id = "metadata-task"

    def __init__(self, record: dict[str, list[Any]]) -> None:
        self.record = record

    def apply_async(self) -> None:
        self.record["metadata"].append(1)


def test_a_big_job_keeps_at_most_its_window_of_batches_in_the_wallet_queue(
    sent: dict[str, list[Any]],
) -> None:
    owner = get_user_model().objects.create_user(username="window-owner")
    job = services.job_submit_token_holders(owner=owner, mint=MINT, top=23, early=1).job
    running = services.job_start(job_id=str(job.id))
    assert running is not None
    token_holders.discover(job_id=str(job.id), attempt=running.attempts)
    # 23 wallets in batches of 5: 5 batches, of which 2 are sent at first.
    assert sent["batches"] == [0, 1] and sent["metadata"] == [1]

    def body(batch: int) -> None:
        token_holders.analyse_batch(
            job_id=str(job.id), attempt=running.attempts, batch=batch, header_results=[]
        )

    body(0)
    assert sent["batches"] == [0, 1, 2]
    body(0)  # a redelivered body: its successor is not sent twice, nor is the batch counted twice
    assert sent["batches"] == [0, 1, 2]
    body(1)
    body(2)
    assert sent["batches"] == [0, 1, 2, 3, 4]
    body(3)
    assert sent["finish"] == []
    body(4)
    body(4)
    assert sent["finish"] == [1]
    reports = token_holders.progress.job_holders_reports(job_id=str(job.id), attempt=running.attempts)
    assert set(reports) == set(WALLETS) and all(report["ok"] for report in reports.values())
    assert Job.objects.get(id=job.id).status == Job.Status.RUNNING

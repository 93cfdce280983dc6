"""The waiting commands' progress bar (issue 19): wallets done and failed, the upstream call rate from the
counters every process shares, and bulk children counted per wallet without reading their results."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management.base import OutputWrapper

from core.metrics import METRICS_KEY, metric_incr
from core.redis import get_redis
from jobs import selectors, services
from jobs.management.commands import _cli
from jobs.models import Job
from tests.django.analysis.conftest import address

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    clock = Clock()
    monkeypatch.setattr(_cli.time, "monotonic", clock)
    get_redis().delete(METRICS_KEY)
    yield clock
    get_redis().delete(METRICS_KEY)


def test_the_call_rate_counts_every_apis_calls_over_the_last_seconds(clock: Clock) -> None:
    rate = _cli.UpstreamCallRate()
    assert rate.sample() is None  # one sample tells no rate
    metric_incr("upstream_calls_total", 30, api="simulated")
    metric_incr("upstream_calls_total", 10, api="dexscreener")
    clock.now += 2
    assert rate.sample() == pytest.approx(20.0)
    clock.now += 20  # nothing called since: the window forgets the busy seconds
    clock.now += 1
    assert rate.sample() == pytest.approx(0.0)


def test_a_logged_bar_writes_a_line_when_counts_change_and_the_rate_now_and_then(clock: Clock) -> None:
    buffer = io.StringIO()
    bar = _cli.ProgressBar(OutputWrapper(buffer), 4, "wallets done")

    bar.update(1, 0, rate=12.0, note="2/8 analyses ended")
    bar.update(1, 0, rate=13.0, note="2/8 analyses ended")  # the rate alone: not yet worth a line
    clock.now += 11
    bar.update(1, 0, rate=14.0, note="2/8 analyses ended")
    bar.update(4, 1, rate=0.5, note="8/8 analyses ended")

    lines = buffer.getvalue().splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == [
        "1/4 wallets done, 0 failed, 12.0 upstream calls/s (2/8 analyses ended)",
        "1/4 wallets done, 0 failed, 14.0 upstream calls/s (2/8 analyses ended)",
        "4/4 wallets done, 1 failed, 0.5 upstream calls/s (8/8 analyses ended)",
    ]
    assert lines[0].startswith("[" + "#" * 7 + "." * 23 + "]") and lines[-1].startswith("[" + "#" * 30 + "]")


def test_bulk_progress_counts_a_wallet_done_once_all_its_analyses_ended() -> None:
    owner = get_user_model().objects.create_user(username="ops")
    wallets = [address(21), address(22), address(23)]
    parent = services.job_submit_bulk_analysis(
        owner=owner, wallets=wallets, types=["pnl", "behavior", "similarity"]
    ).job
    services.job_start(job_id=str(parent.id))
    services.bulk_analysis_create_children(parent_id=str(parent.id))
    children: dict[tuple[str, Any], Job] = {
        (child.kind, child.params.get("wallet")): child for child in Job.objects.filter(parent=parent)
    }

    def end(kind: str, wallet: str | None, status: str) -> None:
        Job.objects.filter(id=children[(kind, wallet)].id).update(status=status)

    end("pnl", wallets[0], Job.Status.COMPLETED)
    end("behavior", wallets[0], Job.Status.COMPLETED)
    end("pnl", wallets[1], Job.Status.FAILED)
    end("behavior", wallets[2], Job.Status.COMPLETED)  # its PnL still runs
    end("similarity", None, Job.Status.COMPLETED)

    progress = selectors.bulk_wallet_progress(parents=[Job.objects.get(id=parent.id)])

    assert progress == selectors.BulkWalletProgress(
        wallets_total=3, wallets_done=1, wallets_failed=0, analyses_total=7, analyses_ended=5
    )
    end("behavior", wallets[1], Job.Status.COMPLETED)
    progress = selectors.bulk_wallet_progress(parents=[Job.objects.get(id=parent.id)])
    assert (progress.wallets_done, progress.wallets_failed) == (2, 1)

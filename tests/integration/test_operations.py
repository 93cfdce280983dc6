"""Operator endpoints against the live stack: health and queue statistics (issue 9), behind the monitoring
token and computed once however many callers ask (issue 15, item 3)."""

from __future__ import annotations

import pytest
import requests

from core.metrics import metric_counters
from core.queues import ENRICHMENT_QUEUE, QUEUES, WALLET_QUEUE
from jobs.models import Job
from tests.integration.conftest import MONITORING_HEADERS, ApiUser
from tests.support.parallel import run_in_parallel
from tests.support.stack import Stack, wait_for
from wallets.simulated_market import SimulatedMarket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _health(stack: Stack) -> dict:
    response = requests.get(f"{stack.base_url}/health/queues", headers=MONITORING_HEADERS, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_health_is_healthy_with_every_worker_and_degraded_without_one(live_stack: Stack) -> None:
    report = wait_for(
        lambda: (r := _health(live_stack))["status"] == "healthy" and r, timeout_s=30, what="a healthy report"
    )
    assert report["redis"]["ok"] and report["database"]["ok"]
    assert set(report["queues"]) == set(QUEUES)
    assert all(queue["consuming_workers"] >= 1 for queue in report["queues"].values())

    live_stack.stop_process(ENRICHMENT_QUEUE)
    try:
        degraded = wait_for(
            lambda: (r := _health(live_stack))["status"] == "degraded" and r,
            timeout_s=30,
            what="a degraded report",
        )
        assert degraded["queues"][ENRICHMENT_QUEUE]["consuming_workers"] == 0
        assert any(ENRICHMENT_QUEUE in problem for problem in degraded["problems"])
    finally:
        live_stack.restart_workers([ENRICHMENT_QUEUE])
    wait_for(lambda: _health(live_stack)["status"] == "healthy", timeout_s=30, what="health to recover")


def _completed_similarity_job(stack: Stack, user: ApiUser, wallets: list[str]) -> str:
    response = requests.post(
        f"{stack.base_url}/jobs/similarity/analyze",
        json={"wallets": wallets},
        headers=user.headers,
        timeout=10,
    )
    job_id: str = response.json()["job_id"]
    wait_for(
        lambda: Job.objects.get(id=job_id).status == Job.Status.COMPLETED, timeout_s=90, what="completion"
    )
    return job_id


def test_task_log_lines_carry_job_and_task_ids(live_stack: Stack, api_user: ApiUser) -> None:
    wallets = SimulatedMarket(seed=0).sample_wallets(35)[33:]
    job_id = _completed_similarity_job(live_stack, api_user, wallets)
    start_task = Job.objects.get(id=job_id).celery_task_ids[0]
    log = (live_stack.log_dir / "similarity-operations.log").read_text()
    assert f"[job={job_id} task={start_task}] job {job_id} started" in log


def test_queue_stats_count_what_ran(live_stack: Stack, api_user: ApiUser) -> None:
    wallets = SimulatedMarket(seed=0).sample_wallets(33)[31:]
    _completed_similarity_job(live_stack, api_user, wallets)

    def stats() -> dict:
        url = f"{live_stack.base_url}/jobs/queue/wallet-operations/stats"
        return dict(requests.get(url, headers=MONITORING_HEADERS, timeout=10).json())

    # The figures are at most HEALTH_CACHE_S old, and a task's run is recorded just after the task returns.
    wallet = wait_for(
        lambda: (s := stats())["last_hour"]["completed"] >= 4 and s,  # two syncs, two balances fetches
        timeout_s=30,
        what="the wallet tasks in the statistics",
    )
    assert wallet["queue"] == "wallet-operations"
    assert wallet["last_hour"]["success_rate"] == 1.0
    assert wallet["last_hour"]["p95_ms"] is not None and wallet["consuming_workers"] == 1
    every = requests.get(f"{live_stack.base_url}/jobs/queues", headers=MONITORING_HEADERS, timeout=10)
    assert [queue["queue"] for queue in every.json()["queues"]] == list(QUEUES)
    missing = requests.get(
        f"{live_stack.base_url}/jobs/queue/nope/stats", headers=MONITORING_HEADERS, timeout=10
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    anonymous = requests.get(f"{live_stack.base_url}/jobs/queue/{WALLET_QUEUE}/stats", timeout=10)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "not_authenticated"


def _computations(report: str) -> int:
    return sum(
        value
        for name, labels, value in metric_counters()
        if name == "monitoring_computations_total" and labels.get("report") == report
    )


def test_concurrent_callers_on_both_web_processes_share_one_computation(live_stack: Stack) -> None:
    """Gunicorn's two worker processes answer these calls; the report is computed once for all of them."""
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.REDIS_URL).delete("report:queues")
    before = _computations("queues")

    responses = run_in_parallel(
        24,
        lambda _: requests.get(f"{live_stack.base_url}/jobs/queues", headers=MONITORING_HEADERS, timeout=30),
    )

    assert [r.status_code for r in responses] == [200] * 24
    assert len({r.content for r in responses}) == 1
    assert _computations("queues") - before == 1


def test_metrics_in_prometheus_text_format(live_stack: Stack, api_user: ApiUser) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    from tests.support.ws import JobSocket

    wallets = SimulatedMarket(seed=0).sample_wallets(37)[35:]
    with JobSocket(live_stack.ws_url, token=api_user.token) as socket:
        response = requests.post(
            f"{live_stack.base_url}/jobs/similarity/analyze",
            json={"wallets": wallets},
            headers=api_user.headers,
            timeout=10,
        )
        job_id = response.json()["job_id"]
        socket.subscribe(job_id)
        socket.wait_for(lambda e: e["type"] == "job-completed", timeout_s=90)
        # Metrics are at most HEALTH_CACHE_S old: wait for a scrape that saw the job completed.
        text = wait_for(
            lambda: (
                (
                    t := requests.get(
                        f"{live_stack.base_url}/metrics", headers=MONITORING_HEADERS, timeout=10
                    ).text
                )
                and 'kind="similarity",status="completed"' in t
                and t
            ),
            timeout_s=30,
            what="the completed job in the metrics",
        )
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert samples[("jobs", (("kind", "similarity"), ("status", "completed")))] >= 1
    assert samples[("upstream_calls_total", (("api", "simulated"),))] > 0
    assert ("queue_depth", (("queue", "wallet-operations"),)) in samples
    assert samples[("websocket_connections", ())] >= 1
    assert samples[("task_runs_last_hour", (("queue", "wallet-operations"), ("state", "completed")))] >= 3

"""Operator endpoints against the live stack: health and queue statistics (issue 9)."""

from __future__ import annotations

import pytest
import requests

from core.queues import ENRICHMENT_QUEUE, QUEUES
from jobs.models import Job
from tests.integration.conftest import ApiUser
from tests.support.stack import Stack, wait_for
from wallets.simulated_market import SimulatedMarket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _health(stack: Stack) -> dict:
    response = requests.get(f"{stack.base_url}/health/queues", timeout=10)
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

    stats = requests.get(f"{live_stack.base_url}/jobs/queue/wallet-operations/stats", timeout=10).json()
    assert stats["queue"] == "wallet-operations"
    assert stats["last_hour"]["completed"] >= 4  # two syncs and two balances fetches
    assert stats["last_hour"]["success_rate"] == 1.0
    assert stats["last_hour"]["p95_ms"] is not None and stats["consuming_workers"] == 1
    every = requests.get(f"{live_stack.base_url}/jobs/queues", timeout=10).json()["queues"]
    assert [queue["queue"] for queue in every] == list(QUEUES)
    missing = requests.get(f"{live_stack.base_url}/jobs/queue/nope/stats", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


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
        text = requests.get(f"{live_stack.base_url}/metrics", timeout=10).text
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

"""Submission limits under real parallel requests (issue 15, item 13): the per-user rate is taken atomically,
bulk jobs weigh what they create, and a user's active jobs are capped.

Requests go from real threads, released together, to a live WSGI server; no worker runs, so every accepted
job stays queued (active) and its message waits in Redis.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import base58
import pytest
import requests
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.authtoken.models import Token

from core.throttles import submit_throttle_reset
from jobs.models import Job
from tests.support.parallel import run_in_parallel

pytestmark = pytest.mark.django_db(transaction=True)

SYNC = "/jobs/wallets/sync"
BULK = "/jobs/bulk-analysis"


def address(seed: object) -> str:
    return base58.b58encode(hashlib.sha256(f"limits-{seed}".encode()).digest()).decode()


class Caller:
    def __init__(self, base_url: str) -> None:
        user = get_user_model().objects.create_user(username=f"limits-{uuid.uuid4().hex[:8]}")
        submit_throttle_reset(user_id=user.pk)
        self.user = user
        self.base_url = base_url
        self.headers = {"Authorization": f"Token {Token.objects.create(user=user).key}"}

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        return requests.post(f"{self.base_url}{path}", json=body, headers=self.headers, timeout=60)

    def sync(self, seed: object) -> requests.Response:
        return self.post(SYNC, {"wallet": address(seed)})

    def bulk(self, wallets: int, types: list[str], seed: object = "bulk") -> requests.Response:
        return self.post(BULK, {"wallets": [address(f"{seed}-{i}") for i in range(wallets)], "types": types})


@pytest.fixture
def caller(live_server: Any) -> Caller:
    return Caller(live_server.url)


def _end_jobs_of(caller: Caller) -> None:
    Job.objects.filter(owner=caller.user).update(status=Job.Status.COMPLETED, finished_at=timezone.now())


def _assert_refused(response: requests.Response, code: str) -> None:
    assert response.status_code == 429, response.text[:300]
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"} and error["code"] == code
    assert int(response.headers["Retry-After"]) >= 1


def test_parallel_submissions_accept_exactly_the_rate(caller: Caller, settings: Any) -> None:
    settings.SUBMIT_THROTTLE_RATE = "3/minute"

    responses = run_in_parallel(12, caller.sync)

    assert sorted(r.status_code for r in responses) == [202] * 3 + [429] * 9
    assert Job.objects.filter(owner=caller.user).count() == 3
    for refused in (r for r in responses if r.status_code == 429):
        _assert_refused(refused, "throttled")


def test_parallel_identical_submissions_spend_the_budget_once(caller: Caller, settings: Any) -> None:
    settings.SUBMIT_THROTTLE_RATE = "3/minute"

    responses = run_in_parallel(12, lambda _: caller.sync("same"))

    assert sorted(r.status_code for r in responses) == [200] * 11 + [202]
    assert [caller.sync(n).status_code for n in range(3)] == [202, 202, 429]


def test_a_bulk_job_spends_one_unit_per_job_it_creates(caller: Caller, settings: Any) -> None:
    settings.SUBMIT_THROTTLE_RATE = "6/minute"

    # The parent and its 4 children (2 wallets x PnL and behaviour): 5 of the 6 units.
    assert caller.bulk(2, ["pnl", "behavior"]).status_code == 202
    assert caller.sync("one more").status_code == 202
    _assert_refused(caller.sync("beyond"), "throttled")


def test_a_bulk_job_that_does_not_fit_is_refused_whole_and_spends_nothing(
    caller: Caller, settings: Any
) -> None:
    settings.SUBMIT_THROTTLE_RATE = "6/minute"
    assert caller.sync("first").status_code == 202

    # 7 jobs (the parent, 3 x 2 children) do not fit in the 5 units left.
    _assert_refused(caller.bulk(3, ["pnl", "behavior"]), "throttled")

    assert not Job.objects.filter(kind=Job.Kind.BULK_ANALYSIS).exists()
    assert [caller.sync(n).status_code for n in range(6)] == [202] * 5 + [429]


def test_a_deduplicated_bulk_job_gives_its_units_back(caller: Caller, settings: Any) -> None:
    settings.SUBMIT_THROTTLE_RATE = "10/minute"
    assert caller.bulk(2, ["pnl", "behavior"]).status_code == 202

    again = caller.bulk(2, ["pnl", "behavior"])

    assert again.status_code == 200 and again.json()["deduplicated"] is True
    assert [caller.sync(n).status_code for n in range(6)] == [202] * 5 + [429]


def test_parallel_submissions_beyond_the_active_job_cap_are_refused(caller: Caller, settings: Any) -> None:
    settings.SUBMIT_THROTTLE_RATE = ""
    settings.MAX_ACTIVE_JOBS_PER_USER = 3

    responses = run_in_parallel(12, caller.sync)

    assert sorted(r.status_code for r in responses) == [202] * 3 + [429] * 9
    assert Job.objects.filter(owner=caller.user, status=Job.Status.QUEUED).count() == 3
    for refused in (r for r in responses if r.status_code == 429):
        _assert_refused(refused, "too_many_active_jobs")
    # An identical submission still gets its job back; a new one waits until a job ends.
    accepted = next(r for r in responses if r.status_code == 202)
    identical = caller.post(SYNC, {"wallet": _wallet_of(accepted)})
    assert identical.status_code == 200
    _end_jobs_of(caller)
    assert caller.sync("after").status_code == 202


def _wallet_of(response: requests.Response) -> str:
    return str(Job.objects.get(id=response.json()["job_id"]).params["wallet"])


def test_a_bulk_job_counts_every_job_it_creates_against_the_cap(caller: Caller, settings: Any) -> None:
    settings.SUBMIT_THROTTLE_RATE = ""
    settings.MAX_ACTIVE_JOBS_PER_USER = 5
    assert caller.sync("first").status_code == 202

    # 5 jobs (the parent, 2 x 2 children) do not fit beside the one active job.
    _assert_refused(caller.bulk(2, ["pnl", "behavior"]), "too_many_active_jobs")
    assert not Job.objects.filter(kind=Job.Kind.BULK_ANALYSIS).exists()

    _end_jobs_of(caller)
    assert caller.bulk(2, ["pnl", "behavior"]).status_code == 202
    # Its children do not exist yet (no worker started the parent), but they are counted already.
    assert Job.objects.filter(owner=caller.user, status=Job.Status.QUEUED).count() == 1
    _assert_refused(caller.sync("second"), "too_many_active_jobs")


def test_a_submission_refused_by_the_cap_spends_no_rate(caller: Caller, settings: Any) -> None:
    settings.SUBMIT_THROTTLE_RATE = "2/minute"
    settings.MAX_ACTIVE_JOBS_PER_USER = 1
    assert caller.sync("a").status_code == 202
    _assert_refused(caller.sync("b"), "too_many_active_jobs")
    _end_jobs_of(caller)

    assert caller.sync("c").status_code == 202
    _end_jobs_of(caller)
    _assert_refused(caller.sync("d"), "throttled")


def test_a_bulk_parent_counts_the_children_it_has_not_created_yet() -> None:
    from jobs import selectors

    owner = get_user_model().objects.create_user(username="load-owner")
    wallets = [address(f"load-{i}") for i in range(3)]
    parent = Job.objects.create(
        kind=Job.Kind.BULK_ANALYSIS,
        owner=owner,
        params={"wallets": wallets, "types": ["pnl", "behavior", "similarity"]},
        dedup_key="load-parent",
        queue="q",
        status=Job.Status.RUNNING,
    )
    assert selectors.job_active_load_for_owner(owner_id=owner.pk, at_most=100) == 1 + 7

    # Two children written so far, one of them ended already: the rest are still to come.
    for n, status in enumerate([Job.Status.QUEUED, Job.Status.COMPLETED]):
        Job.objects.create(
            kind=Job.Kind.PNL,
            owner=owner,
            params={},
            dedup_key=f"load-{n}",
            queue="q",
            parent=parent,
            status=status,
        )
    assert selectors.job_active_load_for_owner(owner_id=owner.pk, at_most=100) == 1 + 1 + 5
    # The count stops past the cap: it only has to tell whether the cap is reached.
    assert selectors.job_active_load_for_owner(owner_id=owner.pk, at_most=1) == 2

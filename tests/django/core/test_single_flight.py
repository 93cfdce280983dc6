"""`core.single_flight`: a report computed once however the callers of several processes interleave."""

from __future__ import annotations

import threading
from typing import Any

import redis
from django.conf import settings

from core import single_flight
from core.metrics import metric_counters
from tests.support.stack import wait_for

REPORT = "single-flight-test"
ANSWER_KEY = f"{single_flight.KEY_PREFIX}:{REPORT}"
LOCK_KEY = f"{ANSWER_KEY}:computing"


def _computations() -> int:
    return sum(
        value
        for name, labels, value in metric_counters()
        if name == "monitoring_computations_total" and labels.get("report") == REPORT
    )


class _LateClaim(redis.Redis):
    """A real client whose first claim of the lock waits for `go`, after telling `read` that it found no
    answer: the other process's caller stores its answer and releases the lock in that gap."""

    def __init__(self, *args: Any, read: threading.Event, go: threading.Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read, self.go = read, go

    def get(self, name: Any) -> Any:
        answer = super().get(name)
        if name == ANSWER_KEY and answer is None:
            self.read.set()
        return answer

    def set(self, name: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        if name == LOCK_KEY and kwargs.get("nx") and not self.go.is_set():
            assert self.go.wait(10), "the first caller did not finish"
        return super().set(name, value, *args, **kwargs)


def test_a_caller_that_claims_the_lock_just_after_the_answer_is_stored_does_not_compute_again() -> None:
    plain = redis.Redis.from_url(settings.REDIS_URL)
    plain.delete(ANSWER_KEY, LOCK_KEY)
    second_read, first_done = threading.Event(), threading.Event()
    late = _LateClaim(
        connection_pool=redis.ConnectionPool.from_url(settings.REDIS_URL), read=second_read, go=first_done
    )
    before = _computations()

    def first_compute() -> dict[str, int]:
        # Still computing when the second caller looks for an answer and finds none.
        assert second_read.wait(10), "the second caller never looked"
        return {"figure": 1}

    answers: list[Any] = []

    def second_caller() -> None:
        # `_through_redis` is what two processes share; the per-process lock would queue threads of one.
        answers.append(single_flight._through_redis(late, REPORT, 5.0, lambda: {"figure": 2}))

    first = threading.Thread(
        target=lambda: answers.append(single_flight._through_redis(plain, REPORT, 5.0, first_compute))
    )
    first.start()
    second = threading.Thread(target=second_caller)
    wait_for(lambda: plain.exists(LOCK_KEY), timeout_s=10, what="the first caller to hold the lock")
    second.start()
    first.join(10)
    first_done.set()
    second.join(10)
    assert answers == [{"figure": 1}, {"figure": 1}]
    assert _computations() - before == 1
    plain.delete(ANSWER_KEY, LOCK_KEY)

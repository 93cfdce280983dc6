"""Retries inside one upstream call (core/upstream.py), as the simulated market's stand-ins use them: a slot
of the global limit before every attempt, urllib3's backoff, Retry-After honoured up to its cap, bounded."""

from __future__ import annotations

import pytest

from core.http import UpstreamFatalError, UpstreamTransientError
from core.upstream import RetryPolicy, call_with_retries


class Upstream:
    """Answers with the errors it is given, in order, then `ok`; records what happened around each call."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.events: list[str] = []

    def call(self) -> str:
        self.events.append("call")
        if self.errors:
            raise self.errors.pop(0)
        return "ok"

    def take_slot(self) -> None:
        self.events.append("slot")

    def sleep(self, seconds: float) -> None:
        self.events.append(f"sleep {seconds:g}")


def fault(retry_after_s: float | None = None) -> UpstreamTransientError:
    return UpstreamTransientError("HTTP 503", status="503", retry_after_s=retry_after_s)


def test_every_attempt_takes_its_own_slot_and_a_success_ends_the_retries() -> None:
    upstream = Upstream(fault(), fault())
    policy = RetryPolicy(retries=3, backoff_factor=0.0)

    assert call_with_retries(upstream.call, policy=policy, take_slot=upstream.take_slot, sleep=upstream.sleep)

    assert upstream.events == ["slot", "call", "sleep 0", "slot", "call", "sleep 0", "slot", "call"]


def test_the_backoff_is_urllib3s_first_retry_at_once_then_doubling_and_capped() -> None:
    policy = RetryPolicy(backoff_factor=0.5, max_backoff_s=10.0)

    assert policy.backoff_s(1) == 0.0
    assert 1.0 <= policy.backoff_s(2) <= 1.25
    assert 2.0 <= policy.backoff_s(3) <= 2.25
    assert policy.backoff_s(9) == 10.0


def test_retries_are_bounded_and_the_last_error_is_raised() -> None:
    upstream = Upstream(*[fault() for _ in range(5)])

    with pytest.raises(UpstreamTransientError):
        call_with_retries(
            upstream.call, policy=RetryPolicy(retries=2), take_slot=upstream.take_slot, sleep=upstream.sleep
        )

    assert upstream.events.count("call") == 3
    assert upstream.events.count("slot") == 3


def test_retry_after_is_waited_for_before_the_retry_takes_its_slot() -> None:
    upstream = Upstream(fault(retry_after_s=7.0))

    call_with_retries(
        upstream.call, policy=RetryPolicy(retries=1), take_slot=upstream.take_slot, sleep=upstream.sleep
    )

    assert upstream.events == ["slot", "call", "sleep 7", "slot", "call"]


def test_a_retry_after_beyond_the_cap_fails_the_call_at_once() -> None:
    upstream = Upstream(fault(retry_after_s=600.0))

    with pytest.raises(UpstreamTransientError):
        call_with_retries(
            upstream.call,
            policy=RetryPolicy(retries=3, max_retry_after_s=30.0),
            take_slot=upstream.take_slot,
            sleep=upstream.sleep,
        )

    assert upstream.events == ["slot", "call"]


def test_fatal_errors_are_not_retried() -> None:
    upstream = Upstream(UpstreamFatalError("HTTP 401"))

    with pytest.raises(UpstreamFatalError):
        call_with_retries(
            upstream.call, policy=RetryPolicy(retries=3), take_slot=upstream.take_slot, sleep=upstream.sleep
        )

    assert upstream.events == ["slot", "call"]

"""Upstream calls that do not go through an HTTP session (the simulated market's stand-ins for Helius,
DexScreener and Pyth Benchmarks), retried like the HTTP clients' calls are.

Where retries happen (docs/ARCHITECTURE.md, "Upstream calls"):
1. inside one call: the HTTP clients' urllib3 `Retry` (`core.http.build_session`), and `call_with_retries`
   here with the same policy: UPSTREAM_RETRIES retries of a transient failure, the first at once, then
   UPSTREAM_RETRY_BACKOFF_S * 2^(n-1) s (at most 10 s) with a little jitter, or the upstream's Retry-After
   when it sent one (a Retry-After over UPSTREAM_MAX_RETRY_AFTER_S fails the call at once instead);
2. then the task, with its queue's attempts and backoff (`core.task_policy`), which starts the step again
   from what is stored.
Every attempt at every level takes its own slot of the upstream's global rate limit before it is sent, so
retries never push the upstream past its limit, and every wait is bounded: the product of the two levels
turns a 30 % fault rate into a failed sync about once in 10^4 (docs/BENCHMARKS.md, resilience).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings

from core.http import UpstreamTransientError
from core.metrics import metric_incr

T = TypeVar("T")

MAX_BACKOFF_S = 10.0
BACKOFF_JITTER_S = 0.25


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries of one upstream call: urllib3's `Retry` backoff, which `core.http.build_session` uses too."""

    retries: int = 3
    backoff_factor: float = 0.5
    max_backoff_s: float = MAX_BACKOFF_S
    max_retry_after_s: float = 30.0

    def backoff_s(self, consecutive_errors: int) -> float:
        """The wait before the retry that follows `consecutive_errors` failures (urllib3 2.x's formula)."""
        if consecutive_errors <= 1 or self.backoff_factor <= 0:
            return 0.0
        wait = self.backoff_factor * 2 ** (consecutive_errors - 1) + random.random() * BACKOFF_JITTER_S
        return min(self.max_backoff_s, wait)


def retry_policy_from_settings() -> RetryPolicy:
    """The retries inside one call that the settings ask of every upstream client."""
    return RetryPolicy(
        retries=settings.UPSTREAM_RETRIES,
        backoff_factor=settings.UPSTREAM_RETRY_BACKOFF_S,
        max_retry_after_s=settings.UPSTREAM_MAX_RETRY_AFTER_S,
    )


def call_with_retries(
    call: Callable[[], T],
    *,
    policy: RetryPolicy,
    take_slot: Callable[[], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `call`, retrying an UpstreamTransientError as `policy` says; `take_slot` runs before every
    attempt (a slot of the global rate limit). The last error is raised when the retries are spent."""
    failures = 0
    while True:
        if take_slot is not None:
            take_slot()
        try:
            return call()
        except UpstreamTransientError as exc:
            failures += 1
            retry_after_s = exc.retry_after_s
            if failures > policy.retries or (
                retry_after_s is not None and retry_after_s > policy.max_retry_after_s
            ):
                raise
            metric_incr("upstream_retries_total", status=exc.status or "network")
            sleep(retry_after_s if retry_after_s is not None else policy.backoff_s(failures))

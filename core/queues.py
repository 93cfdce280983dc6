"""Queues, priorities and per-queue task policy (docs/ARCHITECTURE.md §3), in one place.

Workers, routes, retry policy, time limits and the stalled-job sweep all read this table, so a queue's
behaviour cannot drift between the code that enqueues, the code that runs and the code that recovers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

WALLET_QUEUE = "wallet-operations"
ANALYSIS_QUEUE = "analysis-operations"
SIMILARITY_QUEUE = "similarity-operations"
ENRICHMENT_QUEUE = "enrichment-operations"


class Priority(IntEnum):
    """Job priorities as the API speaks them: a higher number runs first."""

    CRITICAL = 10
    HIGH = 7
    NORMAL = 5
    LOW = 3
    MAINTENANCE = 1


# Redis emulates priorities with one list per step and pops the lowest step first, the reverse of our
# scale; ten steps keep every named priority on its own list.
PRIORITY_STEPS = list(range(10))


def transport_priority(priority: int) -> int:
    """Map an API priority (1..10, higher first) onto the Redis transport's order (0 first)."""
    return max(0, min(9, 10 - int(priority)))


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    pool: Literal["threads", "prefork"]
    default_concurrency: int
    max_attempts: int
    backoff: Literal["exponential", "fixed"]
    backoff_base_s: float
    soft_time_limit_s: int
    hard_time_limit_s: int
    jitter: bool
    # Worker processes a deployment runs for the queue (the Procfile's and compose's), each with
    # `default_concurrency` threads or children.
    default_processes: int = 1

    @property
    def max_retries(self) -> int:
        return self.max_attempts - 1

    def retry_countdown(self, retries_done: int, *, jitter_fraction: float = 0.0) -> float:
        """Seconds before the next attempt; kept short so no countdown outlives the visibility timeout."""
        delay = self.backoff_base_s if self.backoff == "fixed" else self.backoff_base_s * 2**retries_done
        if self.jitter:
            delay *= 1.0 + jitter_fraction
        return min(delay, 120.0)

    @property
    def env_prefix(self) -> str:
        return self.name.split("-")[0].upper()


QUEUES: dict[str, QueueSpec] = {
    spec.name: spec
    for spec in (
        # Two processes (the sync threads parse and store transactions under one GIL per process: one of
        # eight made a 10-wallet flow 1.17-1.42x its critical-path floor where two of four made it 1.06x)
        # of six threads: a 10-wallet flow's ten syncs then all start at once, where with four two of them
        # waited for the first to end (1.31-1.39x against 1.14-1.33x; docs/BENCHMARKS.md, the flow).
        QueueSpec(WALLET_QUEUE, "threads", 6, 3, "exponential", 2.0, 300, 360, True, default_processes=2),
        QueueSpec(ANALYSIS_QUEUE, "prefork", 2, 2, "fixed", 1.0, 120, 150, False),
        QueueSpec(SIMILARITY_QUEUE, "prefork", 1, 2, "exponential", 5.0, 300, 360, False),
        QueueSpec(ENRICHMENT_QUEUE, "threads", 4, 3, "fixed", 3.0, 120, 150, False),
    )
}

LONGEST_HARD_LIMIT_S = max(spec.hard_time_limit_s for spec in QUEUES.values())

"""Task run times kept as histograms, so queue statistics read a few rows per minute instead of every run.

Pure (no Django, no Redis). Bucket k >= 1 holds the run times in (2^((k-1)/8), 2^(k/8)] ms and bucket 0 those
up to 1 ms, so a bucket is 9 % wide whatever the scale (the resolution of Prometheus's native histograms at
schema 3) and an hour-long run lands in bucket 176. A percentile read from the buckets is the top of the
bucket that holds the exact percentile: never below it, less than 9.1 % above it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

BUCKETS_PER_DOUBLING = 8
BUCKET_RATIO = 2 ** (1 / BUCKETS_PER_DOUBLING)
# Runs whose run time is unknown (their start was not recorded): counted, but in no run-time figure.
NO_RUNTIME_BUCKET = -1


def runtime_bucket(runtime_ms: int | None) -> int:
    if runtime_ms is None:
        return NO_RUNTIME_BUCKET
    if runtime_ms <= 1:
        return 0
    # The tolerance keeps exact powers (2, 4, 8 ms…) in the bucket they close despite rounding in log2.
    return math.ceil(BUCKETS_PER_DOUBLING * math.log2(runtime_ms) - 1e-9)


def bucket_top_ms(bucket: int) -> float:
    return 2 ** (bucket / BUCKETS_PER_DOUBLING)


def histogram_percentile_ms(histogram: Mapping[int, int], fraction: float) -> int | None:
    """The run time at `fraction` (0.95 for p95) by the nearest-rank rule of the statistics before the
    rollups (the value at index int(fraction * n) of the sorted run times), read as its bucket's top,
    rounded down to whole milliseconds; None without run times."""
    counts = sorted((bucket, runs) for bucket, runs in histogram.items() if bucket >= 0 and runs > 0)
    total = sum(runs for _, runs in counts)
    if not total:
        return None
    index = min(total - 1, int(fraction * total))
    seen = 0
    for bucket, runs in counts:
        seen += runs
        if seen > index:
            return math.floor(bucket_top_ms(bucket))
    raise AssertionError("unreachable: the index is below the total")


@dataclass
class RunTotals:
    """What a group of runs of one state adds up to: how many, the run time of those that have one, and
    their histogram."""

    runs: int = 0
    timed_runs: int = 0
    runtime_ms_sum: int = 0
    histogram: dict[int, int] = field(default_factory=dict)

    def add(self, *, bucket: int, runs: int, runtime_ms_sum: int) -> None:
        self.runs += runs
        if bucket != NO_RUNTIME_BUCKET:
            self.timed_runs += runs
            self.runtime_ms_sum += runtime_ms_sum
            self.histogram[bucket] = self.histogram.get(bucket, 0) + runs


RollupKey = tuple[str, datetime, str, int]  # queue, minute, state, bucket


def rollup_runs(
    runs: Iterable[tuple[str, datetime, str, int | None]], *, all_time: datetime
) -> dict[RollupKey, list[int]]:
    """Group ended runs (queue, finished_at, state, runtime_ms) by queue, minute, state and bucket, and the
    same without the minute under the minute `all_time`: {key: [runs, runtime_ms_sum]}. For rebuilding the
    rollups from the runs themselves."""
    rows: dict[RollupKey, list[int]] = {}
    for queue, finished_at, state, runtime_ms in runs:
        bucket = runtime_bucket(runtime_ms)
        for minute in (finished_at.replace(second=0, microsecond=0), all_time):
            row = rows.setdefault((queue, minute, state, bucket), [0, 0])
            row[0] += 1
            row[1] += runtime_ms or 0
    return rows

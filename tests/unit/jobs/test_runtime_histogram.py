"""Run-time histograms (pure): buckets 9 % wide, percentiles never below the exact value nor 9.1 % above."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from jobs.runtime_histogram import (
    BUCKET_RATIO,
    NO_RUNTIME_BUCKET,
    bucket_top_ms,
    histogram_percentile_ms,
    rollup_runs,
    runtime_bucket,
)


@given(st.integers(min_value=0, max_value=10**8))
def test_a_run_time_lies_in_its_bucket(runtime_ms: int) -> None:
    bucket = runtime_bucket(runtime_ms)
    assert runtime_ms <= bucket_top_ms(bucket)
    assert bucket == 0 or bucket_top_ms(bucket - 1) < runtime_ms


def test_exact_powers_close_their_bucket() -> None:
    assert [runtime_bucket(ms) for ms in (0, 1, 2, 4, 1024)] == [0, 0, 8, 16, 80]
    assert runtime_bucket(None) == NO_RUNTIME_BUCKET


@given(st.lists(st.integers(min_value=0, max_value=3_600_000), min_size=1, max_size=400))
def test_a_percentile_from_buckets_brackets_the_exact_one(runtimes: list[int]) -> None:
    histogram: dict[int, int] = {}
    for runtime in runtimes:
        histogram[runtime_bucket(runtime)] = histogram.get(runtime_bucket(runtime), 0) + 1
    ordered = sorted(runtimes)
    exact = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]

    p95 = histogram_percentile_ms(histogram, 0.95)

    assert p95 is not None and exact <= p95 < max(exact, 1) * BUCKET_RATIO + 1


def test_no_run_times_no_percentile() -> None:
    assert histogram_percentile_ms({}, 0.95) is None
    assert histogram_percentile_ms({NO_RUNTIME_BUCKET: 5}, 0.95) is None


def test_runs_roll_up_per_minute_and_in_all_time() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    at = datetime(2026, 5, 1, 12, 30, 41, tzinfo=UTC)
    rows = rollup_runs(
        [
            ("q", at, "succeeded", 100),
            ("q", at.replace(second=2), "succeeded", 100),
            ("q", at, "failed", None),
        ],
        all_time=epoch,
    )
    minute = at.replace(second=0)
    assert rows[("q", minute, "succeeded", runtime_bucket(100))] == [2, 200]
    assert rows[("q", epoch, "succeeded", runtime_bucket(100))] == [2, 200]
    assert rows[("q", minute, "failed", NO_RUNTIME_BUCKET)] == [1, 0]
    assert len(rows) == 4

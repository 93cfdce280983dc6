"""SOL/USD at past minutes (issue 17): candles are stored and each minute fetched at most once, in ranges;
every kind of bad answer leaves nothing stored and names the reason. The provider here is an upstream
stand-in answering the UDF shape in-process; the HTTP client is tested against the fake server in
tests/unit/enrichment/test_pyth_client.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core.http import UpstreamTransientError
from enrichment.models import SolUsdCandle, SolUsdHistoryRange
from enrichment.services import sol_usd_history

pytestmark = pytest.mark.django_db

T0 = 1_790_000_040  # a minute start, months before NOW
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def price_at(minute: int) -> float:
    return 150.0 + (minute - T0) / 60 * 0.01


class Feed:
    """Answers like Pyth's TradingView history: every minute has a candle unless listed in `gaps`."""

    def __init__(self, *, answer: Any = None, gaps: set[int] | None = None, fail: Exception | None = None):
        self.calls: list[tuple[int, int]] = []
        self.answer = answer
        self.gaps = gaps or set()
        self.fail = fail

    def get_history(self, *, start: int, end: int) -> Any:
        self.calls.append((start, end))
        if self.fail is not None:
            raise self.fail
        if self.answer is not None:
            return self.answer
        minutes = [m for m in range(start - start % 60, end + 1, 60) if m >= start and m not in self.gaps]
        closes = [price_at(m) for m in minutes]
        return {
            "s": "ok",
            "t": minutes,
            "o": closes,
            "h": closes,
            "l": closes,
            "c": closes,
            "v": [0] * len(minutes),
        }


def test_minutes_are_fetched_once_in_whole_days_and_stored() -> None:
    feed = Feed()
    minutes = [T0, T0 + 60, T0 + 3_600, T0 + 30 * 86_400]  # two days: the first three, then a month later
    day = T0 - T0 % 86_400

    first = sol_usd_history(minutes=minutes, provider=feed, now=NOW)

    assert first.error is None and first.by_minute == {m: pytest.approx(price_at(m)) for m in minutes}
    assert feed.calls == [(day, day + 86_399), (day + 30 * 86_400, day + 31 * 86_400 - 1)]
    assert SolUsdCandle.objects.count() == 2 * 1_440  # every minute of both days
    second = sol_usd_history(minutes=[*minutes, T0 + 120], provider=feed, now=NOW)
    assert second.by_minute == first.by_minute | {T0 + 120: pytest.approx(price_at(T0 + 120))}
    assert len(feed.calls) == 2 and second.calls == 0  # nothing fetched twice


def test_a_gap_in_the_feed_takes_the_previous_close_and_is_not_asked_again() -> None:
    feed = Feed(gaps={T0 + 60})
    result = sol_usd_history(minutes=[T0, T0 + 60, T0 + 120], provider=feed, now=NOW)
    assert result.error is None and result.by_minute is not None
    assert result.by_minute[T0 + 60] == pytest.approx(price_at(T0))
    sol_usd_history(minutes=[T0 + 60], provider=feed, now=NOW)
    assert len(feed.calls) == 1  # inside a range answered in full: known to have no candle
    assert SolUsdHistoryRange.objects.count() == 1


def test_the_current_minute_is_not_stored_as_final() -> None:
    now_ts = int(NOW.timestamp())
    feed = Feed()
    result = sol_usd_history(minutes=[now_ts - 600, now_ts - 60], provider=feed, now=NOW)
    assert result.error is None
    assert SolUsdCandle.objects.filter(minute=now_ts - 60).count() == 0  # may still change
    assert SolUsdCandle.objects.filter(minute=now_ts - 600).count() == 1
    assert SolUsdHistoryRange.objects.count() == 0


BAD_ANSWERS = [
    pytest.param("<html>Bad Gateway</html>", "not a UDF object", id="garbage"),
    pytest.param({"s": "no_data", "nextTime": T0 - 86_400}, "has no data", id="empty"),
    pytest.param({"s": "ok", "t": [T0], "c": [0]}, "not a finite positive number", id="zero"),
    pytest.param({"s": "ok", "t": [T0], "c": ["NaN"]}, "not a finite positive number", id="nan"),
    pytest.param({"s": "ok", "t": [T0], "c": [-151.2]}, "not a finite positive number", id="negative"),
    pytest.param({"s": "error", "errmsg": "Symbol not supported"}, "Symbol not supported", id="error"),
]


@pytest.mark.parametrize(("answer", "reason"), BAD_ANSWERS)
def test_a_bad_answer_stores_nothing_and_names_the_reason(answer: Any, reason: str) -> None:
    feed = Feed(answer=answer)
    result = sol_usd_history(minutes=[T0], provider=feed, now=NOW)
    assert result.by_minute is None
    assert result.error is not None and reason in result.error
    assert SolUsdCandle.objects.count() == 0 and SolUsdHistoryRange.objects.count() == 0
    # Nothing was stored, so a later call asks again (the provider may have recovered).
    sol_usd_history(minutes=[T0], provider=Feed(), now=NOW)
    assert SolUsdCandle.objects.filter(minute=T0).exists()


def test_an_unreachable_provider_is_a_reason_not_an_exception() -> None:
    feed = Feed(fail=UpstreamTransientError("SOL price history: ConnectionError after retries"))
    result = sol_usd_history(minutes=[T0, T0 + 86_400 * 3], provider=feed, now=NOW)
    assert result.by_minute is None
    assert result.error is not None and "ConnectionError" in result.error
    assert len(feed.calls) == 1  # the first failure stops the run; the next analysis tries again


def test_stored_minutes_still_answer_when_the_provider_fails_for_others() -> None:
    sol_usd_history(minutes=[T0], provider=Feed(), now=NOW)
    broken = Feed(answer="garbage")
    result = sol_usd_history(minutes=[T0, T0 + 86_400 * 5], provider=broken, now=NOW)
    assert result.by_minute == {T0: pytest.approx(price_at(T0))}
    assert result.error is not None and "not a UDF object" in result.error


def test_a_long_history_is_fetched_over_several_computations() -> None:
    feed = Feed()
    days = [T0 + day * 86_400 for day in range(5)]  # five ranges, a day apart
    first = sol_usd_history(minutes=days, provider=feed, now=NOW, max_calls=3)
    assert len(feed.calls) == 3
    assert first.error is not None and "2 of 5 ranges still to fetch" in first.error
    assert first.by_minute is not None and len(first.by_minute) == 3
    second = sol_usd_history(minutes=days, provider=feed, now=NOW, max_calls=3)
    assert len(feed.calls) == 5 and second.error is None and second.by_minute is not None
    assert len(second.by_minute) == 5

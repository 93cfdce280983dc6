"""SOL/USD history answers in the TradingView UDF shape: what is accepted, what is refused and why, how
wanted minutes become fetch ranges, and how a minute missing from the feed is filled. Pure."""

from __future__ import annotations

from typing import Any

import pytest

from enrichment.candles import (
    GAP_TOLERANCE_S,
    Candle,
    HistoryAnswerError,
    parse_history,
    plan_ranges,
    resolve_minutes,
)

T0 = 1_790_000_040  # a minute start


def ok(times: list[Any], closes: list[Any]) -> dict[str, Any]:
    return {"s": "ok", "t": times, "o": closes, "h": closes, "l": closes, "c": closes, "v": [0] * len(times)}


def test_an_ok_answer_gives_its_candles_by_minute() -> None:
    answer = parse_history(ok([T0, T0 + 60], [150.5, 151.0]), start=T0, end=T0 + 119)
    assert answer.candles == (
        Candle(T0, 150.5, 150.5, 150.5, 150.5),
        Candle(T0 + 60, 151.0, 151.0, 151.0, 151.0),
    )
    assert not answer.no_data


def test_candles_outside_the_asked_range_are_dropped() -> None:
    answer = parse_history(ok([T0 - 600, T0, T0 + 600], [1.0, 2.0, 3.0]), start=T0, end=T0 + 59)
    assert [candle.minute for candle in answer.candles] == [T0]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<html>502</html>", "not a UDF object"),
        ([1, 2, 3], "not a UDF object"),
        ({"s": "error", "errmsg": "Unknown symbol"}, "Unknown symbol"),
        ({"s": "weird"}, "status"),
        ({"s": "ok", "t": [T0], "c": []}, "different lengths"),
        ({"s": "ok", "t": [T0]}, "missing"),
        (ok([T0], [0]), "not a finite positive number"),
        (ok([T0], [-150.0]), "not a finite positive number"),
        (ok([T0], ["NaN"]), "not a finite positive number"),
        (ok([T0], [float("nan")]), "not a finite positive number"),
        (ok([T0], [float("inf")]), "not a finite positive number"),
        (ok([T0], [None]), "None"),
        (ok([T0], [True]), "True"),
        (ok(["soon"], [150.0]), "not a number"),
        (ok([T0 + 0.5], [150.0]), "whole second"),
    ],
)
def test_unusable_answers_are_refused_with_a_reason(body: Any, message: str) -> None:
    with pytest.raises(HistoryAnswerError, match=message):
        parse_history(body, start=T0, end=T0 + 59)


def test_no_data_is_an_empty_answer_not_an_error() -> None:
    assert parse_history({"s": "no_data", "nextTime": T0 - 3600}, start=T0, end=T0 + 59).no_data
    assert parse_history(ok([], []), start=T0, end=T0 + 59).no_data


def test_each_utc_day_with_a_wanted_minute_is_one_whole_day_range() -> None:
    day = T0 - T0 % 86_400  # T0 is at 14:14 UTC: ten hours later is the next day
    minutes = [T0, T0 + 60, T0 + 3_600, T0 + 10 * 3_600, T0 + 10 * 3_600 + 60]
    assert plan_ranges(minutes) == [(day, day + 86_340), (day + 86_400, day + 2 * 86_400 - 60)]
    every_hour_for_three_days = [day + h * 3_600 for h in range(72)]
    assert len(plan_ranges(every_hour_for_three_days)) == 3
    assert plan_ranges([]) == []


def test_a_minute_missing_from_the_feed_takes_the_last_close_within_five_minutes() -> None:
    closes = {T0: 150.0, T0 + 600: 160.0}
    resolved = resolve_minutes(
        [T0, T0 + 60, T0 + GAP_TOLERANCE_S, T0 + GAP_TOLERANCE_S + 60, T0 + 600], closes
    )
    assert resolved == {T0: 150.0, T0 + 60: 150.0, T0 + GAP_TOLERANCE_S: 150.0, T0 + 600: 160.0}
    assert resolve_minutes([T0 - 60], closes) == {}

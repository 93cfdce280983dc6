"""SOL/USD history in the TradingView UDF shape (Pyth Benchmarks): reading answers, planning fetches, and
resolving a minute's price. Pure: no Django, no Redis, no I/O.

An answer is `{"s": "ok", "t": [...], "o": [...], "h": [...], "l": [...], "c": [...], "v": [...]}`,
`{"s": "no_data", "nextTime": ...}` or `{"s": "error", "errmsg": ...}`. A candle's `t` is the start of its
minute; its close is the minute's price. Anything else (not an object, arrays missing or of different
lengths, a price that is not a finite positive number, a time that is not an integer) makes the whole
answer unusable: nothing from it is stored, and the reason is reported instead of USD figures.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MINUTE_S = 60
# One call covers one UTC day of 1-minute candles (1,440, about 60 KB of JSON).
DAY_S = 86_400
# A minute without its own candle (a gap in the feed) takes the last close at most this much earlier.
GAP_TOLERANCE_S = 5 * MINUTE_S


class HistoryAnswerError(ValueError):
    """The answer cannot be used; the message says why, for the result's reason."""


@dataclass(frozen=True, slots=True)
class Candle:
    minute: int
    open: float | None
    high: float | None
    low: float | None
    close: float


@dataclass(frozen=True, slots=True)
class HistoryAnswer:
    candles: tuple[Candle, ...]
    no_data: bool  # the provider said there is nothing in the range


def _time(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise HistoryAnswerError(f"a candle time is not a number: {value!r}")
    if int(value) != value:
        raise HistoryAnswerError(f"a candle time is not a whole second: {value!r}")
    return int(value)


def _price(value: Any, *, name: str, minute: int) -> float:
    if isinstance(value, bool) or value is None:
        raise HistoryAnswerError(f"the {name} price at {minute} is {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise HistoryAnswerError(f"the {name} price at {minute} is {value!r}") from exc
    if not math.isfinite(number) or number <= 0:
        raise HistoryAnswerError(f"the {name} price at {minute} is {value!r}, not a finite positive number")
    return number


def parse_history(body: Any, *, start: int, end: int) -> HistoryAnswer:
    """The candles of an answer for [start, end] (unix seconds), validated; raises HistoryAnswerError."""
    if not isinstance(body, dict):
        raise HistoryAnswerError(f"the answer is {type(body).__name__}, not a UDF object")
    status = body.get("s")
    if status == "no_data":
        return HistoryAnswer((), True)
    if status == "error":
        raise HistoryAnswerError(f"the provider answered an error: {str(body.get('errmsg'))[:200]}")
    if status != "ok":
        raise HistoryAnswerError(f"the answer's status is {str(status)[:50]!r}")
    times, closes = body.get("t"), body.get("c")
    if not isinstance(times, list) or not isinstance(closes, list) or len(times) != len(closes):
        raise HistoryAnswerError("the answer's `t` and `c` arrays are missing or of different lengths")
    others = {}
    for name in ("o", "h", "l"):
        values = body.get(name)
        others[name] = values if isinstance(values, list) and len(values) == len(times) else None
    candles: dict[int, Candle] = {}
    for index, raw_time in enumerate(times):
        timestamp = _time(raw_time)
        minute = timestamp - timestamp % MINUTE_S
        close = _price(closes[index], name="close", minute=minute)
        extra = {
            name: None if values is None else _price(values[index], name=name, minute=minute)
            for name, values in others.items()
        }
        if start - MINUTE_S < timestamp <= end:
            candles[minute] = Candle(minute, extra["o"], extra["h"], extra["l"], close)
    return HistoryAnswer(tuple(candles[minute] for minute in sorted(candles)), not candles)


def plan_ranges(minutes: Iterable[int]) -> list[tuple[int, int]]:
    """The fetch ranges (first minute, last minute) for these minute starts, in order: every UTC day that
    holds one is fetched whole. A bulk run's PnL computations want minutes all over the same few weeks; whole
    days, once stored, answer every later wallet's minutes of that day without a call, where ranges cut to
    one wallet's trades left gaps that the next wallet fetched again (docs/BENCHMARKS.md, bulk runs)."""
    days = sorted({minute - minute % DAY_S for minute in minutes})
    return [(day, day + DAY_S - MINUTE_S) for day in days]


def resolve_minutes(minutes: Iterable[int], closes: Mapping[int, float]) -> dict[int, float]:
    """Each wanted minute's price: its own close, else the last close within GAP_TOLERANCE_S before it.
    Minutes with neither are left out."""
    known: Sequence[int] = sorted(closes)
    resolved: dict[int, float] = {}
    for minute in minutes:
        if minute in closes:
            resolved[minute] = closes[minute]
            continue
        index = bisect_right(known, minute) - 1
        if index >= 0 and minute - known[index] <= GAP_TOLERANCE_S:
            resolved[minute] = closes[known[index]]
    return resolved

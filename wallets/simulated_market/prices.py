"""The price model: how a memecoin's price in SOL moves, minute by minute, reproducibly and lazily.

A token's log price is its launch price, plus an early pump or dump that fades within hours, minus a slow
decay (most memecoins bleed out), plus Brownian motion. The motion is built as a hierarchy of Brownian
bridges: a walk of daily points, hourly points bridged between two days, minute points bridged between two
hours. Asking for any minute costs at most one day's 24 and one hour's 60 draws, every minute is the same
whichever minutes were asked before, and nothing before it has to be generated. Between minutes the price
is linear, so a round trip of a few seconds still sees the price move. Prices are clamped between a floor
(a dead coin, ~20 SOL market cap) and a ceiling (~500k SOL).

SOL itself moves too. `SolUsdPath` is SOL's price in USD over the `SOL_USD_HISTORY_DAYS` before "now", at
minute resolution: a mean-reverting random walk of daily points (about 3.5 % a day around ~160 USD, kept
between 100 and 250 USD) bridged down to hours and minutes like the token paths. It is built backwards
from "now", where it ends exactly at `SOL_USD_PRICE`, so today's price is a fixed number whatever the seed.
One-minute candles are read off the minute points: a candle opens at its minute's point and closes at the
next one, with a small high/low wiggle beyond both; coarser candles aggregate minutes. The SOL/USD of a
moment is the close of the one-minute candle that contains it, and that is the rate the market uses when it
settles a stablecoin-quoted swap.
"""

from __future__ import annotations

import hashlib
import math
import random
from array import array
from dataclasses import dataclass
from functools import cache

__all__ = [
    "MAX_PRICE_SOL",
    "MIN_PRICE_SOL",
    "SOL_USD_HISTORY_DAYS",
    "SOL_USD_PRICE",
    "Candle",
    "PricePath",
    "SolUsdPath",
    "bridge",
]

SOL_USD_PRICE = 150.0  # today's SOL/USD: where the SOL/USD path ends
SOL_USD_HISTORY_DAYS = 400  # the SOL/USD path covers this many days before "now"
_SOL_USD_MEAN = 160.0
_SOL_USD_BOUNDS = (100.0, 250.0)
_SOL_USD_DAY_SD = 0.035  # log-price standard deviation per day
_SOL_USD_REVERSION = 0.04  # share of the distance to the mean closed per day
_SOL_USD_WIGGLE = 0.0004  # a minute's high/low reach beyond its open and close, relative, at one sigma
_SOL_USD_DECIMALS = 6
_HOUR_CANDLE_CACHE = 24 * 40  # hours of minute candles kept per path (~1 MB)

MIN_PRICE_SOL = 2e-8  # ~20 SOL market cap: a dead coin floors here instead of drifting to zero
MAX_PRICE_SOL = 5e-4  # ~500k SOL market cap
_PATH_TAIL_DAYS = 3  # the path runs a little past "now", so a price a few days ahead never runs out
PRICE_CACHE_HOURS = 256  # per token (default): bounds a long-lived worker's memory
_NORMAL_TABLE_SIZE = 1 << 14


class PricePath:
    """Log price in SOL per whole token: an early pump trend plus Brownian motion sampled per minute."""

    def __init__(
        self,
        seed: bytes,
        launch_ts: int,
        end_ts: int,
        *,
        established: bool = False,
        cache_hours: int = PRICE_CACHE_HOURS,
    ) -> None:
        """`established`: a token that has traded for a long time (no launch pump, no bleed, a calmer walk
        around a higher price), the kind high-frequency bots trade all year. `cache_hours`: hours of minute
        prices kept (then dropped all at once; they are rebuilt on demand, identically)."""
        rng = random.Random(seed)
        self._seed = seed
        self._cache_hours = cache_hours
        self.launch_ts = launch_ts
        if established:
            self._log_p0 = math.log(10 ** rng.uniform(math.log10(3e-6), math.log10(1e-4)))
            self._sigma = rng.uniform(0.0012, 0.0025)
            self._pump, self._pump_tau_min, self._decay_per_min = 0.0, 1.0, 0.0
        else:
            self._log_p0 = math.log(10 ** rng.uniform(math.log10(3e-8), math.log10(3e-6)))
            self._sigma = rng.uniform(0.004, 0.012)  # per sqrt(minute)
            self._pump = rng.uniform(-0.5, 3.0)
            self._pump_tau_min = rng.uniform(30.0, 600.0)
            self._decay_per_min = rng.uniform(0.0, 0.25) / 1440
        days = (end_ts + _PATH_TAIL_DAYS * 86_400 - launch_ts) // 86_400 + 1
        walk = [0.0]
        for _ in range(days):
            walk.append(walk[-1] + rng.gauss(0.0, math.sqrt(1440.0)))
        self._day_points = walk
        self._hour_points: dict[int, array[float]] = {}
        self._minute_points: dict[int, array[float]] = {}

    def price(self, timestamp: int) -> float:
        """Linear between the per-minute samples, so sub-minute round trips still see the price move."""
        elapsed = max(0, timestamp - self.launch_ts)
        minute, second = divmod(elapsed, 60)
        trend = self._pump * (1.0 - math.exp(-minute / self._pump_tau_min)) - self._decay_per_min * minute
        log_price = self._log_p0 + trend + self._sigma * self._motion(minute, second / 60)
        return min(MAX_PRICE_SOL, max(MIN_PRICE_SOL, math.exp(log_price)))

    def _motion(self, minute: int, fraction: float) -> float:
        day, minute_of_day = divmod(minute, 1440)
        if day > len(self._day_points) - 2:
            day, minute_of_day, fraction = len(self._day_points) - 2, 1439, 1.0
        hour, minute_of_hour = divmod(minute_of_day, 60)
        hour_key = day * 24 + hour
        minutes = self._minute_points.get(hour_key)
        if minutes is None:
            hours = self._hours(day)
            key = self._seed + b"m" + hour_key.to_bytes(4, "big")
            minutes = bridge(key, hours[hour], hours[hour + 1], 60, 1.0)
            if len(self._minute_points) >= self._cache_hours:
                self._minute_points.clear()
            self._minute_points[hour_key] = minutes
        start = minutes[minute_of_hour]
        return start + (minutes[minute_of_hour + 1] - start) * fraction

    def _hours(self, day: int) -> array[float]:
        hours = self._hour_points.get(day)
        if hours is None:
            key = self._seed + b"h" + day.to_bytes(4, "big")
            hours = bridge(key, self._day_points[day], self._day_points[day + 1], 24, math.sqrt(60.0))
            self._hour_points[day] = hours
        return hours


@cache
def _normal_table() -> list[float]:
    """Shared standard normal draws: a bridge reads 60 of them at a hashed offset and stride, which is
    several times cheaper than seeding a generator and drawing per hour of price path."""
    rng = random.Random(b"simulated-market-normals")
    return [rng.gauss(0.0, 1.0) for _ in range(_NORMAL_TABLE_SIZE)]


def bridge(key: bytes, start: float, end: float, steps: int, step_sd: float) -> array[float]:
    """Brownian bridge from start to end: a free walk with its end error spread linearly."""
    table = _normal_table()
    draw = int.from_bytes(hashlib.sha256(key).digest()[:8], "big")
    mask = _NORMAL_TABLE_SIZE - 1
    offset, stride = draw & mask, ((draw >> 32) & mask) | 1  # an odd stride visits distinct entries
    walk = [0.0] * (steps + 1)
    total = 0.0
    for step in range(1, steps + 1):
        total += table[(offset + step * stride) & mask] * step_sd
        walk[step] = total
    correction = (end - start - total) / steps
    return array("d", [start + value + correction * step for step, value in enumerate(walk)])


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLC bar; `start` is the bar's first second, prices are USD per SOL."""

    start: int
    open: float
    high: float
    low: float
    close: float


class SolUsdPath:
    """SOL/USD at minute resolution over `SOL_USD_HISTORY_DAYS` days ending at `end_ts` (a whole minute)."""

    def __init__(self, seed: bytes, end_ts: int, *, cache_hours: int = PRICE_CACHE_HOURS) -> None:
        if end_ts % 60:
            raise ValueError("the SOL/USD path must end on a whole minute")
        self._seed = seed
        self._cache_hours = cache_hours
        self.end_ts = end_ts
        self.start_ts = end_ts - SOL_USD_HISTORY_DAYS * 86_400
        rng = random.Random(seed)
        low, high = math.log(_SOL_USD_BOUNDS[0] * 1.05), math.log(_SOL_USD_BOUNDS[1] * 0.95)
        mean = math.log(_SOL_USD_MEAN)
        backwards = [math.log(SOL_USD_PRICE)]
        for _ in range(SOL_USD_HISTORY_DAYS):
            point = (
                backwards[-1] + _SOL_USD_REVERSION * (mean - backwards[-1]) + rng.gauss(0.0, _SOL_USD_DAY_SD)
            )
            # Reflect at the bounds: the walk stays a walk, only inside the band.
            point = low + abs(point - low) if point < low else point
            point = high - abs(point - high) if point > high else point
            backwards.append(point)
        self._day_points = backwards[::-1]  # oldest first; the last one is "now"
        self._wiggle_offset = int.from_bytes(hashlib.sha256(seed + b"wiggle").digest()[:4], "big")
        self._hour_points: dict[int, array[float]] = {}
        self._minute_points: dict[int, array[float]] = {}
        self._hour_minutes: dict[int, _HourOfMinutes] = {}

    def covers(self, timestamp: int) -> bool:
        return self.start_ts <= timestamp <= self.end_ts

    def point(self, minute_ts: int) -> float:
        """The price at a whole minute inside the path, in USD, rounded like the candles."""
        offset, rest = divmod(minute_ts - self.start_ts, 60)
        if rest or not 0 <= offset <= SOL_USD_HISTORY_DAYS * 1440:
            raise ValueError(f"no SOL/USD point at {minute_ts}")
        if offset == SOL_USD_HISTORY_DAYS * 1440:
            return SOL_USD_PRICE
        hour_key, minute_of_hour = divmod(offset, 60)
        return _sol_usd(self._log_minutes(hour_key)[minute_of_hour])

    def _log_minutes(self, hour_key: int) -> array[float]:
        """Log prices of one hour's minutes (61 points: the last is the next hour's first, up to rounding)."""
        minutes = self._minute_points.get(hour_key)
        if minutes is None:
            day, hour = divmod(hour_key, 24)
            hours = self._hours(day)
            key = self._seed + b"m" + hour_key.to_bytes(4, "big")
            minutes = bridge(key, hours[hour], hours[hour + 1], 60, _SOL_USD_DAY_SD / math.sqrt(1440.0))
            if len(self._minute_points) >= self._cache_hours:
                self._minute_points.clear()
            self._minute_points[hour_key] = minutes
        return minutes

    def _hours(self, day: int) -> array[float]:
        hours = self._hour_points.get(day)
        if hours is None:
            key = self._seed + b"h" + day.to_bytes(4, "big")
            start, end = self._day_points[day], self._day_points[day + 1]
            hours = bridge(key, start, end, 24, _SOL_USD_DAY_SD / math.sqrt(24.0))
            if len(self._hour_points) >= self._cache_hours:
                self._hour_points.clear()
            self._hour_points[day] = hours
        return hours

    def _minute_candles(self, hour_start: int) -> _HourOfMinutes:
        """The one-minute candles of an hour as parallel lists (61 prices: opens, then the last close)."""
        cached = self._hour_minutes.get(hour_start)
        if cached is not None:
            return cached
        hour_key = (hour_start - self.start_ts) // 3600
        logs = self._log_minutes(hour_key)
        prices = [_sol_usd(logs[minute]) for minute in range(60)]
        prices.append(self.point(hour_start + 3600))  # a candle closes where the next one opens
        table = _normal_table()
        mask = _NORMAL_TABLE_SIZE - 1
        slot = self._wiggle_offset + (hour_start // 60) * 2
        highs, lows = [], []
        for minute in range(60):
            opening, closing = prices[minute], prices[minute + 1]
            reach_up = abs(table[((slot + 2 * minute) * 40_503) & mask]) * _SOL_USD_WIGGLE
            reach_down = abs(table[((slot + 2 * minute + 1) * 40_503) & mask]) * _SOL_USD_WIGGLE
            highs.append(round(max(opening, closing) * (1 + reach_up), _SOL_USD_DECIMALS))
            lows.append(round(min(opening, closing) * (1 - reach_down), _SOL_USD_DECIMALS))
        minutes = _HourOfMinutes(prices, highs, lows)
        if len(self._hour_minutes) >= _HOUR_CANDLE_CACHE:
            self._hour_minutes.clear()
        self._hour_minutes[hour_start] = minutes
        return minutes

    def minute_candle(self, start: int) -> Candle:
        """The one-minute candle starting at `start` (a whole minute before `end_ts`)."""
        hour_start = start - (start - self.start_ts) % 3600
        minute = (start - hour_start) // 60
        hour = self._minute_candles(hour_start)
        return Candle(
            start, hour.prices[minute], hour.highs[minute], hour.lows[minute], hour.prices[minute + 1]
        )

    def candle(self, start: int, minutes: int) -> Candle:
        """A candle of `minutes` one-minute candles starting at `start`; whole hours are read from the
        hour's minutes at once, so a year of daily candles stays cheap."""
        if minutes % 60 == 0 and (start - self.start_ts) % 3600 == 0:
            hours = [self._minute_candles(start + 3600 * hour) for hour in range(minutes // 60)]
            return Candle(
                start,
                hours[0].prices[0],
                max(max(hour.highs) for hour in hours),
                min(min(hour.lows) for hour in hours),
                hours[-1].prices[60],
            )
        parts = [self.minute_candle(start + 60 * step) for step in range(minutes)]
        return Candle(
            start,
            parts[0].open,
            max(part.high for part in parts),
            min(part.low for part in parts),
            parts[-1].close,
        )

    def candles(self, from_ts: int, to_ts: int, minutes: int) -> tuple[list[Candle], int | None]:
        """Complete candles of `minutes` whose start lies in [from_ts, to_ts], oldest first, and, when there
        are none, the start of the last candle before `from_ts` (None when the history starts later)."""
        step = minutes * 60
        first = max(from_ts + (-from_ts) % step, self.start_ts + (-self.start_ts) % step)
        last = min(to_ts - to_ts % step, self.end_ts - step - (self.end_ts - step) % step)
        bars = [self.candle(start, minutes) for start in range(first, last + 1, step)]
        if bars:
            return bars, None
        before = min(from_ts - 1, self.end_ts - step)
        before -= before % step
        return [], before if before >= self.start_ts else None

    def at(self, timestamp: int) -> float:
        """SOL/USD of a moment: the close of the one-minute candle that contains it."""
        start = timestamp - timestamp % 60
        if not self.start_ts <= start < self.end_ts:
            raise ValueError(f"{timestamp} is outside the SOL/USD history")
        return self.point(start + 60)


@dataclass(frozen=True, slots=True)
class _HourOfMinutes:
    prices: list[float]  # 61: each minute's open, then the hour's close
    highs: list[float]
    lows: list[float]


def _sol_usd(log_price: float) -> float:
    return round(min(_SOL_USD_BOUNDS[1], max(_SOL_USD_BOUNDS[0], math.exp(log_price))), _SOL_USD_DECIMALS)

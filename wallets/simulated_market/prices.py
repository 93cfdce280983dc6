"""The price model: how a memecoin's price in SOL moves, minute by minute, reproducibly and lazily.

A token's log price is its launch price, plus an early pump or dump that fades within hours, minus a slow
decay (most memecoins bleed out), plus Brownian motion. The motion is built as a hierarchy of Brownian
bridges: a walk of daily points, hourly points bridged between two days, minute points bridged between two
hours. Asking for any minute costs at most one day's 24 and one hour's 60 draws, every minute is the same
whichever minutes were asked before, and nothing before it has to be generated. Between minutes the price
is linear, so a round trip of a few seconds still sees the price move. Prices are clamped between a floor
(a dead coin, ~20 SOL market cap) and a ceiling (~500k SOL).
"""

from __future__ import annotations

import hashlib
import math
import random
from array import array
from functools import cache

__all__ = ["MAX_PRICE_SOL", "MIN_PRICE_SOL", "SOL_USD_PRICE", "PricePath", "bridge"]

SOL_USD_PRICE = 150.0

MIN_PRICE_SOL = 2e-8  # ~20 SOL market cap: a dead coin floors here instead of drifting to zero
MAX_PRICE_SOL = 5e-4  # ~500k SOL market cap
_PATH_TAIL_DAYS = 3  # the path runs a little past "now", so a price a few days ahead never runs out
_PRICE_CACHE_HOURS = 256  # per token: bounds a long-lived worker's memory
_NORMAL_TABLE_SIZE = 1 << 14


class PricePath:
    """Log price in SOL per whole token: an early pump trend plus Brownian motion sampled per minute."""

    def __init__(self, seed: bytes, launch_ts: int, end_ts: int) -> None:
        rng = random.Random(seed)
        self._seed = seed
        self.launch_ts = launch_ts
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
            if len(self._minute_points) >= _PRICE_CACHE_HOURS:
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

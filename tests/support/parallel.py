"""Real parallel requests: many threads released at the same instant against a live server."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def run_in_parallel(count: int, call: Callable[[int], T], *, timeout_s: float = 120.0) -> list[T]:
    """`call(i)` for every i in range(count), each in its own thread; a barrier releases them together, so
    the calls overlap as much as the server lets them. Results come back in the order of i."""
    barrier = threading.Barrier(count, timeout=timeout_s)

    def released(index: int) -> T:
        barrier.wait()
        return call(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(released, index) for index in range(count)]
        return [future.result(timeout=timeout_s) for future in futures]

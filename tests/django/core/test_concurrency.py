"""Slot pools in Redis (core.concurrency): all-or-nothing acquisition, leases that outlive no dead holder."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from core.concurrency import (
    SlotPool,
    SlotsUnavailableError,
    slots_acquire,
    slots_held,
    slots_in_use,
    slots_release,
)
from tests.support.stack import wait_for


def pool(limit: int) -> SlotPool:
    return SlotPool(f"test:{uuid.uuid4().hex}", limit)


def test_a_slot_is_taken_in_every_pool_or_in_none() -> None:
    mine, shared = pool(2), pool(1)
    token = slots_acquire([mine, shared], lease_s=30)

    with pytest.raises(SlotsUnavailableError) as refused:
        slots_acquire([mine, shared], lease_s=30)

    assert refused.value.pool == shared
    assert slots_in_use(mine) == 1  # the refused call left nothing behind in the pool that had room
    slots_release([mine, shared], token=token)
    assert slots_in_use(mine) == slots_in_use(shared) == 0


def test_a_holder_that_stops_renewing_frees_its_slot_one_lease_later() -> None:
    shared = pool(1)
    slots_acquire([shared], lease_s=1.0)  # then never renewed nor released: its process died
    started = time.monotonic()

    wait_for(
        lambda: slots_acquire([shared], lease_s=30), timeout_s=5, interval_s=0.05, what="the lease to end"
    )

    assert 0.8 < time.monotonic() - started < 3.0


def test_a_working_holder_keeps_its_slot_across_many_leases() -> None:
    shared = pool(1)
    entered = threading.Event()
    leave = threading.Event()

    def hold() -> None:
        with slots_held([shared], lease_s=0.6):
            entered.set()
            leave.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert entered.wait(5)
        deadline = time.monotonic() + 2.0  # more than three leases
        while time.monotonic() < deadline:
            with pytest.raises(SlotsUnavailableError):
                slots_acquire([shared], lease_s=30)
            time.sleep(0.1)
    finally:
        leave.set()
        holder.join(10)
    assert slots_in_use(shared) == 0

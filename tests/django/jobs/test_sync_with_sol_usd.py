"""A flow's wallet sync fetches the SOL/USD of its listed transactions' days while it fetches the
transactions (jobs/flows/common.py), so the history is stored when the sync ends, with no call after it."""

from __future__ import annotations

from typing import Any

import pytest

from analysis.pnl import usd_minutes
from enrichment.models import SolUsdHistoryRange
from enrichment.services import sol_usd_history
from jobs.flows import common
from wallets.models import Swap
from wallets.selectors import wallet_chain_records, wallet_swap_legs
from wallets.simulated_market import SimulatedMarket

# The prefetch thread has its own database connection: it must see committed rows, and commit its own.
pytestmark = pytest.mark.django_db(transaction=True)

DAY_S = 86_400


def test_the_listed_days_are_fetched_during_the_sync_and_nothing_is_left_after(monkeypatch: Any) -> None:
    wallet = SimulatedMarket(seed=0).sample_wallets(3)[2]
    listed: list[list[int]] = []
    during_sync: list[int] = []
    real_sync = common.wallet_sync

    def sync(**kwargs: Any) -> Any:
        def on_listed(timestamps: list[int]) -> object:
            # Called before any transaction of the wallet is stored.
            during_sync.append(Swap.objects.filter(wallet_id=wallet).count())
            listed.append(timestamps)
            return kwargs["on_listed"](timestamps)

        return real_sync(**{**kwargs, "on_listed": on_listed})

    after: list[int] = []
    real_after = common.analysis_prefetch_sol_usd

    def prefetch_after(*, address: str) -> int:
        after.append(real_after(address=address))
        return after[-1]

    monkeypatch.setattr(common, "wallet_sync", sync)
    monkeypatch.setattr(common, "analysis_prefetch_sol_usd", prefetch_after)

    outcome = common.wallet_sync_with_sol_usd(wallet=wallet, checkpoint=lambda: None)

    assert outcome.new_transactions > 0 and during_sync == [0] and len(listed) == 1
    days = {timestamp - timestamp % DAY_S for timestamp in listed[0]}
    stored_days = set(SolUsdHistoryRange.objects.values_list("start_minute", flat=True))
    assert days <= {start - start % DAY_S for start in stored_days}
    # Every minute the wallet's USD figures need is stored: the fetch after the sync had nothing to ask.
    legs = wallet_swap_legs(address=wallet)
    minutes = usd_minutes(legs, wallet_chain_records(address=wallet) or ())
    assert minutes and after == [0]
    assert sol_usd_history(minutes=minutes, max_calls=0).error is None

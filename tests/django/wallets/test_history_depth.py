"""History depth (issue 19, docs/ARCHITECTURE.md "History depth"), against the fake Helius over real HTTP:
a first sync stores the newest window only; deepening extends it a page at a time to the caps in signatures
or days and never past them; the rows stored stay within the cap (the oldest go first); a crash half way
resumes to exact rows; a sync that finds more new transactions than its window restarts the stretch, and
deepening walks back through what is stored without fetching it again; a sync never waits on a deepening."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone
from pytest_django.fixtures import Settings

from tests.django.wallets.conftest import LegKey
from tests.support.fake_upstream import FakeUpstream
from wallets.extraction import extract_wallet_swaps
from wallets.locks import WalletHistoryLock, WalletLockBusyError, WalletSyncLock
from wallets.models import NativeTransfer, Swap, Transaction, TransactionEffect, Wallet
from wallets.selectors import wallet_history, wallet_swap_legs
from wallets.services import HistoryDeepenOutcome, wallet_history_deepen, wallet_sync
from wallets.simulated_market import SimulatedMarket

pytestmark = pytest.mark.django_db

MARKET = SimulatedMarket(seed=0)
MILLION_BOT, BOT_200K = MARKET.heavy_bots()


class Crash(Exception):
    """Stands for a worker killed in the middle of a deepening."""


@pytest.fixture
def caps(settings: Settings) -> Settings:
    settings.WALLET_SYNC_INITIAL_SIGNATURES = 300
    settings.WALLET_HISTORY_MAX_SIGNATURES = 1_200
    settings.WALLET_HISTORY_MAX_DAYS = 0
    return settings


def newest_entries(market: SimulatedMarket, wallet: str, count: int) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    before: str | None = None
    while len(entries) < count:
        page = market.get_signatures(wallet, before=before, limit=min(1000, count - len(entries)))
        entries += page
        if not page:
            break
        before = page[-1]["signature"]
    return entries


def transactions_of(market: SimulatedMarket, entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    signatures = [entry["signature"] for entry in entries]
    return [
        tx for i in range(0, len(signatures), 100) for tx in market.get_transactions(signatures[i : i + 100])
    ]


def legs_of(wallet: str, transactions: list[dict[str, Any]]) -> set[LegKey]:
    return {
        (
            leg.signature,
            leg.mint,
            leg.direction,
            leg.token_amount_raw,
            leg.quote_amount_raw,
            leg.quote_mint or "",
            leg.sol_value_lamports,
            leg.fee_lamports,
        )
        for leg in extract_wallet_swaps(transactions, wallet).legs
    }


def stored_rows(wallet: str) -> dict[str, int]:
    return {
        "links": Transaction.objects.filter(wallets=wallet).count(),
        "records": TransactionEffect.objects.filter(wallet_id=wallet).count(),
        "seen": Wallet.objects.get(address=wallet).transactions_seen,
    }


def stored_legs(wallet: str) -> set[LegKey]:
    rows = Swap.objects.filter(wallet_id=wallet).values_list(
        "signature",
        "mint",
        "direction",
        "token_amount_raw",
        "quote_amount_raw",
        "quote_mint",
        "sol_value_lamports",
        "fee_lamports",
    )
    return {(s, m, d, int(t), int(q), qm, v, f) for s, m, d, t, q, qm, v, f in rows}


def deepen_until_done(wallet: str, **options: Any) -> list[HistoryDeepenOutcome]:
    outcomes = [wallet_history_deepen(address=wallet, **options)]
    while outcomes[-1].more:
        outcomes.append(wallet_history_deepen(address=wallet, **options))
    return outcomes


def test_a_first_sync_of_a_million_transaction_bot_stores_its_newest_window_only(
    helius: FakeUpstream, caps: Settings
) -> None:
    outcome = wallet_sync(address=MILLION_BOT)

    # One slot left out at the window's end: its other transactions may be on the next page.
    window = newest_entries(MARKET, MILLION_BOT, 300)[:299]
    assert outcome.new_transactions == 299
    assert outcome.history is not None and outcome.history.signatures == 299
    assert not outcome.history.complete and outcome.history.limited_by == ""
    assert outcome.history_work_wanted
    assert stored_rows(MILLION_BOT) == {"links": 299, "records": 299, "seen": 299}
    assert stored_legs(MILLION_BOT) == legs_of(MILLION_BOT, transactions_of(MARKET, window))
    history = wallet_history(address=MILLION_BOT).to_dict()
    assert history == {
        "from": datetime.fromtimestamp(window[-1]["blockTime"], tz=UTC).isoformat(),
        "to": datetime.fromtimestamp(window[0]["blockTime"], tz=UTC).isoformat(),
        "signatures": 299,
        "complete": False,
        "limited_by": None,
    }
    assert sum(helius.transaction_batch_sizes) == 299


def test_deepening_goes_a_page_at_a_time_and_stops_exactly_at_the_cap(
    helius: FakeUpstream, caps: Settings
) -> None:
    wallet_sync(address=MILLION_BOT)
    helius.reset_counters()

    outcomes = deepen_until_done(MILLION_BOT)

    assert [outcome.more for outcome in outcomes][-1] is False
    assert all(outcome.pages <= 1 for outcome in outcomes)
    newest = newest_entries(MARKET, MILLION_BOT, 1_200)
    assert stored_rows(MILLION_BOT) == {"links": 1_200, "records": 1_200, "seen": 1_200}
    assert stored_legs(MILLION_BOT) == legs_of(MILLION_BOT, transactions_of(MARKET, newest))
    wallet = Wallet.objects.get(address=MILLION_BOT)
    assert (wallet.oldest_signature, wallet.history_signatures) == (newest[-1]["signature"], 1_200)
    assert (wallet.history_complete, wallet.history_limited_by) == (False, "signatures")
    # Each transaction was fetched once; nothing beyond the cap was asked for.
    assert sum(helius.transaction_batch_sizes) == 1_200 - 299
    assert all(options.get("limit", 1000) <= 1000 for _, (_, options) in helius.rpc_calls)

    # At the cap, another call changes nothing and asks the upstream nothing.
    helius.reset_counters()
    again = wallet_history_deepen(address=MILLION_BOT)
    assert (again.more, again.pages, again.new_transactions) == (False, 0, 0)
    assert helius.total_requests == 0


def test_the_days_cap_stops_deepening_at_the_cutoff(helius: FakeUpstream, caps: Settings) -> None:
    # The 200,000-transaction bot trades ~555 times a day up to the market's "now": one day beyond the
    # days that passed since then puts the cutoff a day or so into its history, well inside 5,000 rows.
    anchor = newest_entries(MARKET, BOT_200K, 1)[0]["blockTime"]
    days = max(1, (int(timezone.now().timestamp()) - anchor) // 86_400 + 2)
    caps.WALLET_HISTORY_MAX_DAYS = days
    caps.WALLET_HISTORY_MAX_SIGNATURES = 5_000

    wallet_sync(address=BOT_200K)
    deepen_until_done(BOT_200K)

    cutoff = int(timezone.now().timestamp()) - days * 86_400
    within = [entry for entry in newest_entries(MARKET, BOT_200K, 5_000) if entry["blockTime"] >= cutoff]
    assert 0 < len(within) < 5_000
    wallet = Wallet.objects.get(address=BOT_200K)
    assert (wallet.history_signatures, wallet.history_limited_by) == (len(within), "days")
    assert not wallet.history_complete and wallet.oldest_at is not None and wallet.oldest_at >= cutoff
    assert stored_rows(BOT_200K)["records"] == len(within)


def test_a_deepening_killed_half_way_resumes_to_exact_rows(helius: FakeUpstream, caps: Settings) -> None:
    wallet_sync(address=MILLION_BOT)
    calls = 0

    def crash_on_fourth_checkpoint() -> None:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise Crash

    with pytest.raises(Crash):
        deepen_until_done(MILLION_BOT, checkpoint=crash_on_fourth_checkpoint)
    stopped = Wallet.objects.get(address=MILLION_BOT)
    assert stopped.history_signatures < stopped.transactions_seen  # stored, not yet part of the stretch

    deepen_until_done(MILLION_BOT)

    newest = newest_entries(MARKET, MILLION_BOT, 1_200)
    assert stored_rows(MILLION_BOT) == {"links": 1_200, "records": 1_200, "seen": 1_200}
    assert stored_legs(MILLION_BOT) == legs_of(MILLION_BOT, transactions_of(MARKET, newest))
    assert Swap.objects.filter(wallet_id=MILLION_BOT).count() == len(stored_legs(MILLION_BOT))


def test_a_lower_cap_prunes_the_oldest_rows_and_their_cached_payloads(
    helius: FakeUpstream, caps: Settings
) -> None:
    wallet_sync(address=MILLION_BOT)
    deepen_until_done(MILLION_BOT)
    caps.WALLET_HISTORY_MAX_SIGNATURES = 800

    outcome = wallet_history_deepen(address=MILLION_BOT)

    newest = newest_entries(MARKET, MILLION_BOT, 800)
    assert outcome.pruned == 400 and not outcome.more
    assert stored_rows(MILLION_BOT) == {"links": 800, "records": 800, "seen": 800}
    assert Transaction.objects.filter(wallets__isnull=True).count() == 0  # no payload left behind
    assert stored_legs(MILLION_BOT) == legs_of(MILLION_BOT, transactions_of(MARKET, newest))
    assert NativeTransfer.objects.filter(wallet_id=MILLION_BOT, slot__lt=newest[-1]["slot"]).count() == 0
    wallet = Wallet.objects.get(address=MILLION_BOT)
    assert (wallet.oldest_signature, wallet.history_signatures) == (newest[-1]["signature"], 800)
    assert (wallet.history_complete, wallet.history_limited_by) == (False, "signatures")


def test_a_sync_that_finds_more_than_its_window_restarts_the_stretch_and_deepening_joins_it_up(
    helius: FakeUpstream, caps: Settings
) -> None:
    entries = newest_entries(MARKET, MILLION_BOT, 3_000)
    transactions = transactions_of(MARKET, entries)
    helius.add_history(MILLION_BOT, transactions[2_000:])  # the bot's history as it was back then
    caps.WALLET_HISTORY_MAX_SIGNATURES = 5_000
    wallet_sync(address=MILLION_BOT)
    deepen_until_done(MILLION_BOT)
    assert Wallet.objects.get(address=MILLION_BOT).history_complete

    helius.add_history(MILLION_BOT, transactions)  # 2,000 newer transactions since
    outcome = wallet_sync(address=MILLION_BOT, force=True)

    history = wallet_history(address=MILLION_BOT)
    assert outcome.new_transactions == 299 and history.signatures == 299 and not history.complete
    assert history.oldest_slot == entries[298]["slot"]
    # What results read is the new window alone: the rows stored back then no longer join up with it.
    legs = wallet_swap_legs(address=MILLION_BOT, history=history)
    assert {leg.signature for leg in legs} <= {entry["signature"] for entry in entries[:299]}
    assert stored_rows(MILLION_BOT)["records"] == 1_299

    helius.reset_counters()
    deepen_until_done(MILLION_BOT)

    wallet = Wallet.objects.get(address=MILLION_BOT)
    assert wallet.history_complete and wallet.history_signatures == 3_000
    assert stored_legs(MILLION_BOT) == legs_of(MILLION_BOT, transactions)
    # Only the gap was fetched: the 1,000 stored back then were walked through, not fetched again.
    assert sum(helius.transaction_batch_sizes) == 3_000 - 299 - 1_000


def test_a_sync_never_waits_on_a_deepening_and_two_deepenings_never_overlap(
    helius: FakeUpstream, caps: Settings
) -> None:
    wallet_sync(address=MILLION_BOT)
    with WalletHistoryLock(MILLION_BOT):
        again = wallet_sync(address=MILLION_BOT, force=True)
        with pytest.raises(WalletLockBusyError, match="deepened"):
            wallet_history_deepen(address=MILLION_BOT)
    assert again.new_transactions == 0 and not again.skipped_fresh

    # And a deepening goes on while a sync holds the wallet.
    with WalletSyncLock(MILLION_BOT):
        deepened = wallet_history_deepen(address=MILLION_BOT)
    assert deepened.new_transactions > 0


@pytest.mark.django_db(transaction=True)
def test_a_sync_and_a_deepening_at_the_same_time_leave_exact_rows(
    helius: FakeUpstream, caps: Settings
) -> None:
    entries = newest_entries(MARKET, MILLION_BOT, 1_500)
    transactions = transactions_of(MARKET, entries)
    helius.add_history(MILLION_BOT, transactions[200:])
    caps.WALLET_HISTORY_MAX_SIGNATURES = 5_000
    wallet_sync(address=MILLION_BOT)
    helius.add_history(MILLION_BOT, transactions)  # 200 newer ones for the sync to find
    helius.hang_s = 0.02
    errors: list[BaseException] = []

    def deepen() -> None:
        try:
            deepen_until_done(MILLION_BOT)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    worker = threading.Thread(target=deepen)
    worker.start()
    wallet_sync(address=MILLION_BOT, force=True)
    worker.join(timeout=60)
    connections.close_all()

    assert not worker.is_alive() and errors == []
    deepen_until_done(MILLION_BOT)
    wallet = Wallet.objects.get(address=MILLION_BOT)
    assert wallet.history_complete and wallet.history_signatures == 1_500
    assert stored_legs(MILLION_BOT) == legs_of(MILLION_BOT, transactions)
    assert stored_rows(MILLION_BOT) == {"links": 1_500, "records": 1_500, "seen": 1_500}

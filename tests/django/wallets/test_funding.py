"""The sync keeps each wallet's native SOL transfers in, and the selectors answer who funded whom."""

from __future__ import annotations

import pytest

from tests.django.wallets.conftest import FIXTURE_WALLET, SMALL_WALLET, upstream_history
from tests.support.fake_upstream import FakeUpstream
from wallets.models import NativeTransfer, Wallet
from wallets.selectors import custodial_wallets, funders_fanout, wallets_funding
from wallets.services import wallet_reextract_swaps, wallet_sync
from wallets.transfers import extract_native_transfers_in

pytestmark = pytest.mark.django_db


def test_the_sync_stores_the_funding_transfers_and_the_first_funder(helius: FakeUpstream) -> None:
    wallet_sync(address=SMALL_WALLET)
    history = upstream_history(helius, SMALL_WALLET)
    expected = extract_native_transfers_in(history, SMALL_WALLET)
    assert expected, "the simulated history starts with a funding transfer"
    stored = NativeTransfer.objects.filter(wallet_id=SMALL_WALLET)
    assert {(t.signature, t.source, t.lamports) for t in stored} == {
        (t.signature, t.source, t.lamports) for t in expected
    }
    funding = wallets_funding(addresses=[SMALL_WALLET, "11111111111111111111111111111112"])
    earliest = min(expected, key=lambda t: (t.timestamp, t.slot))
    record = funding[SMALL_WALLET]
    assert record.first is not None and record.first.signature == earliest.signature
    assert record.history_complete
    assert len({t.source for t in record.received}) == len(record.received)
    never_synced = funding["11111111111111111111111111111112"]
    assert never_synced.first is None and not never_synced.history_complete


def test_a_second_sync_and_a_reextraction_add_no_transfer_twice(helius: FakeUpstream) -> None:
    wallet_sync(address=SMALL_WALLET)
    count = NativeTransfer.objects.filter(wallet_id=SMALL_WALLET).count()
    wallet_sync(address=SMALL_WALLET, force=True)
    NativeTransfer.objects.filter(wallet_id=SMALL_WALLET).delete()
    wallet_reextract_swaps(address=SMALL_WALLET)  # rebuilds them from the transaction cache
    assert NativeTransfer.objects.filter(wallet_id=SMALL_WALLET).count() == count


def test_fanout_counts_distinct_wallets_per_funder(helius: FakeUpstream) -> None:
    wallet_sync(address=FIXTURE_WALLET)  # spam only: nothing stored
    assert not NativeTransfer.objects.filter(wallet_id=FIXTURE_WALLET).exists()
    for index, wallet in enumerate(["W" * 43 + str(k) for k in range(1, 4)]):
        Wallet.objects.create(address=wallet)
        for repeat in range(2):
            NativeTransfer.objects.create(
                wallet_id=wallet,
                source="FUNDER",
                signature=f"s{index}{repeat}",
                slot=1,
                timestamp=1,
                lamports=10**9,
            )
    assert funders_fanout(sources=["FUNDER", "NOBODY"]) == {"FUNDER": 3}


def test_custodial_wallets_come_from_the_shipped_list() -> None:
    binance = "5tzFkiKscXHK5ZXCGbXZxdw7gTjjD1mBwuoFbhUvuAi9"
    found = custodial_wallets(addresses=[binance, SMALL_WALLET])
    assert list(found) == [binance] and found[binance].exchange == "Binance" and found[binance].source

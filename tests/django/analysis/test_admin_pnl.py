"""The admin shows what a PnL rests on (issue 17): each token's price status and mark, the cost held in
unpriced tokens, and the reconciliation of the legs with the chain."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from analysis import services
from analysis.models import WalletPnlSummary
from tests.django.analysis.conftest import PRICED, T0, UNPRICED_MINT, address
from wallets.models import TransactionEffect

pytestmark = pytest.mark.django_db

WALLET = address(41)


@pytest.fixture
def staff_client() -> Client:
    user = get_user_model().objects.create_superuser(
        username="pnl-admin", password="pw", email="p@example.com"
    )
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_shows_price_status_unpriced_cost_and_reconciliation(add_leg, staff_client: Client) -> None:
    add_leg(WALLET, mint=PRICED.mint, direction="buy", qty=1_000_000, sol=1.0, ts=T0)
    add_leg(WALLET, mint=UNPRICED_MINT, direction="buy", qty=1_000_000, sol=2.0, ts=T0 + 60)
    services.analysis_compute_pnl(address=WALLET)
    summary = WalletPnlSummary.objects.get(wallet=WALLET)

    listing = staff_client.get(reverse("admin:analysis_walletpnlsummary_changelist")).content.decode()
    assert "Unpriced open cost sol" in listing and "2.0" in listing
    page = staff_client.get(
        reverse("admin:analysis_walletpnlsummary_change", args=[summary.pk])
    ).content.decode()
    # Legs stored straight into the database have no chain records: the page says so instead of a zero.
    assert "Reconciliation (lamports)" in page and "stored before chain records were kept" in page

    tokens = staff_client.get(
        reverse("admin:analysis_tokenpnlrow_changelist"), {"price_status__exact": "unpriced"}
    ).content.decode()
    assert UNPRICED_MINT in tokens and PRICED.mint not in tokens


def test_the_admin_lists_the_transactions_that_do_not_balance(add_leg, staff_client: Client) -> None:
    first = add_leg(WALLET, mint=PRICED.mint, direction="buy", qty=1_000_000, sol=1.0, ts=T0)
    second = add_leg(WALLET, mint=PRICED.mint, direction="sell", qty=500_000, sol=0.7, ts=T0 + 60)
    for swap, change in ((first, -1_000_005_000), (second, 700_000_000 - 5_000 - 12_000)):
        TransactionEffect.objects.create(
            wallet_id=WALLET,
            signature=swap.signature,
            slot=swap.slot,
            timestamp=swap.timestamp,
            kind="swap",
            fee_lamports=5_000,
            sol_change_lamports=change,
            rent_lamports=0,
        )
    pnl = services.analysis_compute_pnl(address=WALLET)["pnl"]
    # The sell's chain change is 12,000 lamports short of its leg: listed, with the reason.
    assert pnl["reconciliation"]["unexplained_lamports"] == -12_000
    summary = WalletPnlSummary.objects.get(wallet=WALLET)
    assert summary.unexplained_lamports == -12_000
    page = staff_client.get(
        reverse("admin:analysis_walletpnlsummary_change", args=[summary.pk])
    ).content.decode()
    assert second.signature in page and "-12000 lamports (mismatch)" in page

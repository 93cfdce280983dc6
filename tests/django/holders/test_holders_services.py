"""The holders services in-process on the simulated market (no workers): a wallet that could not be synced is
listed and classified as far as the mint's own transactions allow, the others as the catalogue says; a
wallet whose analysis fails for good is reported failed, its batch goes on."""

from __future__ import annotations

from typing import Any

import pytest

from holders import services as holders_services
from holders.services import holders_analyse_wallets, holders_discover, holders_result, holders_wallets
from jobs.flows import token_holders
from wallets.services import wallet_sync
from wallets.simulated_market import Launch, SimulatedMarket

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def bundled() -> Launch:
    return next(item for item in SimulatedMarket(seed=0).launches() if item.kind == "bundled")


def test_a_wallet_that_failed_is_listed_and_classified_from_the_mint_alone(bundled: Launch) -> None:
    discovery = holders_discover(mint=bundled.mint, top=50, early=50, checkpoint=lambda: None)
    wallets = holders_wallets(discovery)
    lost = next(p.wallet for p in bundled.participants if p.role == "bundler")
    synced = [wallet for wallet in wallets if wallet != lost]
    for wallet in synced:
        wallet_sync(address=wallet)
    profiles = holders_analyse_wallets(mint=bundled.mint, wallets=synced, amounts=discovery["amounts"])
    reports: dict[str, dict[str, Any]] = {w: {"ok": True, **profile} for w, profile in profiles.items()}
    result = holders_result(discovery=discovery, reports=reports, failed={lost: "TransientError: timed out"})

    assert result["failed_wallets"] == [{"wallet": lost, "error": "TransientError: timed out"}]
    rows = {row["wallet"]: row for row in [*result["early_buyers"], *result["holders"]]}
    row = rows[lost]
    assert row["synced"] is False and row["pnl"] is None and row["behavior"] is None
    # Its first buy is in the mint's own transactions: bundler and sniper stand; the rest needs its history.
    assert row["classes"] == ["bundler", "sniper"]
    assert set(row["undetermined"]) == {"insider", "fresh", "bot"}
    for participant in bundled.participants:
        if participant.wallet != lost:
            assert set(rows[participant.wallet]["classes"]) - {"bot"} == set(participant.classes)
    assert result["risk"]["level"] == "high"


def test_a_wallet_whose_analysis_fails_for_good_is_reported_and_its_batch_goes_on(
    bundled: Launch, monkeypatch: pytest.MonkeyPatch
) -> None:
    wallets = [p.wallet for p in bundled.participants[:4]]
    for wallet in wallets:
        wallet_sync(address=wallet)
    broken = wallets[2]
    real = holders_services.holders_analyse_wallets

    def analyse(*, mint: str, wallets: list[str], amounts: dict[str, int]) -> dict[str, dict[str, Any]]:
        if broken in wallets:
            raise ValueError(f"cannot analyse {broken}")
        return real(mint=mint, wallets=wallets, amounts=amounts)

    monkeypatch.setattr(token_holders, "holders_analyse_wallets", analyse)
    reports = token_holders._profiles(mint=bundled.mint, wallets=wallets, amounts={})
    assert reports[broken] == {"ok": False, "error": f"analysis: ValueError: cannot analyse {broken}"}
    assert all(reports[w]["ok"] and reports[w]["pnl"] is not None for w in wallets if w != broken)

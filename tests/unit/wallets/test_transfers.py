"""Native SOL transfers into a wallet: what counts as funding and what does not."""

from __future__ import annotations

import json
from typing import Any

from tests.support.fake_upstream import FIXTURES_DIR
from wallets.custodians import is_custodian
from wallets.simulated_market import SimulatedMarket
from wallets.transfers import FUNDING_MIN_LAMPORTS, NativeTransferIn, extract_native_transfers_in

WALLET = "3JoVBiQEA2QKsq7TzW5ez5jVRtbbYgTNijoZzp5qgkr2"
FUNDER = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM"
OTHER = "5Hr7wZg7oBpVhH5nngRqzr5W7ZFUfCsfEhbziZJak7fr"


def transfer_tx(
    signature: str, transfers: list[tuple[str, str, int]], *, error: Any = None, token_change: bool = False
) -> dict[str, Any]:
    token_changes = (
        [{"userAccount": WALLET, "mint": "M", "rawTokenAmount": {"tokenAmount": "5", "decimals": 0}}]
        if token_change
        else []
    )
    return {
        "signature": signature,
        "slot": 7,
        "timestamp": 1_700_000_000,
        "type": "TRANSFER",
        "transactionError": error,
        "nativeTransfers": [
            {"fromUserAccount": a, "toUserAccount": b, "amount": amount} for a, b, amount in transfers
        ],
        "accountData": [{"account": WALLET, "nativeBalanceChange": 0, "tokenBalanceChanges": token_changes}],
    }


def test_the_recorded_wallet_received_only_spam_and_swap_proceeds() -> None:
    # The fixture's 16 "transfers" to this wallet are 1- and 100-lamport address-poisoning spam, and the SOL
    # it received in its swaps is trade proceeds: none of it is funding.
    history = json.loads((FIXTURES_DIR / "helius" / "wallet_3JoVBiQE_20_transactions.json").read_text())
    assert any(t["toUserAccount"] == WALLET for tx in history for t in tx["nativeTransfers"])
    assert extract_native_transfers_in(history, WALLET) == []


def test_a_plain_transfer_in_is_funding_and_amounts_from_one_sender_add_up() -> None:
    tx = transfer_tx("s1", [(FUNDER, WALLET, 600_000), (FUNDER, WALLET, 400_000), (WALLET, OTHER, 10**9)])
    assert extract_native_transfers_in([tx], WALLET) == [
        NativeTransferIn("s1", 7, 1_700_000_000, FUNDER, 1_000_000)
    ]


def test_dust_failed_swaps_and_self_transfers_are_not_funding() -> None:
    txs = [
        transfer_tx("dust", [(FUNDER, WALLET, FUNDING_MIN_LAMPORTS - 1)]),
        transfer_tx("failed", [(FUNDER, WALLET, 10**9)], error={"InstructionError": [0, "Custom"]}),
        transfer_tx("swap", [(FUNDER, WALLET, 10**9)], token_change=True),
        transfer_tx("self", [(WALLET, WALLET, 10**9)]),
        transfer_tx("exact", [(OTHER, WALLET, FUNDING_MIN_LAMPORTS)]),
    ]
    assert [t.signature for t in extract_native_transfers_in(txs, WALLET)] == ["exact"]


def _first_funding(market: SimulatedMarket, wallet: str) -> NativeTransferIn:
    """The wallet's oldest transaction, read as funding: it must be exactly one SOL transfer in."""
    oldest = market.get_signatures(wallet, limit=1000)[-1]["signature"]
    (first_tx,) = market.get_transactions([oldest])
    (funding,) = extract_native_transfers_in([first_tx], wallet)
    return funding


def test_every_simulated_history_starts_with_its_funding_transfer() -> None:
    # What the market guarantees (docs/METHODS.md §8): every history opens with the SOL that brought the
    # wallet to life, from the funder the market planned; bundles and funded groups share one fresh funder
    # (no exchange), while copy traders, sniper bots and every other wallet withdrew from an exchange.
    market = SimulatedMarket(seed=0)
    families = market.families()
    assert {family.kind for family in families} == {"copy", "bundle", "funded"}
    ordinary = market.sample_wallets(5)
    for wallet in [*(w for family in families for w in family.members), *market.sniper_bots(), *ordinary]:
        funding = _first_funding(market, wallet)
        assert funding.source == market.funder_of(wallet) and funding.source != wallet
        assert funding.lamports >= FUNDING_MIN_LAMPORTS
    for family in families:
        funders = {_first_funding(market, wallet).source for wallet in family.members}
        if family.kind == "copy":
            assert all(is_custodian(funder) for funder in funders), family.name  # independent people
        else:
            assert funders == {family.funder} and not is_custodian(family.funder or ""), family.name
    for wallet in [*market.sniper_bots(), *ordinary]:
        assert is_custodian(_first_funding(market, wallet).source)

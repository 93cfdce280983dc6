"""Native SOL transfers into a wallet: what counts as funding and what does not."""

from __future__ import annotations

import json
from typing import Any

from tests.support.fake_upstream import FIXTURES_DIR
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


def test_every_simulated_history_starts_with_its_funding_transfer() -> None:
    market = SimulatedMarket(seed=0)
    family = market.families()[0]
    for wallet in [*family.members, *market.sample_wallets(3)]:
        oldest = market.get_signatures(wallet, limit=1000)[-1]["signature"]
        (first_tx,) = market.get_transactions([oldest])
        (funding,) = extract_native_transfers_in([first_tx], wallet)
        assert funding.lamports > 0 and funding.source != wallet
    first_funders = set()
    for wallet in family.members:
        oldest = market.get_signatures(wallet, limit=1000)[-1]["signature"]
        first_funders.add(extract_native_transfers_in(market.get_transactions([oldest]), wallet)[0].source)
    assert len(first_funders) == 1  # a family shares its funder in the simulated market

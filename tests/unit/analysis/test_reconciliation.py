"""The reconciliation of legs with the chain, to the lamport: on the recorded 3JoVBiQE history, on hand-built
stablecoin and unvalued swaps (listed with their reason), and as a property over generated histories of
SOL-quoted swaps, token-to-token swaps through SOL, transfers, account creation and closure, tips and failed
transactions in the shape Helius sends them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.pnl import compute_pnl
from analysis.reconciliation import legs_cash_flow, reconcile
from tests.unit.wallets.test_extraction import balance_entry, swap_tx
from wallets.extraction import extract_wallet_swaps
from wallets.swaps import SOL_MINT, USDC_MINT

HELIUS = Path(__file__).resolve().parents[2] / "data" / "fixtures" / "helius"
WALLET_3JOV = "3JoVBiQEA2QKsq7TzW5ez5jVRtbbYgTNijoZzp5qgkr2"
RENT = 2_039_280


def test_the_recorded_history_balances_to_the_lamport() -> None:
    history = json.loads((HELIUS / "wallet_3JoVBiQE_20_transactions.json").read_text())
    extracted = extract_wallet_swaps(history, WALLET_3JOV)
    result = reconcile(extracted.legs, {record.signature: record for record in extracted.records})
    # Chain, rent added back, per swap: +57,066,397; -2,022,044,280 + 2,039,280; +1,420,951,311;
    # -2,022,044,280 + 2,039,280. The legs: +65,071,397, -2,012,000,000, +1,428,956,311, -2,012,000,000,
    # minus four fees of 8,005,000. The 16 transfers produced no legs and are not part of it.
    expected = 57_066_397 - 2_020_005_000 + 1_420_951_311 - 2_020_005_000
    assert (result.transactions, result.chain_change_lamports, result.legs_cash_flow_lamports) == (
        4,
        expected,
        expected,
    )
    assert (result.unexplained_lamports, result.unexplained_count, result.unexplained) == (0, 0, ())


def test_a_stablecoin_quoted_swap_with_a_tip_is_listed_with_its_reason() -> None:
    tip = 12_000_000
    tx = swap_tx(
        [
            balance_entry("Trader", -tip - 5_000),
            balance_entry("TraderUsdc", 0, ("Trader", USDC_MINT, -100_000_000, 6)),
            balance_entry("TraderTokenA", 0, ("Trader", "TokenA", 42_000_000, 6)),
            balance_entry("PoolUsdc", 0, ("Pool", USDC_MINT, 100_000_000, 6)),
            balance_entry("PoolTokenA", 0, ("Pool", "TokenA", -42_000_000, 6)),
            balance_entry("TipAccount", tip),
        ]
    )
    extracted = extract_wallet_swaps([tx], "Trader")
    result = reconcile(extracted.legs, {r.signature: r for r in extracted.records})
    # The SOL that moved (tip and fee) against legs that moved none but the fee: the tip is left over.
    assert (result.chain_change_lamports, result.legs_cash_flow_lamports) == (-tip - 5_000, -5_000)
    assert [(item.lamports, item.reason) for item in result.unexplained] == [(-tip, "stablecoin_quoted")]


def test_legs_without_a_chain_record_are_listed_not_summed() -> None:
    history = json.loads((HELIUS / "wallet_3JoVBiQE_20_transactions.json").read_text())
    extracted = extract_wallet_swaps(history, WALLET_3JOV)
    result = reconcile(extracted.legs, {})
    assert result.unexplained_count == 4 and {item.reason for item in result.unexplained} == {
        "no_chain_record"
    }
    assert result.chain_change_lamports == result.legs_cash_flow_lamports == 0


# ---------------------------------------------------------------------------------------- generated histories

WALLET = "Wallet"
FEE = 5_000
MINTS = ("MintA", "MintB", "MintC")


class History:
    """Builds Helius-shaped transactions of one wallet whose balance deltas are consistent by construction."""

    def __init__(self) -> None:
        self.transactions: list[dict[str, Any]] = []
        self.accounts: set[str] = set()  # the wallet's token accounts that exist
        self.held: dict[str, int] = {}

    def _tx(
        self,
        entries: list[dict[str, Any]],
        native: list[dict[str, Any]],
        token: list[dict[str, Any]],
        *,
        payer: bool,
        failed: bool = False,
        type_: str = "SWAP",
    ) -> None:
        index = len(self.transactions)
        tx = swap_tx(
            entries,
            token_transfers=token,
            native_transfers=native,
            fee_payer=WALLET if payer else "Payer",
            type_=type_,
        )
        tx.update(signature=f"sig{index}", slot=1_000 + index, timestamp=1_700_000_000 + index * 60)
        tx["fee"] = FEE
        if failed:
            tx["transactionError"] = {"InstructionError": [0, {"Custom": 1}]}
        self.transactions.append(tx)


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    history = History()
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["buy", "buy", "sell", "swap", "transfer", "close", "failed"]))
        payer = draw(st.booleans()) or kind == "failed"
        fee = FEE if payer else 0
        tip = draw(st.sampled_from([0, 0, 1_000_000, 12_000_000]))
        wsol_route = draw(st.booleans())  # SOL through a temporary WSOL account, else a native pool
        if kind == "buy":
            mint = draw(st.sampled_from(MINTS))
            qty = draw(st.integers(1, 10**12))
            sol = draw(st.integers(20_000, 5 * 10**9))
            account = f"Acct{mint}"
            creating = account not in history.accounts
            rent = RENT if creating else 0
            entries = [
                balance_entry(WALLET, -sol - tip - rent - fee),
                balance_entry(account, rent, (WALLET, mint, qty, 6)),
                balance_entry(f"Vault{mint}", 0, (f"Pool{mint}", mint, -qty, 6)),
            ]
            native = (
                [{"fromUserAccount": WALLET, "toUserAccount": account, "amount": rent}] if creating else []
            )
            if wsol_route:
                entries.append(balance_entry(f"VaultSol{mint}", sol, (f"Pool{mint}", SOL_MINT, sol, 9)))
            else:
                entries.append(balance_entry(f"Pool{mint}", sol))
                native.append({"fromUserAccount": WALLET, "toUserAccount": f"Pool{mint}", "amount": sol})
            if tip:
                entries.append(balance_entry("Tip", tip))
                native.append({"fromUserAccount": WALLET, "toUserAccount": "Tip", "amount": tip})
            history._tx(entries, native, [], payer=payer)
            history.accounts.add(account)
            history.held[mint] = history.held.get(mint, 0) + qty
        elif kind == "sell" and history.held:
            mint = draw(st.sampled_from(sorted(history.held)))
            qty = draw(st.integers(1, history.held[mint]))
            sol = draw(st.integers(20_000, 5 * 10**9)) + tip
            account = f"Acct{mint}"
            closing = qty == history.held[mint] and draw(st.booleans())
            refund = RENT if closing else 0
            entries = [
                balance_entry(WALLET, sol - tip + refund - fee),
                balance_entry(account, -refund, (WALLET, mint, -qty, 6)),
                balance_entry(f"Vault{mint}", 0, (f"Pool{mint}", mint, qty, 6)),
                balance_entry(f"VaultSol{mint}", -sol, (f"Pool{mint}", SOL_MINT, -sol, 9)),
            ]
            native = (
                [{"fromUserAccount": account, "toUserAccount": WALLET, "amount": refund}] if closing else []
            )
            if tip:
                entries.append(balance_entry("Tip", tip))
                native.append({"fromUserAccount": WALLET, "toUserAccount": "Tip", "amount": tip})
            history._tx(entries, native, [], payer=payer)
            history.held[mint] -= qty
            if not history.held[mint]:
                del history.held[mint]
            if closing:
                history.accounts.discard(account)
        elif kind == "swap" and history.held:
            sold = draw(st.sampled_from(sorted(history.held)))
            bought = draw(st.sampled_from([m for m in MINTS if m != sold]))
            qty_out = draw(st.integers(1, history.held[sold]))
            qty_in = draw(st.integers(1, 10**12))
            paid_out = draw(st.integers(20_000, 5 * 10**9))  # what pool A paid for the sold tokens
            paid_in = draw(st.integers(20_000, 5 * 10**9))  # what pool B took for the bought ones
            account = f"Acct{bought}"
            creating = account not in history.accounts
            rent = RENT if creating else 0
            entries = [
                balance_entry(WALLET, paid_out - paid_in - tip - rent - fee),
                balance_entry(f"Acct{sold}", 0, (WALLET, sold, -qty_out, 6)),
                balance_entry(account, rent, (WALLET, bought, qty_in, 6)),
                balance_entry(f"Vault{sold}", 0, (f"Pool{sold}", sold, qty_out, 6)),
                balance_entry(f"VaultSol{sold}", -paid_out, (f"Pool{sold}", SOL_MINT, -paid_out, 9)),
                balance_entry(f"Vault{bought}", 0, (f"Pool{bought}", bought, -qty_in, 6)),
                balance_entry(f"VaultSol{bought}", paid_in, (f"Pool{bought}", SOL_MINT, paid_in, 9)),
            ]
            token = [
                {"fromUserAccount": WALLET, "toUserAccount": f"Pool{sold}", "mint": sold, "tokenAmount": 1.0},
                {
                    "fromUserAccount": f"Pool{sold}",
                    "toUserAccount": WALLET,
                    "fromTokenAccount": f"VaultSol{sold}",
                    "toTokenAccount": "TempWsol",
                    "mint": SOL_MINT,
                    "tokenAmount": paid_out / 1e9,
                },
                {
                    "fromUserAccount": WALLET,
                    "toUserAccount": f"Pool{bought}",
                    "fromTokenAccount": "TempWsol",
                    "toTokenAccount": f"VaultSol{bought}",
                    "mint": SOL_MINT,
                    "tokenAmount": paid_in / 1e9,
                },
                {
                    "fromUserAccount": f"Pool{bought}",
                    "toUserAccount": WALLET,
                    "mint": bought,
                    "tokenAmount": 1.0,
                },
            ]
            native = (
                [{"fromUserAccount": WALLET, "toUserAccount": account, "amount": rent}] if creating else []
            )
            if tip:
                entries.append(balance_entry("Tip", tip))
                native.append({"fromUserAccount": WALLET, "toUserAccount": "Tip", "amount": tip})
            history._tx(entries, native, token, payer=payer)
            history.accounts.add(account)
            history.held[sold] -= qty_out
            if not history.held[sold]:
                del history.held[sold]
            history.held[bought] = history.held.get(bought, 0) + qty_in
        elif kind == "transfer":
            amount = draw(st.integers(1, 10**10)) * draw(st.sampled_from([1, -1]))
            entries = [balance_entry(WALLET, amount - fee), balance_entry("Friend", -amount)]
            native = [
                {
                    "fromUserAccount": "Friend" if amount > 0 else WALLET,
                    "toUserAccount": WALLET if amount > 0 else "Friend",
                    "amount": abs(amount),
                }
            ]
            history._tx(entries, native, [], payer=payer, type_="TRANSFER")
        elif kind == "close" and history.accounts - {f"Acct{m}" for m in history.held}:
            account = sorted(history.accounts - {f"Acct{m}" for m in history.held})[0]
            entries = [balance_entry(WALLET, RENT - fee), balance_entry(account, -RENT)]
            native = [{"fromUserAccount": account, "toUserAccount": WALLET, "amount": RENT}]
            history._tx(entries, native, [], payer=payer, type_="CLOSE_ACCOUNT")
            history.accounts.discard(account)
        elif kind == "failed":
            history._tx([balance_entry(WALLET, -FEE)], [], [], payer=True, failed=True)
    return history.transactions


@settings(max_examples=200, deadline=None)
@given(transactions=histories())
def test_generated_sol_quoted_histories_balance_to_the_lamport(transactions: list[dict[str, Any]]) -> None:
    extracted = extract_wallet_swaps(transactions, WALLET)
    records = {record.signature: record for record in extracted.records}
    result = reconcile(extracted.legs, records)
    assert result.unexplained == () and result.unexplained_lamports == 0
    assert result.chain_change_lamports == result.legs_cash_flow_lamports
    # Every swap produced legs, so every SOL movement of a swap is accounted for by a leg or a fee.
    for signature in {leg.signature for leg in extracted.legs}:
        legs = [leg for leg in extracted.legs if leg.signature == signature]
        assert legs_cash_flow(legs) == records[signature].change_without_rent
    wallet = compute_pnl(extracted.legs, records=extracted.records)
    assert wallet.reconciliation is not None and wallet.reconciliation.unexplained_lamports == 0
    failed = [tx for tx in transactions if tx.get("transactionError")]
    assert wallet.failed_tx_count == len(failed)

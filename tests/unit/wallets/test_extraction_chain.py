"""Issue 17 in extraction: token-to-token legs valued by their own counterparties and consistent with the
wallet's SOL change, liquidity operations kept out of trades, failed transactions' fees, block order.

Each transaction is hand-built in the shape Helius sends (accountData with every account's balance change,
tokenTransfers between user accounts); amounts are worked out next to the assertions.
"""

from __future__ import annotations

from typing import Any

from tests.unit.wallets.test_extraction import (
    BASE_FEE,
    POOL_A,
    POOL_B,
    TOKEN_A,
    TOKEN_B,
    TRADER,
    balance_entry,
    native,
    swap_tx,
    wallet_history,
)
from wallets.extraction import extract_transaction, extract_wallet_swaps
from wallets.swaps import SOL_MINT, ChainRecord, LiquidityMove

LP_MINT = "LpMint"
TIP = 10_000_000


def wsol_transfer(
    source: str, source_account: str, target: str, target_account: str, sol: float
) -> dict[str, Any]:
    return {
        "fromUserAccount": source,
        "toUserAccount": target,
        "fromTokenAccount": source_account,
        "toTokenAccount": target_account,
        "mint": SOL_MINT,
        "tokenAmount": sol,
    }


def token_transfer(source: str, target: str, mint: str, ui_amount: float) -> dict[str, Any]:
    return {"fromUserAccount": source, "toUserAccount": target, "mint": mint, "tokenAmount": ui_amount}


def sell_a_buy_b_keeping_sol(*, tip: int = 0) -> dict[str, Any]:
    """Sell 1,000 A into pool A for 2 SOL, buy 5,000 B from pool B for 0.5 SOL, keep 1.5 SOL (minus a tip).

    The SOL passes through the wallet's temporary WSOL account, created and closed in the transaction, so
    it shows only in the transfers and in the pools' WSOL vaults; the wallet's native change is what it kept.
    """
    tip_entry = [balance_entry("TipAccount", tip)] if tip else []
    return swap_tx(
        [
            balance_entry(TRADER, 1_500_000_000 - tip - BASE_FEE),
            balance_entry("TraderTokenA", 0, (TRADER, TOKEN_A, -1_000_000_000, 6)),
            balance_entry("TraderTokenB", 0, (TRADER, TOKEN_B, 5_000_000_000_000, 9)),
            balance_entry("TraderTempWsol", 0),
            balance_entry("PoolAVaultA", 0, (POOL_A, TOKEN_A, 1_000_000_000, 6)),
            balance_entry("PoolAVaultSol", -2_000_000_000, (POOL_A, SOL_MINT, -2_000_000_000, 9)),
            balance_entry("PoolBVaultB", 0, (POOL_B, TOKEN_B, -5_000_000_000_000, 9)),
            balance_entry("PoolBVaultSol", 500_000_000, (POOL_B, SOL_MINT, 500_000_000, 9)),
            *tip_entry,
        ],
        token_transfers=[
            token_transfer(TRADER, POOL_A, TOKEN_A, 1000.0),
            # WSOL in lamports, as Helius sometimes reports it: the amounts come from the vaults instead.
            wsol_transfer(POOL_A, "PoolAVaultSol", TRADER, "TraderTempWsol", 2_000_000_000),
            wsol_transfer(TRADER, "TraderTempWsol", POOL_B, "PoolBVaultSol", 0.5),
            token_transfer(POOL_B, TRADER, TOKEN_B, 5000.0),
        ],
        native_transfers=[native(TRADER, "TipAccount", tip)] if tip else [],
    )


def test_token_to_token_with_sol_kept_values_each_side_by_its_own_pool() -> None:
    sell, buy = extract_swaps_of(sell_a_buy_b_keeping_sol())
    # Pool A paid 2,000,000,000 lamports for A; pool B took 500,000,000 for B. Before issue 17 both legs were
    # valued at the 2 SOL the route paid out, so B looked four times as expensive as it was.
    assert (sell.mint, sell.direction, sell.sol_value_lamports, sell.quote_amount_raw) == (
        TOKEN_A,
        "sell",
        2_000_000_000,
        2_000_000_000,
    )
    assert (buy.mint, buy.direction, buy.sol_value_lamports, buy.quote_amount_raw) == (
        TOKEN_B,
        "buy",
        500_000_000,
        500_000_000,
    )
    assert (sell.fee_lamports, buy.fee_lamports) == (BASE_FEE, 0)
    # proceeds - costs - fee = 2.0 - 0.5 - fee: exactly the wallet's own SOL change.
    assert sell.sol_value_lamports - buy.sol_value_lamports - BASE_FEE == 1_500_000_000 - BASE_FEE


def test_a_tip_paid_in_a_token_to_token_swap_is_part_of_the_buys_cost() -> None:
    sell, buy = extract_swaps_of(sell_a_buy_b_keeping_sol(tip=TIP))
    # The wallet kept 1.5 SOL - 0.01 tip: the leftover 10,000,000 lamports goes to what it bought.
    assert (sell.sol_value_lamports, buy.sol_value_lamports) == (2_000_000_000, 510_000_000)
    assert sell.sol_value_lamports - buy.sol_value_lamports - BASE_FEE == 1_500_000_000 - TIP - BASE_FEE


def test_a_side_without_a_counterparty_payment_is_what_balances_the_other() -> None:
    tx = sell_a_buy_b_keeping_sol()
    # Pool B was paid by a router the wallet paid, so no transfer links the wallet to pool B's payment.
    tx["tokenTransfers"][2] = wsol_transfer(TRADER, "TraderTempWsol", "Router", "RouterWsol", 0.5)
    sell, buy = extract_swaps_of(tx)
    assert (sell.sol_value_lamports, buy.sol_value_lamports) == (2_000_000_000, 500_000_000)


def extract_swaps_of(tx: dict[str, Any]) -> list[Any]:
    legs, record = extract_transaction(tx, TRADER)
    assert record.kind == "swap"
    return legs


def withdraw_liquidity() -> dict[str, Any]:
    """Burn 100 LP tokens, get 1,000 A and 0.3 SOL (WSOL unwrapped into the wallet) back from the pool."""
    return swap_tx(
        [
            balance_entry(TRADER, 300_000_000 - BASE_FEE),
            balance_entry("TraderLp", 0, (TRADER, LP_MINT, -100_000_000, 6)),
            balance_entry("TraderTokenA", 0, (TRADER, TOKEN_A, 1_000_000_000, 6)),
            balance_entry("PoolAVaultA", 0, (POOL_A, TOKEN_A, -1_000_000_000, 6)),
            balance_entry("PoolAVaultSol", -300_000_000, (POOL_A, SOL_MINT, -300_000_000, 9)),
        ],
        token_transfers=[
            token_transfer(POOL_A, TRADER, TOKEN_A, 1000.0),
            wsol_transfer(POOL_A, "PoolAVaultSol", TRADER, "TraderTempWsol", 0.3),
        ],
        type_="UNKNOWN",
    )


def test_withdrawing_liquidity_is_not_a_sell_of_the_lp_token_and_a_buy() -> None:
    legs, record = extract_transaction(withdraw_liquidity(), TRADER)
    # Before issue 17: a sell of the LP token and a buy of A, both valued at the 0.3 SOL the pool paid.
    assert legs == []
    assert record.kind == "liquidity"
    assert record.liquidity == LiquidityMove(
        direction="remove",
        lp_mint=LP_MINT,
        tokens=((LP_MINT, -100_000_000, 6), (TOKEN_A, 1_000_000_000, 6)),
        sol_lamports=300_000_000,
    )
    assert (record.fee_lamports, record.sol_change_lamports, record.rent_lamports) == (
        BASE_FEE,
        300_000_000 - BASE_FEE,
        0,
    )


def test_adding_liquidity_gives_no_legs() -> None:
    tx = swap_tx(
        [
            balance_entry(TRADER, -300_000_000 - BASE_FEE),
            balance_entry("TraderLp", 0, (TRADER, LP_MINT, 100_000_000, 6)),
            balance_entry("TraderTokenA", 0, (TRADER, TOKEN_A, -1_000_000_000, 6)),
            balance_entry("PoolAVaultA", 0, (POOL_A, TOKEN_A, 1_000_000_000, 6)),
            balance_entry("PoolAVaultSol", 300_000_000, (POOL_A, SOL_MINT, 300_000_000, 9)),
        ]
    )
    legs, record = extract_transaction(tx, TRADER)
    assert legs == [] and record.kind == "liquidity"
    assert record.liquidity is not None and record.liquidity.direction == "add"
    assert record.liquidity.sol_lamports == -300_000_000


def test_liquidity_typed_by_helius_without_an_lp_token_gives_no_legs() -> None:
    tx = withdraw_liquidity()
    tx["accountData"][1] = balance_entry("TraderLp", 0)  # a position account, not a fungible LP token
    tx["type"] = "WITHDRAW_LIQUIDITY"
    legs, record = extract_transaction(tx, TRADER)
    assert legs == [] and record.liquidity is not None
    assert (record.liquidity.direction, record.liquidity.lp_mint) == ("remove", None)


def test_a_token_minted_mostly_to_someone_else_is_a_plain_buy() -> None:
    """A launch: the whole supply is minted to the bonding curve, the creator buys a part of it for SOL."""
    tx = swap_tx(
        [
            balance_entry(TRADER, -1_000_000_000 - BASE_FEE),
            balance_entry("TraderTokenA", 0, (TRADER, TOKEN_A, 30_000_000_000_000, 6)),
            balance_entry("CurveTokenA", 0, ("Curve", TOKEN_A, 970_000_000_000_000, 6)),
            balance_entry("Curve", 1_000_000_000),
        ],
        native_transfers=[native(TRADER, "Curve", 1_000_000_000)],
    )
    legs, record = extract_transaction(tx, TRADER)
    assert record.kind == "swap"
    assert [(leg.direction, leg.sol_value_lamports) for leg in legs] == [("buy", 1_000_000_000)]


def test_failed_transaction_gives_no_legs_but_a_record_of_its_fee() -> None:
    tx = swap_tx([balance_entry(TRADER, -BASE_FEE - 95_000)])
    tx["fee"] = BASE_FEE + 95_000  # base fee plus priority fee, both paid although the swap failed
    tx["transactionError"] = {"InstructionError": [2, {"Custom": 6001}]}
    result = extract_wallet_swaps([tx], TRADER)
    assert (result.legs, result.parsed, result.skipped_failed) == ([], 0, 1)
    assert result.records == [
        ChainRecord(
            signature="HandBuilt",
            slot=1,
            timestamp=2,
            kind="failed",
            fee_lamports=100_000,
            sol_change_lamports=-100_000,
            rent_lamports=0,
        )
    ]


def test_a_transaction_paid_by_another_account_records_no_fee() -> None:
    tx = swap_tx(
        [balance_entry(TRADER, -250_000_000), balance_entry("TraderTokenA", 0, (TRADER, TOKEN_A, 1, 6))]
    )
    tx["feePayer"] = "Relayer"
    _, record = extract_transaction(tx, TRADER)
    assert (record.kind, record.fee_lamports, record.sol_change_lamports) == ("swap", 0, -250_000_000)


def test_block_positions_are_carried_to_legs_and_records() -> None:
    buy = swap_tx(
        [balance_entry(TRADER, -250_000_000 - BASE_FEE), balance_entry("T", 0, (TRADER, TOKEN_A, 7, 6))]
    )
    sell = dict(
        buy,
        signature="Other",
        accountData=[
            balance_entry(TRADER, 300_000_000 - BASE_FEE),
            balance_entry("T", 0, (TRADER, TOKEN_A, -7, 6)),
        ],
    )
    result = extract_wallet_swaps([buy, sell], TRADER, positions={"HandBuilt": 1, "Other": 0})
    assert [(leg.signature, leg.direction, leg.block_position) for leg in result.legs] == [
        ("HandBuilt", "buy", 1),
        ("Other", "sell", 0),
    ]
    assert [record.block_position for record in result.records] == [1, 0]


def test_every_fixture_transaction_has_a_record_and_transfers_are_other() -> None:
    history = list(wallet_history().values())
    wallet = "3JoVBiQEA2QKsq7TzW5ez5jVRtbbYgTNijoZzp5qgkr2"
    result = extract_wallet_swaps(history, wallet)
    assert [record.signature for record in result.records] == [tx["signature"] for tx in history]
    kinds = {record.signature: record.kind for record in result.records}
    assert sorted(kinds.values()).count("swap") == 4
    assert all(kinds[tx["signature"]] == "other" for tx in history if tx["type"] == "TRANSFER")
    # The buy 4EeVbfsn: native -2,022,044,280 (fee included); 2,039,280 of it is rent into the new account.
    buy = next(r for r in result.records if r.signature.startswith("4EeVbfsn"))
    assert (buy.sol_change_lamports, buy.rent_lamports, buy.fee_lamports) == (
        -2_022_044_280,
        2_039_280,
        8_005_000,
    )

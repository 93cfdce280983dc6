"""Legs against the chain, to the lamport. Pure: no Django, no Redis.

For every transaction that produced legs, the legs' SOL cash flow (proceeds of SOL-valued sells minus costs
of SOL-valued buys minus the fee on the legs) is set against what the chain says the wallet's own SOL and
WSOL did in it, with the rent of its token accounts added back (a deposit, not a cost). Both are exact
integers. A transaction whose two figures differ is listed with a reason:

* `stablecoin_quoted`: a leg was paid in USDC/USDT, whose SOL value is a valuation, not a SOL movement, so
  SOL that moved beside it (tips, program fees) is left over;
* `unvalued`: a leg has no quote at all (a token-to-token swap with no intermediary to value it);
* `no_chain_record`: the legs were stored before chain records were kept (re-sync the wallet);
* `mismatch`: anything else, which would be an extraction error worth a look.

On histories of SOL-quoted swaps, token-to-token swaps through SOL, transfers and account creation and
closure, `unexplained_lamports` is 0 (tests/unit/analysis/test_reconciliation.py holds it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from wallets.swaps import SOL_MINT, STABLE_MINTS, ChainRecord, SwapLeg

UnexplainedReason = Literal["stablecoin_quoted", "unvalued", "no_chain_record", "mismatch"]
# The list in a result stays short for wallets with thousands of stablecoin swaps; the count is complete.
MAX_LISTED = 50


@dataclass(frozen=True, slots=True)
class UnexplainedTransaction:
    signature: str
    lamports: int  # chain change (rent added back) minus the legs' cash flow
    reason: UnexplainedReason

    def to_dict(self) -> dict[str, Any]:
        return {"signature": self.signature, "lamports": self.lamports, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Reconciliation:
    transactions: int  # transactions with legs
    chain_change_lamports: int
    legs_cash_flow_lamports: int
    unexplained_lamports: int  # chain_change_lamports - legs_cash_flow_lamports
    unexplained_count: int
    unexplained: tuple[UnexplainedTransaction, ...]  # the largest MAX_LISTED, by absolute lamports

    def to_dict(self) -> dict[str, Any]:
        return {
            "transactions": self.transactions,
            "chain_change_lamports": self.chain_change_lamports,
            "legs_cash_flow_lamports": self.legs_cash_flow_lamports,
            "unexplained_lamports": self.unexplained_lamports,
            "unexplained_count": self.unexplained_count,
            "unexplained": [item.to_dict() for item in self.unexplained],
        }


def legs_cash_flow(legs: Iterable[SwapLeg]) -> int:
    """Proceeds of SOL-valued sells minus costs of SOL-valued buys minus fees, in lamports."""
    flow = 0
    for leg in legs:
        if leg.quote_mint == SOL_MINT and leg.sol_value_lamports is not None:
            flow += leg.sol_value_lamports if leg.direction == "sell" else -leg.sol_value_lamports
        flow -= leg.fee_lamports
    return flow


def _reason(legs: Sequence[SwapLeg], record: ChainRecord | None) -> UnexplainedReason:
    if record is None:
        return "no_chain_record"
    if any(leg.quote_mint in STABLE_MINTS for leg in legs):
        return "stablecoin_quoted"
    if any(leg.quote_mint is None for leg in legs):
        return "unvalued"
    return "mismatch"


def reconcile(legs: Iterable[SwapLeg], records: Mapping[str, ChainRecord]) -> Reconciliation:
    """Reconcile the legs of each transaction with its chain record (`records` by signature)."""
    by_signature: dict[str, list[SwapLeg]] = {}
    for leg in legs:
        by_signature.setdefault(leg.signature, []).append(leg)
    chain_total = flow_total = 0
    unexplained: list[UnexplainedTransaction] = []
    for signature, tx_legs in by_signature.items():
        record = records.get(signature)
        flow = legs_cash_flow(tx_legs)
        if record is None:
            unexplained.append(UnexplainedTransaction(signature, 0, "no_chain_record"))
            continue
        chain = record.change_without_rent
        chain_total += chain
        flow_total += flow
        if chain != flow:
            unexplained.append(UnexplainedTransaction(signature, chain - flow, _reason(tx_legs, record)))
    unexplained.sort(key=lambda item: (-abs(item.lamports), item.signature))
    return Reconciliation(
        transactions=len(by_signature),
        chain_change_lamports=chain_total,
        legs_cash_flow_lamports=flow_total,
        unexplained_lamports=chain_total - flow_total,
        unexplained_count=len(unexplained),
        unexplained=tuple(unexplained[:MAX_LISTED]),
    )

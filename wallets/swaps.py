"""Pure swap types shared by extraction, analysis and similarity. No Django, no Redis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Native SOL and wrapped SOL share one mint address; we use it as the mint of the SOL quote leg.
SOL_MINT = "So11111111111111111111111111111111111111112"
SOL_DECIMALS = 9
LAMPORTS_PER_SOL = 1_000_000_000
USDC_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
USDT_MINT = "Es9vMFrajbwYf5uKusaVDDpEbHJkTp2nT4QmXoo3XkBc"
STABLE_MINTS = frozenset({USDC_MINT, USDT_MINT})
QUOTE_MINTS = frozenset({SOL_MINT, USDC_MINT, USDT_MINT})

Direction = Literal["buy", "sell"]


@dataclass(frozen=True, slots=True)
class SwapLeg:
    """One side of a swap seen from the wallet: a token bought or sold against a quote asset.

    Amounts are exact raw integers with their decimals; the UI amount is raw / 10**decimals.
    `sol_value_lamports` values the leg in SOL: the SOL/WSOL quote leg itself, or the intermediary SOL leg
    of a token-to-token route; None when the swap was quoted in a stablecoin with no SOL leg to value it.
    """

    signature: str
    slot: int
    timestamp: int  # unix seconds (blockTime)
    mint: str
    direction: Direction
    token_amount_raw: int  # always > 0
    token_decimals: int
    quote_mint: str | None  # SOL_MINT, USDC_MINT, USDT_MINT, or None when no quote leg could be found
    quote_amount_raw: int  # >= 0, raw units of quote_mint
    quote_decimals: int
    sol_value_lamports: int | None
    usd_value: float | None  # set when the quote leg is a USD stablecoin
    fee_lamports: int  # network fee paid by the wallet, attributed to the first leg of the transaction only
    source: str  # e.g. RAYDIUM, PUMP_AMM, JUPITER, SIMULATED

    @property
    def token_amount(self) -> float:
        return self.token_amount_raw / float(10**self.token_decimals)

    @property
    def sol_value(self) -> float | None:
        return None if self.sol_value_lamports is None else self.sol_value_lamports / LAMPORTS_PER_SOL

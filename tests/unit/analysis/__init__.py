"""Tests of the pure PnL and behaviour maths. `leg()` builds SwapLegs tersely for all three test modules."""

from __future__ import annotations

from wallets.swaps import SOL_MINT, USDC_MINT, Direction, SwapLeg

DECIMALS = 6
UNIT = 10**DECIMALS  # raw units per UI token in these tests


def leg(
    mint: str,
    direction: Direction,
    qty: float,
    sol: float | None,
    *,
    ts: int,
    sig: str | None = None,
    slot: int | None = None,
    fee_lamports: int = 0,
    usd: float | None = None,
    decimals: int = DECIMALS,
    position: int = 0,
) -> SwapLeg:
    """A leg of `qty` UI tokens valued `sol` SOL (None = unvalued; `usd` then gives a USDC quote), at
    `position` among the wallet's transactions of its slot."""
    lamports = None if sol is None else round(sol * 1_000_000_000)
    quote_mint = USDC_MINT if usd is not None else (SOL_MINT if sol is not None else None)
    quote_raw = round(usd * 1_000_000) if usd is not None else (lamports or 0)
    return SwapLeg(
        signature=sig or f"sig-{mint}-{direction}-{ts}",
        slot=slot if slot is not None else ts,
        timestamp=ts,
        mint=mint,
        direction=direction,
        token_amount_raw=round(qty * 10**decimals),
        token_decimals=decimals,
        quote_mint=quote_mint,
        quote_amount_raw=quote_raw,
        quote_decimals=6 if usd is not None else 9,
        sol_value_lamports=lamports,
        usd_value=usd,
        fee_lamports=fee_lamports,
        source="SIMULATED",
        # Passed only when set, so these helpers also build legs for code from before block positions.
        **({"block_position": position} if position else {}),
    )

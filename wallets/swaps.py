"""Pure swap types shared by extraction, analysis and similarity. No Django, no Redis."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# Native SOL and wrapped SOL share one mint address; we use it as the mint of the SOL quote leg.
SOL_MINT = "So11111111111111111111111111111111111111112"
SOL_DECIMALS = 9
LAMPORTS_PER_SOL = 1_000_000_000
USDC_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
USDT_MINT = "Es9vMFrajbwYf5uKusaVDDpEbHJkTp2nT4QmXoo3XkBc"
STABLE_MINTS = frozenset({USDC_MINT, USDT_MINT})
QUOTE_MINTS = frozenset({SOL_MINT, USDC_MINT, USDT_MINT})

Direction = Literal["buy", "sell"]
# What a transaction was to the wallet: legs came out of it (swap), liquidity went in or out of a pool, it
# failed (its fee was still paid), it could not be read, or anything else (transfers, airdrops, account
# closures, swaps that produced no legs).
ChainKind = Literal["swap", "liquidity", "failed", "unreadable", "other"]


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
    # Position of the transaction among the wallet's transactions of the same slot, in block order (0 first),
    # from the order getSignaturesForAddress lists them; 0 when unknown.
    block_position: int = 0

    @property
    def token_amount(self) -> float:
        return self.token_amount_raw / float(10**self.token_decimals)

    @property
    def sol_value(self) -> float | None:
        return None if self.sol_value_lamports is None else self.sol_value_lamports / LAMPORTS_PER_SOL


@dataclass(frozen=True, slots=True)
class LiquidityMove:
    """Assets the wallet put into a pool (`add`) or took out of it (`remove`), against an LP token (or
    position token) minted to it or burned from it. Not a trade: no legs, no PnL."""

    direction: Literal["add", "remove"]
    lp_mint: str | None  # None when only the transaction type named the operation
    tokens: tuple[tuple[str, int, int], ...]  # (mint, raw change, decimals) of the wallet, LP token included
    sol_lamports: int  # the wallet's SOL + WSOL change, network fee and rent taken out

    def to_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "lp_mint": self.lp_mint,
            "tokens": [
                {"mint": mint, "raw": str(raw), "decimals": decimals} for mint, raw, decimals in self.tokens
            ],
            "sol_lamports": self.sol_lamports,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LiquidityMove:
        return cls(
            direction="add" if data.get("direction") == "add" else "remove",
            lp_mint=data.get("lp_mint"),
            tokens=tuple((str(t["mint"]), int(t["raw"]), int(t["decimals"])) for t in data.get("tokens", [])),
            sol_lamports=int(data.get("sol_lamports") or 0),
        )


@dataclass(slots=True)
class ChainRecord:
    """What one transaction did to the wallet's own SOL, whether it produced legs or not.

    Kept for every transaction of the wallet's history, failed ones included, because fees, the
    reconciliation of legs against the chain (docs/METHODS.md) and liquidity operations need it. A value:
    not frozen only because one is made per transaction on the sync's hot path, where frozen costs 3x.
    """

    signature: str
    slot: int
    timestamp: int
    kind: ChainKind
    fee_lamports: int  # network + priority fee the wallet paid as fee payer; 0 when another account paid
    sol_change_lamports: int  # the wallet's own native + WSOL change as the chain shows it, fee included
    rent_lamports: int  # rent the wallet deposited into its own token accounts minus rent they refunded
    block_position: int = 0
    liquidity: LiquidityMove | None = field(default=None)

    @property
    def change_without_rent(self) -> int:
        """The wallet's SOL change with rent added back: what trades, fees and tips moved."""
        return self.sol_change_lamports + self.rent_lamports

"""`SimulatedMarket`: the market's public face, answering what the upstream APIs answer.

It ties the pieces together (the universe of tokens, the family plans, history generation, rendering) and
adds what an API has: paging of signatures with `before`/`until`, batches of transactions by signature,
balances and token accounts consistent with each history, DexScreener pairs, and a bounded cache of
generated histories (an LRU of `HISTORY_CACHE_SIZE` wallets) shared by the threads of one process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from wallets.simulated_market.derivation import Derivation, address_bytes
from wallets.simulated_market.families import Family, FamilyBook
from wallets.simulated_market.heavy import (
    BLOCK_SIZE,
    HEAVY_SPAN_DAYS,
    MAX_HEAVY_SIZE,
    HeavyHistory,
    HeavyPlan,
)
from wallets.simulated_market.histories import (
    TRADER_ARCHETYPES,
    Archetype,
    History,
    HistoryGenerator,
    IntendedTrade,
    WalletProfile,
)
from wallets.simulated_market.prices import SOL_USD_PRICE
from wallets.simulated_market.signatures import SignatureCodec
from wallets.simulated_market.universe import ANCHOR_TS, SPL_TOKEN_PROGRAM, TokenInfo, Universe, slot_at
from wallets.simulated_market.wire import USDC_DECIMALS, Renderer
from wallets.swaps import SOL_DECIMALS, SOL_MINT, USDC_MINT, USDT_MINT

__all__ = [
    "DEFAULT_HEAVY_SIZES",
    "HISTORY_CACHE_SIZE",
    "MAX_DEX_MINTS_PER_CALL",
    "MAX_SIGNATURES_PER_CALL",
    "MAX_TRANSACTIONS_PER_CALL",
    "SOL_USD_RESOLUTIONS",
    "SimulatedMarket",
]

MAX_SIGNATURES_PER_CALL = 1000
MAX_TRANSACTIONS_PER_CALL = 100
MAX_DEX_MINTS_PER_CALL = 30
HISTORY_CACHE_SIZE = 512
DEFAULT_HEAVY_SIZES = (1_000_000, 200_000)  # the market's own heavy bots
# TradingView resolutions the SOL/USD history answers, in minutes per candle.
SOL_USD_RESOLUTIONS = {"1": 1, "5": 5, "15": 15, "30": 30, "60": 60, "240": 240, "D": 1440, "1D": 1440}


Ledger = History | HeavyHistory
"""A wallet's history: generated whole, or (a heavy bot's) block by block; both answer len, tx and slots."""


class SimulatedMarket:
    """A deterministic synthetic Solana market for one seed. Thread-safe: caches are guarded, generation
    is pure."""

    def __init__(
        self,
        seed: int = 0,
        *,
        history_size: int | None = None,
        history_sizes: Mapping[str, int] | None = None,
        heavy_bots: Mapping[str, int] | None = None,
    ) -> None:
        """`history_size` fixes every wallet's history length to exactly that many transactions (the oldest
        of a longer plan, so the wallet's newest positions stay open); `history_sizes` does it per address,
        e.g. one 5,000-transaction wallet for a sync benchmark. Default lengths depend on the archetype.
        `heavy_bots` makes chosen addresses heavy bots of chosen sizes (generated page by page), besides
        the market's own (`heavy_bots()`)."""
        if history_size is not None and history_size < 1:
            raise ValueError("history_size must be at least 1")
        if history_sizes and min(history_sizes.values()) < 1:
            raise ValueError("history sizes must be at least 1")
        if heavy_bots and not all(BLOCK_SIZE <= size <= MAX_HEAVY_SIZE for size in heavy_bots.values()):
            raise ValueError(f"heavy bots have {BLOCK_SIZE} to {MAX_HEAVY_SIZE} transactions")
        self.seed = seed
        self._history_size = history_size
        self._history_sizes = dict(history_sizes or {})
        for address in self._history_sizes:
            address_bytes(address)
        self._derive = Derivation(seed)
        self._lock = threading.Lock()
        self._histories: OrderedDict[str, Ledger] = OrderedDict()
        self._universe = Universe(self._derive)
        self._families = FamilyBook(self._universe)
        self._generator = HistoryGenerator(self._universe, self._families)
        self._renderer = Renderer(self._universe)
        self._signatures = SignatureCodec(self._derive)
        self._heavy = {
            self._derive.address("heavy-bot", number): size for number, size in enumerate(DEFAULT_HEAVY_SIZES)
        }
        for address, size in (heavy_bots or {}).items():
            address_bytes(address)
            self._heavy[address] = size
        self._treasuries = {self._derive.address("treasury", bot): bot for bot in self._heavy}

    # -------------------------------------------------------------------------------------- universe

    def tokens(self) -> list[TokenInfo]:
        return list(self._universe.tokens)

    def token(self, mint: str) -> TokenInfo | None:
        index = self._universe.token_index.get(mint)
        return None if index is None else self._universe.tokens[index]

    def price_sol(self, mint: str, timestamp: int = ANCHOR_TS) -> float | None:
        """Price in SOL per whole token at a time; None for a mint outside the universe."""
        if mint == SOL_MINT:
            return 1.0
        if mint in (USDC_MINT, USDT_MINT):
            return 1.0 / self.sol_usd_at(timestamp)
        index = self._universe.token_index.get(mint)
        if index is None or timestamp < self._universe.tokens[index].launch_ts:
            return None
        return self._universe.path(index).price(timestamp)

    def sol_usd_price(self) -> float:
        """Today's SOL/USD: the SOL/USD path's last point, and the price of the SOL pair on DexScreener."""
        return SOL_USD_PRICE

    def sol_usd_at(self, timestamp: int) -> float:
        """SOL/USD of a moment: the close of its one-minute candle (today's price from "now" on); the rate
        at which the market settles stablecoin-quoted swaps. ValueError before the SOL/USD history."""
        if timestamp >= ANCHOR_TS:
            return SOL_USD_PRICE
        return self._universe.sol_usd.at(timestamp)

    def sol_usd_candles(self, from_ts: int, to_ts: int, resolution: str) -> dict[str, Any]:
        """SOL/USD candles in the TradingView UDF shape of Pyth Benchmarks' history endpoint.

        `{"s": "ok", "t", "o", "h", "l", "c", "v"}` for the complete candles starting in [from_ts, to_ts]
        (volume is 0: an oracle price has none); `{"s": "no_data", "nextTime": t}` when there are none, with
        the start of the last candle before the range when there is one; `{"s": "error", "errmsg"}` for an
        unsupported resolution or a reversed range. Resolutions: minutes (`1`, `5`, `15`, `30`, `60`,
        `240`) and `D` (`1D`).
        """
        minutes = SOL_USD_RESOLUTIONS.get(resolution)
        if minutes is None:
            return {"s": "error", "errmsg": f"Unsupported resolution {resolution!r}"}
        if from_ts > to_ts:
            return {"s": "error", "errmsg": "from must not be after to"}
        bars, previous = self._universe.sol_usd.candles(from_ts, to_ts, minutes)
        if not bars:
            return {"s": "no_data"} if previous is None else {"s": "no_data", "nextTime": previous}
        return {
            "s": "ok",
            "t": [bar.start for bar in bars],
            "o": [bar.open for bar in bars],
            "h": [bar.high for bar in bars],
            "l": [bar.low for bar in bars],
            "c": [bar.close for bar in bars],
            "v": [0.0] * len(bars),
        }

    # -------------------------------------------------------------------------------------- wallets

    def families(self) -> list[Family]:
        """Every family: copy traders (with each follower's lag), bundles and funded groups (with their
        fresh funder)."""
        return [
            Family(f.name, f.kind, f.leader, list(f.members), f.funder, dict(f.lags))
            for f in self._families.families
        ]

    def sniper_bots(self) -> list[str]:
        """The market's independent sniper bots: each buys most launches within seconds."""
        return list(self._families.sniper_bots)

    def heavy_bots(self) -> list[str]:
        """Bots with huge histories (the market's own, then any chosen at construction)."""
        return list(self._heavy)

    def funder_of(self, address: str) -> str | None:
        """The source of the wallet's first SOL: its fresh funder (bundles, funded groups), else the exchange
        hot wallet it withdrew from; a fresh funder's own source is an exchange; None for an exchange."""
        return self._generator.funder_of(address, address_bytes(address))

    def family_mints(self, name: str) -> list[str]:
        """Debug view: the mints a family's shared plan trades (members' own noise avoids them); none for a
        funded group, which has no shared plan."""
        for family in self._families.families:
            if family.name == name:
                if family.kind == "funded":
                    return []
                mints = self._families.family_mints[family.leader]
                return sorted(self._universe.tokens[index].mint for index in mints)
        raise KeyError(name)

    def sample_wallets(self, count: int, *, archetype: Archetype | None = None) -> list[str]:
        """Unrelated addresses (no family), deterministic for the seed; optionally of one archetype.

        `sniper_bot` gives the market's sniper bots (at most as many as there are); the other trader
        archetypes give ordinary wallets, funded from exchanges.
        """
        if archetype == "sniper_bot":
            if count > len(self._families.sniper_bots):
                raise ValueError(f"the market has {len(self._families.sniper_bots)} sniper bots")
            return self.sniper_bots()[:count]
        if archetype == "heavy_bot":
            if count > len(self._heavy):
                raise ValueError(f"the market has {len(self._heavy)} heavy bots")
            return self.heavy_bots()[:count]
        if archetype is not None and archetype not in TRADER_ARCHETYPES:
            raise ValueError(f"no sample wallets of archetype {archetype!r}")
        wallets: list[str] = []
        index = 0
        while len(wallets) < count:
            address = self._derive.address("sample", index)
            index += 1
            if archetype is None or self.profile(address).archetype == archetype:
                wallets.append(address)
        return wallets

    def profile(self, address: str) -> WalletProfile:
        raw = address_bytes(address)
        if address in self._heavy:
            return WalletProfile(address, "heavy_bot", None, None)
        if address in self._treasuries:
            return WalletProfile(address, "treasury", None, None)
        return self._generator.profile(address, raw)

    # -------------------------------------------------------------------------------------- histories

    def _size_key(self, address: str) -> int:
        heavy = self._heavy.get(address)
        if heavy is not None:
            return heavy
        return self._history_sizes.get(address, self._history_size or 0)

    def _history(self, address: str) -> Ledger:
        with self._lock:
            cached = self._histories.get(address)
            if cached is not None:
                self._histories.move_to_end(address)
                return cached
        raw = address_bytes(address)  # only valid addresses are ever cached
        plan = self._families.funding_plans.get(address)
        history: Ledger
        if plan is not None:
            deposits = [self._history(member).tx(0).sol_delta for member, _ in plan.transfers]
            history = self._generator.generate_funder(plan, raw, deposits)
        elif address in self._heavy:
            history = self._heavy_history(address, raw)
        elif address in self._treasuries:
            history = History(self.profile(address), raw, 0, (), 0, 0, 0, {})
        else:
            history = self._generator.generate(address, raw, size_override=self._size_key(address))
        with self._lock:
            self._histories[address] = history
            while len(self._histories) > HISTORY_CACHE_SIZE:
                self._histories.popitem(last=False)
        return history

    def _heavy_history(self, address: str, raw: bytes) -> HeavyHistory:
        size = self._heavy[address]
        start = ANCHOR_TS - HEAVY_SPAN_DAYS * 86_400
        funder = self._generator.funder_of(address, raw)
        assert funder is not None  # heavy bots are not exchanges
        plan = HeavyPlan(
            address=address,
            size=size,
            funder=funder,
            treasury=self._derive.address("treasury", address),
            start_ts=start,
            block_seconds=(ANCHOR_TS - start) // -(-size // BLOCK_SIZE),
        )
        return HeavyHistory(self.profile(address), raw, size, plan, self._universe)

    def _resolve_signature(self, signature: str) -> tuple[str, int] | None:
        return self._signatures.resolve(signature, self._size_key)

    def _signer(self, history: Ledger) -> Callable[[int], str]:
        def sign(index: int) -> str:
            shared = history.shared.get(index)
            if shared is not None:
                owner, owner_index = shared
                return self._signatures.encode(address_bytes(owner), self._size_key(owner), owner_index)
            return self._signatures.encode(history.address_bytes, history.size_key, index)

        return sign

    def _issued(self, signature: str) -> tuple[str, Ledger, int] | None:
        """(address, history, index) of a signature this market gave out, else None. A transaction shared
        with another address (a funder's transfer) is listed under that address's signature only."""
        resolved = self._resolve_signature(signature)
        if resolved is None:
            return None
        address, index = resolved
        history = self._history(address)
        if index >= len(history) or index in history.shared:
            return None
        return address, history, index

    def signature_at(self, address: str, index: int) -> str:
        """Debug view: the signature of the wallet's transaction at an index (0 is the oldest), e.g. to start
        paging deep inside a heavy bot's history without walking to it."""
        history = self._history(address)
        if not 0 <= index < len(history):
            raise IndexError(f"{address} has {len(history)} transactions")
        return self._signer(history)(index)

    def history_length(self, address: str) -> int:
        return len(self._history(address))

    def intended_trades(self, address: str) -> list[IntendedTrade]:
        """Debug view: the successful swaps the market generated for a wallet, oldest first. Not for heavy
        bots, whose histories are never held whole."""
        history = self._history(address)
        if isinstance(history, HeavyHistory):
            raise ValueError("a heavy bot's trades are read page by page, through get_signatures")
        return self._generator.intended_trades(history, self._signer(history))

    def get_signatures(
        self,
        address: str,
        *,
        before: str | None = None,
        until: str | None = None,
        limit: int = MAX_SIGNATURES_PER_CALL,
    ) -> list[dict[str, Any]]:
        """`getSignaturesForAddress` result entries, newest first.

        `before` and `until` are exclusive. A signature outside this wallet's history bounds by its slot when
        it is one this market issued (like the real RPC); otherwise an unknown `before` gives no entries and
        an unknown `until` is ignored.
        """
        if not 1 <= limit <= MAX_SIGNATURES_PER_CALL:
            raise ValueError(f"limit must be between 1 and {MAX_SIGNATURES_PER_CALL}")
        history = self._history(address)
        end = len(history)
        if before is not None:
            end = self._boundary(history, before, upper=True)
        start = 0
        if until is not None:
            start = self._boundary(history, until, upper=False)
        sign = self._signer(history)
        return [
            self._renderer.signature_entry(history.tx(index), sign(index))
            for index in range(end - 1, max(start, end - limit) - 1, -1)
        ]

    def _boundary(self, history: Ledger, signature: str, *, upper: bool) -> int:
        """Index bound for an exclusive `before` (upper) or `until` (lower) signature."""
        issued = self._issued(signature)
        if issued is None:
            return 0
        other_address, other, other_index = issued
        if other_address == history.profile.address:
            return other_index if upper else other_index + 1
        return history.index_at_slot(slot_at(other.tx(other_index).ts), upper=upper)

    def get_transactions(self, signatures: Sequence[str]) -> list[dict[str, Any]]:
        """Helius `POST /v0/transactions`: enhanced transactions in request order; unknown ones omitted."""
        if len(signatures) > MAX_TRANSACTIONS_PER_CALL:
            raise ValueError(f"at most {MAX_TRANSACTIONS_PER_CALL} signatures per call")
        result: list[dict[str, Any]] = []
        for signature in signatures:
            issued = self._issued(signature)
            if issued is not None:
                address, history, index = issued
                result.append(self._renderer.transaction(address, history.tx(index), signature))
        return result

    # -------------------------------------------------------------------------------------- balances

    def get_sol_balance(self, address: str) -> int:
        """`getBalance` value in lamports: the funding deposit plus every native change since."""
        return self._history(address).final_lamports

    def get_token_accounts(self, address: str, *, program_id: str | None = None) -> list[dict[str, Any]]:
        """`getTokenAccountsByOwner` (jsonParsed) `value` entries for every token still held.

        Both token programs unless `program_id` picks one; the WSOL account shows while it holds WSOL.
        """
        history = self._history(address)
        entries: list[dict[str, Any]] = []
        for index, raw in history.holdings.items():
            token = self._universe.tokens[index]
            entries.append(
                self._renderer.token_account(address, token.mint, token.decimals, raw, token.program)
            )
        if history.wsol_lamports > 0:
            entries.append(
                self._renderer.token_account(
                    address, SOL_MINT, SOL_DECIMALS, history.wsol_lamports, SPL_TOKEN_PROGRAM
                )
            )
        if history.usdc_raw > 0:
            entries.append(
                self._renderer.token_account(
                    address, USDC_MINT, USDC_DECIMALS, history.usdc_raw, SPL_TOKEN_PROGRAM
                )
            )
        if program_id is not None:
            entries = [entry for entry in entries if entry["account"]["owner"] == program_id]
        return sorted(entries, key=lambda entry: str(entry["pubkey"]))

    # -------------------------------------------------------------------------------------- prices

    def get_dex_pairs(self, mints: Sequence[str]) -> list[dict[str, Any]]:
        """DexScreener `GET /tokens/v1/solana/{mints}`: one pair per known mint (as base), anchor prices."""
        if len(mints) > MAX_DEX_MINTS_PER_CALL:
            raise ValueError(f"at most {MAX_DEX_MINTS_PER_CALL} token addresses per call")
        pairs: list[dict[str, Any]] = []
        for mint in dict.fromkeys(mints):
            if mint == SOL_MINT:
                pairs.append(self._renderer.sol_pair())
            elif mint in (USDC_MINT, USDT_MINT):
                pairs.append(self._renderer.stable_pair(mint))
            elif mint in self._universe.token_index:
                pairs.append(self._renderer.token_pair(self._universe.token_index[mint]))
        return pairs

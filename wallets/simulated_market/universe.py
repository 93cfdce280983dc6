"""The simulated market's world: its clock, its programs, and the memecoins that trade in it.

Time is fixed, never read from a clock: the market's history lies in the `HISTORY_DAYS` before `ANCHOR_TS`
("now"), and slots advance 2.5 per second up to `ANCHOR_SLOT`, so distinct seconds never share a slot.

The token universe is a few hundred memecoins launched over the weeks before and during the window, each
with a launch time, decimals (6 or 9), a token program (SPL Token, a few Token-2022), a primary venue
(PUMP_AMM, RAYDIUM or METEORA) with one pool, and a popularity drawn from a Pareto tail, so a few coins draw
most of the trading, as on a real launchpad. Wallets pick tokens by popularity and youth: memecoins trade
mostly in their first days. Each token's price is a path of its own (see `prices`).

After the memecoins come a dozen established tokens, listed for well over a year on RAYDIUM or METEORA:
only the heavy bots trade them (memecoin pickers never see them), all year round.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate

from wallets.simulated_market.derivation import Derivation, b58encode
from wallets.simulated_market.prices import PRICE_CACHE_HOURS, PricePath, SolUsdPath

__all__ = [
    "ANCHOR_SLOT",
    "ANCHOR_TS",
    "BASE_FEE_LAMPORTS",
    "COMPUTE_BUDGET_PROGRAM",
    "HISTORY_DAYS",
    "JITO_TIP_ACCOUNTS",
    "JUPITER_PROGRAM",
    "LAUNCH_MARGIN_S",
    "RAYDIUM_AUTHORITY",
    "SPL_TOKEN_PROGRAM",
    "SYSTEM_PROGRAM",
    "TOKEN_2022_ACCOUNT_RENT",
    "TOKEN_2022_PROGRAM",
    "TOKEN_ACCOUNT_RENT",
    "TOKEN_SUPPLY",
    "VENUES",
    "WINDOW_START_TS",
    "Pool",
    "TokenInfo",
    "Universe",
    "Venue",
    "slot_at",
    "supply_raw",
    "token_account_rent",
]

ANCHOR_TS = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp())
HISTORY_DAYS = 30
WINDOW_START_TS = ANCHOR_TS - HISTORY_DAYS * 86_400
ANCHOR_SLOT = 450_000_000
LAUNCH_MARGIN_S = 2 * 3600  # no trade in the first hours of the window, so deposits can precede everything

SPL_TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
TOKEN_2022_PROGRAM = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
SYSTEM_PROGRAM = "11111111111111111111111111111111"
COMPUTE_BUDGET_PROGRAM = "ComputeBudget111111111111111111111111111111"
JUPITER_PROGRAM = "JUP6LkbZbjS1jKKwapdHNy74zcZ3tLUZoi5QNyVTaV4"
RAYDIUM_AUTHORITY = "5Q544fKrFoe6tsEbD7S8EmxGTJYAKtTVhAW5Q5pge4j1"
# Rent-exempt minimum of a token account: 165 bytes for SPL Token, 170 with Token-2022's ImmutableOwner.
TOKEN_ACCOUNT_RENT = 2_039_280
TOKEN_2022_ACCOUNT_RENT = 2_074_080
BASE_FEE_LAMPORTS = 5_000
# Jito's eight mainnet tip accounts (as listed by the block engine's getTipAccounts): a bundle pays its tip
# with a plain SOL transfer to one of them.
JITO_TIP_ACCOUNTS = (
    "96gYZGLnJYVFmbjzopPSU6QiEV5fGqZNyN9nmNhvrZU5",
    "HFqU5x63VTqvQss8hp11i4wVV8bD44PvwucfZ2bU7gRe",
    "Cw8CFyM9FkoMi7K7Crf6HNQqf4uEMzpKw6QNghXLvLkY",
    "ADaUMid9yfUytqMBgopwjb2DTLSokTSzL1zt6iGPaS49",
    "DfXygSm4jCyNCybVYYK6DwvWqjKee8pbDmJGcLWNDXjh",
    "ADuUkR4vqLUMWXxW9gh6D6L8pMSawimctcNZ5pGwDcEt",
    "DttWaMuVvTiduZRnguLF7jNxTgiMBZ1hyAumKUiL2KRL",
    "3AVi9Tg9Uo68tJfuvoKvqKNWKkC5wPdSSdeBnizKZ6jT",
)
TOKEN_SUPPLY = 1_000_000_000  # whole tokens, pump.fun style

_TOKEN_COUNT = 500
_ESTABLISHED_COUNT = 12
_ESTABLISHED_AGE_DAYS = 500
_POPULARITY_ALPHA = 1.3  # Pareto tail of token popularity: a few coins draw most of the trading


def slot_at(timestamp: int) -> int:
    """Slot of a block time: 2.5 slots per second, so distinct seconds never share a slot."""
    return ANCHOR_SLOT - ((ANCHOR_TS - timestamp) * 5) // 2


@dataclass(frozen=True, slots=True)
class TokenInfo:
    mint: str
    symbol: str
    name: str
    decimals: int
    launch_ts: int
    program: str  # owning token program id
    venue: str  # primary pool's Helius source: RAYDIUM, PUMP_AMM or METEORA
    popularity: float
    supply: int = TOKEN_SUPPLY  # whole tokens


def supply_raw(token: TokenInfo) -> int:
    return token.supply * 10**token.decimals


def token_account_rent(token: TokenInfo) -> int:
    return TOKEN_2022_ACCOUNT_RENT if token.program == TOKEN_2022_PROGRAM else TOKEN_ACCOUNT_RENT


@dataclass(frozen=True, slots=True)
class Venue:
    source: str
    dex_id: str
    program: str
    error_code: int  # the custom error a failed swap on this venue reports (slippage)


VENUES = {
    "RAYDIUM": Venue("RAYDIUM", "raydium", "675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8", 30),
    "PUMP_AMM": Venue("PUMP_AMM", "pumpswap", "pAMMBay6oceH9fJKBRHGP5D4bD4sWpmSwMn52FMfXEA", 6004),
    "METEORA": Venue("METEORA", "meteora", "LBUZKhRxPF3XUpBCjp4YzTKgLccjZhTSDM9YuVaPwxo", 6003),
    "JUPITER": Venue("JUPITER", "jupiter", JUPITER_PROGRAM, 6001),
    "PUMP_FUN": Venue("PUMP_FUN", "pumpfun", "6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P", 6002),
}


@dataclass(frozen=True, slots=True)
class Pool:
    address: str
    authority: str
    token_vault: str
    sol_vault: str
    usdc_vault: str  # the pool's USDC side, for swaps routed against USDC


_NAME_ADJECTIVES = (
    "Based", "Giga", "Tiny", "Baby", "Turbo", "Super", "Dark", "Happy", "Sad", "Wild", "Golden", "Cosmic",
    "Sleepy", "Angry", "Little", "Mega", "Frozen", "Lucky", "Crazy", "Silent", "Pixel", "Neon", "Royal",
)  # fmt: skip
_NAME_NOUNS = (
    "Dog", "Cat", "Frog", "Moon", "Pepe", "Whale", "Ape", "Bonk", "Doge", "Hamster", "Panda", "Goat", "Duck",
    "Chad", "Wojak", "Penguin", "Otter", "Shark", "Tiger", "Bull", "Bear", "Rocket", "Banana", "Wizard",
)  # fmt: skip


class Universe:
    """The tokens of one seed, their pools and (built on first use) their price paths."""

    def __init__(self, derive: Derivation, *, price_cache_hours: int = PRICE_CACHE_HOURS) -> None:
        self.derive = derive
        self._price_cache_hours = price_cache_hours
        self.sol_usd = SolUsdPath(derive.digest("sol-usd"), ANCHOR_TS, cache_hours=price_cache_hours)
        self.tokens: list[TokenInfo] = []
        self.token_index: dict[str, int] = {}
        self._paths: list[PricePath | None] = []  # built on first use: most tokens are never priced
        self._pools: dict[int, Pool] = {}
        self._build_tokens()
        # Pickers and launch lists see the memecoins only; established tokens are appended after them.
        self._popularity_cdf = list(accumulate(token.popularity for token in self.tokens))
        self._launch_order = sorted(range(len(self.tokens)), key=lambda i: self.tokens[i].launch_ts)
        self._launch_times = [self.tokens[i].launch_ts for i in self._launch_order]
        self._calm: set[int] = set()
        self.established = self._build_established()
        self._calm.update(self.established)

    def _build_tokens(self) -> None:
        launch_low = WINDOW_START_TS - 15 * 86_400
        launch_high = ANCHOR_TS - 6 * 3600
        for index in range(_TOKEN_COUNT):
            rng = self.derive.rng("token", index)
            venue = rng.choices(("PUMP_AMM", "RAYDIUM", "METEORA"), weights=(0.45, 0.35, 0.2))[0]
            adjective, noun = rng.choice(_NAME_ADJECTIVES), rng.choice(_NAME_NOUNS)
            symbol = (adjective[: rng.randint(0, 2)] + noun).upper()[:6]
            mint = b58encode(self.derive.digest("mint", index))
            launch_ts = rng.randint(launch_low, launch_high)
            token = TokenInfo(
                mint=mint,
                symbol=symbol,
                name=f"{adjective} {noun}",
                decimals=6 if venue == "PUMP_AMM" or rng.random() < 0.6 else 9,
                launch_ts=launch_ts,
                program=TOKEN_2022_PROGRAM if rng.random() < 0.06 else SPL_TOKEN_PROGRAM,
                venue=venue,
                popularity=rng.paretovariate(_POPULARITY_ALPHA),
            )
            self.tokens.append(token)
            self.token_index[mint] = index
            self._paths.append(None)

    def _build_established(self) -> tuple[int, ...]:
        indices: list[int] = []
        for number in range(_ESTABLISHED_COUNT):
            rng = self.derive.rng("established", number)
            venue = rng.choice(("RAYDIUM", "METEORA"))
            adjective, noun = rng.choice(_NAME_ADJECTIVES), rng.choice(_NAME_NOUNS)
            mint = b58encode(self.derive.digest("established-mint", number))
            token = TokenInfo(
                mint=mint,
                symbol=(adjective[:1] + noun).upper()[:6],
                name=f"{adjective} {noun} Classic",
                decimals=rng.choice((6, 9)),
                launch_ts=ANCHOR_TS - _ESTABLISHED_AGE_DAYS * 86_400 - rng.randint(0, 60) * 86_400,
                program=SPL_TOKEN_PROGRAM,
                venue=venue,
                popularity=0.0,
            )
            indices.append(len(self.tokens))
            self.token_index[mint] = len(self.tokens)
            self.tokens.append(token)
            self._paths.append(None)
        return tuple(indices)

    def add_token(self, token: TokenInfo, *, calm: bool) -> int:
        """Append a token that no picker sees (launch catalogue): its index. `calm`: an established-style
        price path instead of a memecoin's."""
        index = len(self.tokens)
        self.tokens.append(token)
        self.token_index[token.mint] = index
        self._paths.append(None)
        if calm:
            self._calm.add(index)
        return index

    def path(self, index: int) -> PricePath:
        path = self._paths[index]
        if path is None:
            path = PricePath(
                self.derive.digest("price", index),
                self.tokens[index].launch_ts,
                ANCHOR_TS,
                established=index in self._calm,
                cache_hours=self._price_cache_hours,
            )
            self._paths[index] = path
        return path

    def pool(self, index: int) -> Pool:
        pool = self._pools.get(index)
        if pool is None:
            venue = self.tokens[index].venue
            authority = RAYDIUM_AUTHORITY if venue == "RAYDIUM" else self.derive.address("authority", index)
            pool = Pool(
                self.derive.address("pool", index),
                authority,
                self.derive.address("vault", index),
                self.derive.address("wsol-vault", index),
                self.derive.address("usdc-vault", index),
            )
            self._pools[index] = pool
        return pool

    def pick_token(
        self, rng: random.Random, at: int, age_scale_s: float, excluded: frozenset[int]
    ) -> int | None:
        """A token alive at `at`, by popularity and youth (memecoins trade mostly in their first days)."""
        total = self._popularity_cdf[-1]
        for _ in range(30):
            index = bisect_right(self._popularity_cdf, rng.random() * total)
            index = min(index, len(self._popularity_cdf) - 1)
            age = at - self.tokens[index].launch_ts
            if age < 60 or index in excluded:
                continue
            if rng.random() < math.exp(-age / age_scale_s) + 0.03:
                return index
        return None

    def gains(self, token: int, buy_ts: int, sell_ts: int) -> bool:
        """Whether a round trip beats the pool fees."""
        path = self.path(token)
        return path.price(sell_ts) > path.price(buy_ts) * 1.01

    def launched_between(self, start: int, end: int) -> list[int]:
        low = bisect_left(self._launch_times, start)
        high = bisect_right(self._launch_times, end)
        return self._launch_order[low:high]

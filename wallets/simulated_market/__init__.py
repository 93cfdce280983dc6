"""A deterministic synthetic Solana market that speaks the real upstream wire formats.

It stands in for Helius, the Solana RPC and DexScreener when `CHAIN_PROVIDER=simulated`, and feeds the
fake upstream server of the tests, so demos, tests and benchmarks run without a network or an API key and
still exercise the real parsers. Any valid base58 address gets a reproducible history.

Pure: no Django, no Redis, no network, no clock, no sleeping. Everything derives from `seed` through
SHA-256 (never Python's salted `hash()`), so the same seed and address give byte-identical answers in every
process, and a worker can serve a signature another worker listed.

One module per idea:
- `derivation`: how every random choice derives from the seed; base58.
- `universe`: the fixed clock (`ANCHOR_TS`, the `HISTORY_DAYS` window, slots), programs, rents, and the
  memecoins with their venues and pools.
- `prices`: the price model, a lazily built Brownian path per token, and SOL/USD, minute by minute.
- `families`: market structure: copy traders, bundles, groups funded by a fresh funder, sniper bots, and
  exchange withdrawals (from `wallets.custodians`), planned before any history.
- `histories`: archetypes and the generation of a wallet's transactions from its address and plans.
- `heavy`: bots with a million transactions, generated block by block, never held whole.
- `launches`: the launch catalogue (creators, bundlers, snipers, insiders, fresh and retail buyers) and a
  mint with a million holders.
- `signatures`: signatures that carry their wallet and index, resolvable in any process.
- `wire`: rendering into Helius enhanced transactions, RPC entries and DexScreener pairs.
- `market`: `SimulatedMarket`, the public face: paging, batches, balances, pairs, caching.

What it emits, matching the recorded fixtures:
- `get_signatures`: RPC `getSignaturesForAddress` result entries, newest first, `before`/`until` exclusive.
- `get_transactions`: Helius enhanced transactions (`POST /v0/transactions` items), amounts in `accountData`.
- `get_sol_balance` / `get_token_accounts`: RPC `getBalance` value and `getTokenAccountsByOwner` jsonParsed
  `value` entries, consistent with the history.
- `get_dex_pairs`: DexScreener `GET /tokens/v1/solana/{mints}` pair objects.
- `get_token_supply`, `get_mint_token_accounts`, `get_multiple_accounts`: RPC `getTokenSupply`, Helius
  DAS `getTokenAccounts` by mint (paged), RPC `getMultipleAccounts`; `get_signatures` of a launch's mint
  lists every transaction that touched it.
- `sol_usd_candles`: Pyth Benchmarks' TradingView history of SOL/USD (`{"s": "ok", "t", "o", "h", "l",
  "c", "v"}`), consistent with the SOL/USD at which the market settled its stablecoin-quoted swaps.
"""

from wallets.simulated_market.derivation import b58decode, b58encode
from wallets.simulated_market.families import Family
from wallets.simulated_market.histories import Archetype, IntendedTrade, WalletProfile
from wallets.simulated_market.launches import (
    FRESH_WINDOW_S,
    MEGA_HOLDERS,
    SNIPER_WINDOW_SLOTS,
    Launch,
    LaunchParticipant,
)
from wallets.simulated_market.market import (
    MAX_ACCOUNTS_PER_CALL,
    MAX_DAS_ACCOUNTS_PER_PAGE,
    MAX_DEX_MINTS_PER_CALL,
    MAX_SIGNATURES_PER_CALL,
    MAX_TRANSACTIONS_PER_CALL,
    SOL_USD_RESOLUTIONS,
    NotAMintError,
    SimulatedMarket,
    shared_market,
)
from wallets.simulated_market.prices import SOL_USD_HISTORY_DAYS, SOL_USD_PRICE
from wallets.simulated_market.universe import (
    ANCHOR_SLOT,
    ANCHOR_TS,
    HISTORY_DAYS,
    SPL_TOKEN_PROGRAM,
    TOKEN_2022_ACCOUNT_RENT,
    TOKEN_2022_PROGRAM,
    TOKEN_ACCOUNT_RENT,
    WINDOW_START_TS,
    TokenInfo,
    slot_at,
)

__all__ = [
    "ANCHOR_SLOT",
    "ANCHOR_TS",
    "FRESH_WINDOW_S",
    "HISTORY_DAYS",
    "MAX_ACCOUNTS_PER_CALL",
    "MAX_DAS_ACCOUNTS_PER_PAGE",
    "MAX_DEX_MINTS_PER_CALL",
    "MAX_SIGNATURES_PER_CALL",
    "MAX_TRANSACTIONS_PER_CALL",
    "MEGA_HOLDERS",
    "SNIPER_WINDOW_SLOTS",
    "SOL_USD_HISTORY_DAYS",
    "SOL_USD_PRICE",
    "SOL_USD_RESOLUTIONS",
    "SPL_TOKEN_PROGRAM",
    "TOKEN_2022_ACCOUNT_RENT",
    "TOKEN_2022_PROGRAM",
    "TOKEN_ACCOUNT_RENT",
    "WINDOW_START_TS",
    "Archetype",
    "Family",
    "IntendedTrade",
    "Launch",
    "LaunchParticipant",
    "NotAMintError",
    "SimulatedMarket",
    "TokenInfo",
    "WalletProfile",
    "b58decode",
    "b58encode",
    "shared_market",
    "slot_at",
]

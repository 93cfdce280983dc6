"""Golden digests of the simulated market's output: the proof that a refactor changed nothing.

Every public answer of the market (signature pages, enhanced transactions, balances, token accounts,
DexScreener pairs, profiles, families, intended trades) is serialised to canonical JSON and hashed, for a
few seeds and for one wallet of every archetype and two members of every family. A change to the digests
is a change of behaviour: deliberate ones re-record them with

    .venv/bin/python -m tests.unit.wallets.test_simulated_market_golden

and say in the commit what changed and why.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import pytest

from wallets.simulated_market import ANCHOR_TS, HISTORY_DAYS, Archetype, SimulatedMarket

SEEDS = (0, 3)
ARCHETYPES: tuple[Archetype, ...] = ("flipper", "holder", "sniper", "bot")
SIZED_SEED = 5
SIZED_HISTORY = 700


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_plain)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, frozenset):
        return sorted(value)
    raise TypeError(f"not serialisable: {type(value).__name__}")


def _digest(value: Any) -> str:
    return hashlib.sha256(_canonical(value).encode()).hexdigest()[:16]


def _signatures(market: SimulatedMarket, address: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    before: str | None = None
    while True:
        page = market.get_signatures(address, before=before, limit=1000)
        entries += page
        if len(page) < 1000:
            return entries
        before = page[-1]["signature"]


def _wallet_outputs(market: SimulatedMarket, address: str) -> dict[str, str]:
    entries = _signatures(market, address)
    signatures = [entry["signature"] for entry in entries]
    transactions = [
        tx
        for start in range(0, len(signatures), 100)
        for tx in market.get_transactions(signatures[start : start + 100])
    ]
    middle = signatures[len(signatures) // 2]
    return {
        "signatures": _digest(entries),
        "transactions": _digest(transactions),
        "sol_balance": _digest(market.get_sol_balance(address)),
        "token_accounts": _digest(market.get_token_accounts(address)),
        "profile": _digest(market.profile(address)),
        "intended_trades": _digest(market.intended_trades(address)),
        "bounded_pages": _digest(
            [
                market.get_signatures(address, before=middle, limit=7),
                market.get_signatures(address, until=middle),
            ]
        ),
    }


def _golden_wallets(market: SimulatedMarket) -> dict[str, str]:
    wallets: dict[str, str] = {
        archetype: market.sample_wallets(1, archetype=archetype)[0] for archetype in ARCHETYPES
    }
    for family in market.families():
        wallets[f"{family.name}/0"] = family.members[0]
        wallets[f"{family.name}/1"] = family.members[1]
        if family.funder is not None:
            wallets[f"{family.name}/funder"] = family.funder
    wallets["sniper_bot"] = market.sniper_bots()[0]
    return wallets


def _market_outputs(market: SimulatedMarket) -> dict[str, str]:
    mints = [token.mint for token in market.tokens()]
    times = [ANCHOR_TS - HISTORY_DAYS * 86_400 + step * 7_919 for step in range(0, 330, 11)]
    return {
        "tokens": _digest(market.tokens()),
        "families": _digest(market.families()),
        "family_mints": _digest(
            {family.name: market.family_mints(family.name) for family in market.families()}
        ),
        "sample_wallets": _digest(market.sample_wallets(40)),
        "funders": _digest([market.funder_of(wallet) for wallet in market.sample_wallets(40)]),
        "sniper_bots": _digest(market.sniper_bots()),
        "dex_pairs": _digest(
            [market.get_dex_pairs(mints[start : start + 30]) for start in range(0, len(mints), 30)]
        ),
        "prices": _digest([[market.price_sol(mint, at) for at in times] for mint in mints[:40]]),
        "sol_usd": _digest(market.sol_usd_price()),
        "sol_usd_candles": _digest(
            [
                market.sol_usd_candles(times[3], times[3] + 7200, "1"),
                market.sol_usd_candles(times[5], times[5] + 2 * 86_400, "60"),
                market.sol_usd_candles(ANCHOR_TS - 30 * 86_400, ANCHOR_TS, "D"),
            ]
        ),
    }


def current_digests() -> dict[str, dict[str, str]]:
    digests: dict[str, dict[str, str]] = {}
    for seed in SEEDS:
        market = SimulatedMarket(seed=seed)
        digests[f"seed {seed}"] = _market_outputs(market)
        for role, address in _golden_wallets(market).items():
            digests[f"seed {seed} {role}"] = _wallet_outputs(market, address)
    launch_market = SimulatedMarket(seed=SIZED_SEED)
    catalogue = launch_market.launches()
    bundled, mega = catalogue[0], catalogue[-1]
    digests["launches"] = {
        "catalogue": _digest(catalogue),
        "mint signatures": _digest(launch_market.get_signatures(bundled.mint, limit=1000)),
        "creation": _digest(
            launch_market.get_transactions([launch_market.get_signatures(bundled.mint)[-1]["signature"]])
        ),
        "supply": _digest([launch_market.get_token_supply(item.mint) for item in catalogue]),
        "holders": _digest(launch_market.get_mint_token_accounts(bundled.mint, page=1, limit=1000)),
        "mega holders": _digest(launch_market.get_mint_token_accounts(mega.mint, page=321, limit=1000)),
        "mega signatures": _digest(launch_market.get_signatures(mega.mint, limit=500)),
        "owners": _digest(launch_market.get_multiple_accounts([bundled.pool, bundled.mint, bundled.creator])),
    }
    heavy_market = SimulatedMarket(seed=SIZED_SEED)
    heavy = heavy_market.heavy_bots()[1]
    deep = heavy_market.get_signatures(heavy, before=heavy_market.signature_at(heavy, 100_000), limit=1000)
    digests["heavy bot"] = {
        "newest": _digest(heavy_market.get_signatures(heavy, limit=1000)),
        "deep": _digest(deep),
        "transactions": _digest(heavy_market.get_transactions([entry["signature"] for entry in deep[:100]])),
        "sol_balance": _digest(heavy_market.get_sol_balance(heavy)),
        "token_accounts": _digest(heavy_market.get_token_accounts(heavy)),
    }
    sized = SimulatedMarket(seed=SIZED_SEED, history_size=40)
    digests["history_size 40"] = _wallet_outputs(sized, sized.families()[0].members[1])
    plain = SimulatedMarket(seed=SIZED_SEED).sample_wallets(1, archetype="holder")[0]
    long = SimulatedMarket(seed=SIZED_SEED, history_sizes={plain: SIZED_HISTORY})
    digests[f"history_sizes {SIZED_HISTORY}"] = _wallet_outputs(long, plain)
    return digests


GOLDEN: dict[str, dict[str, str]] = {
    "heavy bot": {
        "deep": "a2468b4255f5e8ef",
        "newest": "b090ddd5d998f7ba",
        "sol_balance": "11a1162b984fef62",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "d95c28f03269e566",
    },
    "history_size 40": {
        "bounded_pages": "473d7f987eb3eb2a",
        "intended_trades": "3c4cc4cbcc7ce5e8",
        "profile": "696ef67915542560",
        "signatures": "bd8909ffb3c5ae7d",
        "sol_balance": "2c82fe51eebd95ad",
        "token_accounts": "37a447113adc3361",
        "transactions": "2fdf58ef0081542a",
    },
    "history_sizes 700": {
        "bounded_pages": "966ce23d7ca2340b",
        "intended_trades": "fbd527cfde3e1303",
        "profile": "c8f0f55c6b1c43e8",
        "signatures": "ea8a4c969bfee3f0",
        "sol_balance": "a4e5cc3ccbc5d173",
        "token_accounts": "0ba6a73d25ad17c5",
        "transactions": "9ff6dc6820d79f32",
    },
    "launches": {
        "catalogue": "50461c8b7593e2ab",
        "creation": "42e561468cc0b7e0",
        "holders": "27fa079113675922",
        "mega holders": "f73f7617a2c05f4f",
        "mega signatures": "ae44f7db0d0972ed",
        "mint signatures": "81b0dfd656d606f6",
        "owners": "982d1d46a843d981",
        "supply": "a9710f41f74898e9",
    },
    "seed 0": {
        "dex_pairs": "620c950ceb1b4b18",
        "families": "06a0e00a895c3504",
        "family_mints": "9cec504028c392ea",
        "funders": "5a8522ff7327dcad",
        "prices": "01506b3070c3a6b6",
        "sample_wallets": "0dee50362f10388f",
        "sniper_bots": "b610b4185021a037",
        "sol_usd": "66878467e390f206",
        "sol_usd_candles": "4789e7a231e2736f",
        "tokens": "c3927cadd8769d9f",
    },
    "seed 0 bot": {
        "bounded_pages": "87600270360181df",
        "intended_trades": "e4d56c16cb337a18",
        "profile": "83596d8e791fac8f",
        "signatures": "7c9b950a8ae39870",
        "sol_balance": "cdb320150a741a0f",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "79e8c4f8a0f8ad0d",
    },
    "seed 0 bundle-1/0": {
        "bounded_pages": "ee05a217f20c01ae",
        "intended_trades": "8daf1ad326b854d9",
        "profile": "507e49e365bdff7c",
        "signatures": "7331cf6f0292745b",
        "sol_balance": "acc10418338068a9",
        "token_accounts": "2d4deb8d033c7432",
        "transactions": "ded348377e23087a",
    },
    "seed 0 bundle-1/1": {
        "bounded_pages": "2bb390f59e946d97",
        "intended_trades": "8b2381f4478a9e4e",
        "profile": "5ed45d4f4f3a5ab6",
        "signatures": "1c5477d3f797ab5f",
        "sol_balance": "1a6883fa8398a15e",
        "token_accounts": "92cb6e5b7bede2cc",
        "transactions": "924085977d9bce7e",
    },
    "seed 0 bundle-1/funder": {
        "bounded_pages": "14f31d033230a90f",
        "intended_trades": "4f53cda18c2baa0c",
        "profile": "ceb13897efde83f7",
        "signatures": "d1ea9fddd4fcbe40",
        "sol_balance": "083a08a5ca2ead32",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "6221a6011844183a",
    },
    "seed 0 bundle-2/0": {
        "bounded_pages": "2e45c03b7b6893f3",
        "intended_trades": "77a6f65abe70d8af",
        "profile": "589698fff6f00f4c",
        "signatures": "fd448561526584a1",
        "sol_balance": "f16dcfe79f4c103b",
        "token_accounts": "db2c4c15fce9c8cb",
        "transactions": "6da2452b62903ff9",
    },
    "seed 0 bundle-2/1": {
        "bounded_pages": "c1c225bf3b82d389",
        "intended_trades": "10857c8f678ce503",
        "profile": "fcd41b25b6648379",
        "signatures": "d31396287faebcb6",
        "sol_balance": "d58a4b0cbd1a65a4",
        "token_accounts": "3689b9068cc96f97",
        "transactions": "9da048f558c4327f",
    },
    "seed 0 bundle-2/funder": {
        "bounded_pages": "ef275d8b63921bd2",
        "intended_trades": "4f53cda18c2baa0c",
        "profile": "4384e66701347702",
        "signatures": "4626609c1bb3df82",
        "sol_balance": "d824f27502aa6685",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "211a486edbe2ab69",
    },
    "seed 0 bundle-3/0": {
        "bounded_pages": "cdafb9a5b70ff8b8",
        "intended_trades": "b539bb00fd503bfe",
        "profile": "897eb1d06fe19369",
        "signatures": "56b3c5ce333f0f9f",
        "sol_balance": "15a7a2b9d825d1c7",
        "token_accounts": "3af6e44be5a6dd1e",
        "transactions": "029562c185347714",
    },
    "seed 0 bundle-3/1": {
        "bounded_pages": "62de59deb0f61989",
        "intended_trades": "678834098c1d934d",
        "profile": "c05ecc089d5aa4bb",
        "signatures": "759eab09d74d157f",
        "sol_balance": "1772226b8746bd93",
        "token_accounts": "c722f4e074e4836b",
        "transactions": "8b166898b30b8c42",
    },
    "seed 0 bundle-3/funder": {
        "bounded_pages": "2eef512df4e64551",
        "intended_trades": "4f53cda18c2baa0c",
        "profile": "241254837a17a0bd",
        "signatures": "75bc43a60a722bab",
        "sol_balance": "2f6f559daf04d4ca",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "02334884961032d9",
    },
    "seed 0 copy-1/0": {
        "bounded_pages": "0fccb40b0174f414",
        "intended_trades": "f438156fbeab6881",
        "profile": "53f3cb41373f44ea",
        "signatures": "36467cb579500c24",
        "sol_balance": "1591bcb596936348",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "10503ebc51f82615",
    },
    "seed 0 copy-1/1": {
        "bounded_pages": "0abdd3c65c4412be",
        "intended_trades": "b25d722dea622461",
        "profile": "1b65791903935319",
        "signatures": "e38844fbb95da8fe",
        "sol_balance": "d7b16f60322322aa",
        "token_accounts": "39d3b6e1db0b9d74",
        "transactions": "836e31cd3eb2fc79",
    },
    "seed 0 copy-2/0": {
        "bounded_pages": "46d0060b25b53fe5",
        "intended_trades": "bbc6477294ab9e2c",
        "profile": "68d4031278af0a2d",
        "signatures": "992efba3edb04042",
        "sol_balance": "a134f8c1cfaa1477",
        "token_accounts": "db33836e1deb5b01",
        "transactions": "8642d3432af40c85",
    },
    "seed 0 copy-2/1": {
        "bounded_pages": "a653894d1df2032f",
        "intended_trades": "f63cd9ac2122cccf",
        "profile": "148f15b6900c8550",
        "signatures": "8e3447b126aae934",
        "sol_balance": "b3ddf6812b5d3fb3",
        "token_accounts": "df69ccbe24c208aa",
        "transactions": "f7b965b7c329f33b",
    },
    "seed 0 copy-3/0": {
        "bounded_pages": "ba09a11dbde54006",
        "intended_trades": "c311b684e94c6a1d",
        "profile": "35d18f1ba4e8e3a1",
        "signatures": "23541c72e9c3cc0b",
        "sol_balance": "cbfbf86018aa91ec",
        "token_accounts": "fc6d5a6e41252610",
        "transactions": "c05cbdb3a293fa4b",
    },
    "seed 0 copy-3/1": {
        "bounded_pages": "6b681763317dcc12",
        "intended_trades": "7d7aaf4251b279a0",
        "profile": "77807706e2cff120",
        "signatures": "305888844c0ccda3",
        "sol_balance": "442bc8dfea4c91a0",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "0d518f92bc61524f",
    },
    "seed 0 flipper": {
        "bounded_pages": "0838011834218e81",
        "intended_trades": "15466ea37334efe6",
        "profile": "942f85f4d2867173",
        "signatures": "bb8e2b6c0d6715e4",
        "sol_balance": "56328ae3aae2b767",
        "token_accounts": "670444c87d2e9e61",
        "transactions": "19daf99c16cad145",
    },
    "seed 0 funded-1/0": {
        "bounded_pages": "06aa50f127692be7",
        "intended_trades": "196b84732e2545ca",
        "profile": "53aae04ba8a90b3b",
        "signatures": "50ecad26b8856b68",
        "sol_balance": "f55dc783cd4a1f3d",
        "token_accounts": "158359d044b41618",
        "transactions": "608e77975560397a",
    },
    "seed 0 funded-1/1": {
        "bounded_pages": "5b403cb7986fc81b",
        "intended_trades": "eb8bcf21bb8a6fa9",
        "profile": "7758b31d5abdfe33",
        "signatures": "26ec7a203536399f",
        "sol_balance": "8c97256dddce3c6b",
        "token_accounts": "8c5358782f3e9cef",
        "transactions": "704102a4dc903fb4",
    },
    "seed 0 funded-1/funder": {
        "bounded_pages": "c26a81cb9338f333",
        "intended_trades": "4f53cda18c2baa0c",
        "profile": "43a30a30aa6f1158",
        "signatures": "18c1e29b052a80ea",
        "sol_balance": "a3455aea1fedff58",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "56a4e9424cd87ef9",
    },
    "seed 0 funded-2/0": {
        "bounded_pages": "04525b5158b8b7ce",
        "intended_trades": "59aed3839dee0486",
        "profile": "278299ded1ccb531",
        "signatures": "bee0b3a81e70bcf3",
        "sol_balance": "4285a021d1803d90",
        "token_accounts": "e67b6f66b6c94e14",
        "transactions": "2f4a348ffbc0ee35",
    },
    "seed 0 funded-2/1": {
        "bounded_pages": "f4ef0a1ad13804a8",
        "intended_trades": "a34ae7543a02a2e3",
        "profile": "0d1113578b174477",
        "signatures": "b6dd72bb29bada0c",
        "sol_balance": "f3113c6bd5a15a58",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "57da983e3eb7fabb",
    },
    "seed 0 funded-2/funder": {
        "bounded_pages": "44c463ad4623d42c",
        "intended_trades": "4f53cda18c2baa0c",
        "profile": "0cec20063f4058a6",
        "signatures": "5aca72b78c581ff2",
        "sol_balance": "4c776d7059a5646c",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "f5f7a0caa2530506",
    },
    "seed 0 funded-3/0": {
        "bounded_pages": "8b47794d99d346e8",
        "intended_trades": "8b47d6efbb53adfe",
        "profile": "da8c436de111afe0",
        "signatures": "1c3033a89c30ccef",
        "sol_balance": "3f01877d0a4831b4",
        "token_accounts": "d201d12b8342d8e4",
        "transactions": "b0ad793bef2b4935",
    },
    "seed 0 funded-3/1": {
        "bounded_pages": "bf5045ba3167764b",
        "intended_trades": "e493e26380a05cd1",
        "profile": "65107eeeab064ff7",
        "signatures": "9b75aae05306c3e0",
        "sol_balance": "b9faea42b93073d6",
        "token_accounts": "1b1f1c56e5ff1919",
        "transactions": "cb43b88c3c1c579e",
    },
    "seed 0 funded-3/funder": {
        "bounded_pages": "6f5d33613b36f5ef",
        "intended_trades": "4f53cda18c2baa0c",
        "profile": "fb5ac52dc85c6be2",
        "signatures": "2ce8043a99b779a5",
        "sol_balance": "a9e3dee81422d1b3",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "4ff0bd49368255d6",
    },
    "seed 0 holder": {
        "bounded_pages": "cc29288aef0661f3",
        "intended_trades": "80b299be3710ed2f",
        "profile": "2cbdf962815e18eb",
        "signatures": "e659f3a7408f17ac",
        "sol_balance": "f81ee31ae6adbbad",
        "token_accounts": "1338ff40bd4e55b1",
        "transactions": "15a30bf587cfad35",
    },
    "seed 0 sniper": {
        "bounded_pages": "dc52bda2d8dbcf90",
        "intended_trades": "efab75ad27dbdd53",
        "profile": "978fc9bd7ce53f6e",
        "signatures": "0c73eff601b550f1",
        "sol_balance": "982c7ccfc9fa5bbd",
        "token_accounts": "adb3142cff2e10dc",
        "transactions": "cd5f8a740eb72ef8",
    },
    "seed 0 sniper_bot": {
        "bounded_pages": "928a9d645b41cfb0",
        "intended_trades": "2a4cc716a6bad2cf",
        "profile": "771d1acf481d9cab",
        "signatures": "4e46d653a16e4fdc",
        "sol_balance": "c050898187b4ae29",
        "token_accounts": "bfa851ba5363642c",
        "transactions": "501d7170a68990b7",
    },
    "seed 3": {
        "dex_pairs": "ba4ded9fe064ee29",
        "families": "b3a15e81d1d7bbc3",
        "family_mints": "f4cbaa567605226f",
        "funders": "911eabbfa366e8c5",
        "prices": "a4f0361b933efead",
        "sample_wallets": "d8ff3c37d070b9ba",
        "sniper_bots": "cd5b1ec299334596",
        "sol_usd": "66878467e390f206",
        "sol_usd_candles": "e0cfeab5154153a1",
        "tokens": "e75a010af82856c6",
    },
    "seed 3 bot": {
        "bounded_pages": "3a328146adee3036",
        "intended_trades": "6597a965bdeb3650",
        "profile": "bb440d2962b5f250",
        "signatures": "687bebbdd32ab0cc",
        "sol_balance": "16b6eff39b3d6f77",
        "token_accounts": "6a00f50030dad2e5",
        "transactions": "c5bc9ae40a08b4d8",
    },
    "seed 3 bundle-1/0": {
        "bounded_pages": "1c5b775dee82157f",
        "intended_trades": "962be7e4ac5d8130",
        "profile": "f484e174e050f598",
        "signatures": "ac4e12ba2465548e",
        "sol_balance": "9a19d08f44f1f4f4",
        "token_accounts": "f3d1f94e7603d19e",
        "transactions": "6423d8537f961e15",
    },
    "seed 3 bundle-1/1": {
        "bounded_pages": "83243340e4ae8770",
        "intended_trades": "a89334004e8a40e9",
        "profile": "a051a16a3587142a",
        "signatures": "7ad226af81b93c6f",
        "sol_balance": "8eafd2601c247213",
        "token_accounts": "0fdfe44dbd2f2bf1",
        "transactions": "ba388b77025bdc2f",
    },
    "seed 3 bundle-1/funder": {
        "bounded_pages": "f59ce91b1c8fe737",
        "intended_trades": "4f53cda18c2baa0c",
        "profile": "211458c3a39c0b7f",
        "signatures": "88e6f59fcf3137e6",
        "sol_balance": "d1ef64aa7f405b90",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "0f9982ffdfbbd717",
    },
    "seed 3 bundle-2/0": {
        "bounded_pages": "b390d593de2551d6",
        "intended_trades": "4d49ff24a1ce60b5",
        "profile": "cc37fb0c6904bfa6",
        "signatures": "8a103a8e123dff3f",
        "sol_balance": "44b15891c4ef7ba8",
        "token_accounts": "c5a68968696cda42",
        "transactions": "466004ad4f03fb9f",
    },
    "seed 3 bundle-2/1": {
        "bounded_pages": "4cba9c6f99b366f4",
        "intended_trades": "50e6b02a71e06022",
        "profile": "e8955469c01a2611",
        "signatures": "6fdbac919b4dc889",
        "sol_balance": "5107069fb7a8c88a",
        "token_accounts": "f3e180964a474544",
        "transactions": "877232dafbc819a2",
    },
    "seed 3 bundle-2/funder": {
        "bounded_pages": "9c0e0f309dba57ef",
        "intended_trades": "4f53cda18c2baa0c",
        "profile": "4ba9a88e95727400",
        "signatures": "36a4e02ddb29eec1",
        "sol_balance": "0f16ced85a289d75",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "77acd3e8cb692eb0",
    },
    "seed 3 bundle-3/0": {
        "bounded_pages": "d4e8fdd677a71620",
        "intended_trades": "b09dce6efb0f0e42",
        "profile": "61f80d135c0eb71d",
        "signatures": "7409b4e327fd6a5c",
        "sol_balance": "ab70aae9bd316995",
        "token_accounts": "3cbcf743351b4ffd",
        "transactions": "8dc99cfed30923f5",
    },
    "seed 3 bundle-3/1": {
        "bounded_pages": "44e570ae361a9e45",
        "intended_trades": "a81841b67068564a",
        "profile": "991da38474eea3d2",
        "signatures": "68b9aa6677cc4c11",
        "sol_balance": "eedc3afb97b71b0b",
        "token_accounts": "c725dba50f7b1b81",
        "transactions": "1b72a12f97e51912",
    },
    "seed 3 bundle-3/funder": {
        "bounded_pages": "6817c5e02ac93a64",
        "intended_trades": "4f53cda18c2baa0c",
        "profile": "eb088dc76f90f17f",
        "signatures": "866eedf9611d40a3",
        "sol_balance": "eb851735e42741f5",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "fc19363ba13f9526",
    },
    "seed 3 copy-1/0": {
        "bounded_pages": "19ce48363d89f88b",
        "intended_trades": "aa9f872e65f90729",
        "profile": "5598fcf3c3a1dd68",
        "signatures": "4b278028eb28e584",
        "sol_balance": "dbf39e7c8fe8a1ac",
        "token_accounts": "ad010e5de5cde61c",
        "transactions": "fd37c68683df9cf6",
    },
    "seed 3 copy-1/1": {
        "bounded_pages": "b7363e5db3b222c2",
        "intended_trades": "38fc14d0af5ff7cc",
        "profile": "ddd1e7265ba70718",
        "signatures": "a7073eefb6e3586f",
        "sol_balance": "832e38ef918c9719",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "8ca0ffcbeb8d8c2f",
    },
    "seed 3 copy-2/0": {
        "bounded_pages": "de4b835105b8a51e",
        "intended_trades": "a44394d106085533",
        "profile": "04a5eaa8f22557ac",
        "signatures": "9b6d6b45a77b815c",
        "sol_balance": "4d3ad41721a2ba5d",
        "token_accounts": "1b340edd272d9238",
        "transactions": "13f3a562ae330725",
    },
    "seed 3 copy-2/1": {
        "bounded_pages": "a9f670718f8e1aa6",
        "intended_trades": "e4b6cea1b26c8c36",
        "profile": "f30098576781ac38",
        "signatures": "d1f24e334e50318d",
        "sol_balance": "71d8eee88889ee43",
        "token_accounts": "36398159a0c09457",
        "transactions": "b49dbb0ef7e4ca58",
    },
    "seed 3 copy-3/0": {
        "bounded_pages": "3ab48ffd23fd19ec",
        "intended_trades": "d2ca79528d33957c",
        "profile": "66aea66cbbc22a27",
        "signatures": "58d157c7ad885041",
        "sol_balance": "7d940e1a3d2f6396",
        "token_accounts": "360cf09b47eebbc4",
        "transactions": "885b5a4560ccd876",
    },
    "seed 3 copy-3/1": {
        "bounded_pages": "9c87ba332023d9b1",
        "intended_trades": "c10c9ee54af75c7c",
        "profile": "70118cac367456e3",
        "signatures": "f5a51b33fb6c58c5",
        "sol_balance": "c255921fd9a2ab5d",
        "token_accounts": "5ab1dcb7551c3b5a",
        "transactions": "a373e9a2fa3d7af5",
    },
    "seed 3 flipper": {
        "bounded_pages": "d038a9acf2fc723a",
        "intended_trades": "6cfee87bd5220202",
        "profile": "39123b4b7934cda5",
        "signatures": "5f53c88aac83c63c",
        "sol_balance": "698a9434f126dae0",
        "token_accounts": "21d0acee77b2224c",
        "transactions": "dcbc2f97102705c4",
    },
    "seed 3 funded-1/0": {
        "bounded_pages": "eef6aae7844792f9",
        "intended_trades": "37912abc7aee4370",
        "profile": "0c8cda96d2c6431e",
        "signatures": "a636120f02faf53f",
        "sol_balance": "bad1deb028d5ea26",
        "token_accounts": "914b1eb338afc43c",
        "transactions": "061c026cdabc9474",
    },
    "seed 3 funded-1/1": {
        "bounded_pages": "2f60d3ed74ba6eb0",
        "intended_trades": "7acc0c02c73ba775",
        "profile": "f614e2ac83227263",
        "signatures": "d70a66217f94c1a6",
        "sol_balance": "ee9875b46476ef21",
        "token_accounts": "aa3e9454e15ebb90",
        "transactions": "7dc527a7c4b678c1",
    },
    "seed 3 funded-1/funder": {
        "bounded_pages": "d1694ff089e2fd12",
        "intended_trades": "4f53cda18c2baa0c",
        "profile": "cdb2c811fd8b63c9",
        "signatures": "a7fc7cdb56dc1569",
        "sol_balance": "c485a688720a76cd",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "7ce262c76890dce3",
    },
    "seed 3 funded-2/0": {
        "bounded_pages": "06ee50ff3f826323",
        "intended_trades": "a35a7450bf1fc6fd",
        "profile": "50472de0e6004d09",
        "signatures": "6bdea489770a9e32",
        "sol_balance": "e66777808f0ff208",
        "token_accounts": "ecb91cef0897b9e6",
        "transactions": "d1afdaee70add711",
    },
    "seed 3 funded-2/1": {
        "bounded_pages": "4798c736cd30177d",
        "intended_trades": "0acb7cd9f4a57072",
        "profile": "c6e9d115b7929a9f",
        "signatures": "fa447f1ee41823ae",
        "sol_balance": "0eafe495c3e9d258",
        "token_accounts": "475a6f18009dedf4",
        "transactions": "d44f65a8a9f38de5",
    },
    "seed 3 funded-2/funder": {
        "bounded_pages": "6fcf2f000286f353",
        "intended_trades": "4f53cda18c2baa0c",
        "profile": "15a8ea815f50d4e9",
        "signatures": "c201da2dd48e82b8",
        "sol_balance": "419da4711c40fbdf",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "4bc79242db82ea1b",
    },
    "seed 3 funded-3/0": {
        "bounded_pages": "8fd7b8710c464217",
        "intended_trades": "c9e78e99c44a9ef5",
        "profile": "e200ac8c86aeaac6",
        "signatures": "93cce442d4f15279",
        "sol_balance": "24794e90fc44d464",
        "token_accounts": "ee059b4bd2abd0a6",
        "transactions": "ea6df3391d87d86a",
    },
    "seed 3 funded-3/1": {
        "bounded_pages": "ecf22417af918883",
        "intended_trades": "1caab7392b2e4533",
        "profile": "de4867685948d33a",
        "signatures": "271e715534ab052d",
        "sol_balance": "bea7129ab349e85a",
        "token_accounts": "824dd94e1f638a26",
        "transactions": "a8a621454ecbacba",
    },
    "seed 3 funded-3/funder": {
        "bounded_pages": "3b2d0de847fa4bae",
        "intended_trades": "4f53cda18c2baa0c",
        "profile": "3706a6baa35f0ad1",
        "signatures": "a194dbd755e69226",
        "sol_balance": "f5b2a2a6f75b9f82",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "f4b287eb80aa2a27",
    },
    "seed 3 holder": {
        "bounded_pages": "11e37796a933881e",
        "intended_trades": "d94de1fcdf5ae358",
        "profile": "e667bbfe6001319d",
        "signatures": "4fca07e032917dda",
        "sol_balance": "f761446b8567758d",
        "token_accounts": "6d3c57ed2faca528",
        "transactions": "fb402bd8744caeb3",
    },
    "seed 3 sniper": {
        "bounded_pages": "9b189d3fb3034593",
        "intended_trades": "040bd4325bf4eda5",
        "profile": "fc7f051dd0bc93d5",
        "signatures": "c405d64ca71f4f82",
        "sol_balance": "b340a51ae9cafd50",
        "token_accounts": "01ef1d032706e09c",
        "transactions": "b7a2f090e91c75b7",
    },
    "seed 3 sniper_bot": {
        "bounded_pages": "6767cffdad36ef53",
        "intended_trades": "e1c4b357499105be",
        "profile": "70875894b0ab8248",
        "signatures": "325f33bd12c48e02",
        "sol_balance": "3cca9bcf8ebb0325",
        "token_accounts": "20d72bd5029c5213",
        "transactions": "b5457069f2a85531",
    },
}


@pytest.fixture(scope="module")
def digests() -> dict[str, dict[str, str]]:
    return current_digests()


def test_every_output_matches_its_golden_digest(digests: dict[str, dict[str, str]]) -> None:
    assert set(digests) == set(GOLDEN)
    changed = {
        f"{case}: {name}"
        for case, outputs in digests.items()
        for name, value in outputs.items()
        if GOLDEN[case].get(name) != value
    }
    assert not changed, sorted(changed)


if __name__ == "__main__":
    print(json.dumps(current_digests(), indent=4, sort_keys=True))

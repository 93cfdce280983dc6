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
    sized = SimulatedMarket(seed=SIZED_SEED, history_size=40)
    digests["history_size 40"] = _wallet_outputs(sized, sized.families()[0].members[1])
    plain = SimulatedMarket(seed=SIZED_SEED).sample_wallets(1, archetype="holder")[0]
    long = SimulatedMarket(seed=SIZED_SEED, history_sizes={plain: SIZED_HISTORY})
    digests[f"history_sizes {SIZED_HISTORY}"] = _wallet_outputs(long, plain)
    return digests


GOLDEN: dict[str, dict[str, str]] = {
    "history_size 40": {
        "bounded_pages": "d078cf740eb91b05",
        "intended_trades": "802344e7fe4416c0",
        "profile": "696ef67915542560",
        "signatures": "fd684419052ba651",
        "sol_balance": "1ddd0ae2b28cb380",
        "token_accounts": "2dee3e25dbe56b2e",
        "transactions": "ada9ede32a03655c",
    },
    "history_sizes 700": {
        "bounded_pages": "966ce23d7ca2340b",
        "intended_trades": "fbd527cfde3e1303",
        "profile": "c8f0f55c6b1c43e8",
        "signatures": "ea8a4c969bfee3f0",
        "sol_balance": "a4e5cc3ccbc5d173",
        "token_accounts": "0ba6a73d25ad17c5",
        "transactions": "6f5e461290d084dd",
    },
    "seed 0": {
        "dex_pairs": "8bbb7f86e84f84a0",
        "families": "2cba7d53f699a2d2",
        "family_mints": "89ae488d274175e2",
        "prices": "01506b3070c3a6b6",
        "sample_wallets": "0dee50362f10388f",
        "sol_usd": "66878467e390f206",
        "sol_usd_candles": "4789e7a231e2736f",
        "tokens": "1b9c25df12fd746c",
    },
    "seed 0 bot": {
        "bounded_pages": "87600270360181df",
        "intended_trades": "e4d56c16cb337a18",
        "profile": "83596d8e791fac8f",
        "signatures": "7c9b950a8ae39870",
        "sol_balance": "cdb320150a741a0f",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "7ae4b6ffda7ec4d1",
    },
    "seed 0 bundle-1/0": {
        "bounded_pages": "028cfb760a224a36",
        "intended_trades": "8daf1ad326b854d9",
        "profile": "507e49e365bdff7c",
        "signatures": "6eef416b22869e51",
        "sol_balance": "acc10418338068a9",
        "token_accounts": "2d4deb8d033c7432",
        "transactions": "92115f5e5a20a57f",
    },
    "seed 0 bundle-1/1": {
        "bounded_pages": "d3d3e699ddf2c0b9",
        "intended_trades": "dac36b9d1725a2d6",
        "profile": "5ed45d4f4f3a5ab6",
        "signatures": "2575c40bc7df5e6e",
        "sol_balance": "1a6883fa8398a15e",
        "token_accounts": "92cb6e5b7bede2cc",
        "transactions": "581e8da938585419",
    },
    "seed 0 bundle-2/0": {
        "bounded_pages": "6013ca08d12b7029",
        "intended_trades": "a9a7afba2f87d090",
        "profile": "589698fff6f00f4c",
        "signatures": "2e405c4f7e0b719f",
        "sol_balance": "f16dcfe79f4c103b",
        "token_accounts": "db2c4c15fce9c8cb",
        "transactions": "8a43c7d9f4c95d27",
    },
    "seed 0 bundle-2/1": {
        "bounded_pages": "283184907cc2d792",
        "intended_trades": "0e0b458a353ac8bb",
        "profile": "fcd41b25b6648379",
        "signatures": "07e69370ef3fd211",
        "sol_balance": "d58a4b0cbd1a65a4",
        "token_accounts": "3689b9068cc96f97",
        "transactions": "534079b7241b3c63",
    },
    "seed 0 bundle-3/0": {
        "bounded_pages": "5edbfc3deb0ff7bd",
        "intended_trades": "ef4877dfa7a079f8",
        "profile": "897eb1d06fe19369",
        "signatures": "605cc800ec24d921",
        "sol_balance": "15a7a2b9d825d1c7",
        "token_accounts": "3af6e44be5a6dd1e",
        "transactions": "e4799ede08f04b9a",
    },
    "seed 0 bundle-3/1": {
        "bounded_pages": "a988ed6775ae307f",
        "intended_trades": "678834098c1d934d",
        "profile": "c05ecc089d5aa4bb",
        "signatures": "3f3aaa174ade3b18",
        "sol_balance": "1772226b8746bd93",
        "token_accounts": "c722f4e074e4836b",
        "transactions": "a27e111b7b5a3c83",
    },
    "seed 0 copy-1/0": {
        "bounded_pages": "945fc5caab9a153e",
        "intended_trades": "c0cc3a33f13753d3",
        "profile": "53f3cb41373f44ea",
        "signatures": "e415b34f7dd75002",
        "sol_balance": "6ffdce656f14118a",
        "token_accounts": "78319376c38ce25c",
        "transactions": "7c8a9a10a66fa25f",
    },
    "seed 0 copy-1/1": {
        "bounded_pages": "7cf11bced262f3f8",
        "intended_trades": "d4c55be20d933740",
        "profile": "1b65791903935319",
        "signatures": "0bbaea18762fa3a0",
        "sol_balance": "0c82fe07ddba6e7b",
        "token_accounts": "77836f3306953c25",
        "transactions": "efcd2d403dd99515",
    },
    "seed 0 copy-2/0": {
        "bounded_pages": "ae625a63f7a9e68f",
        "intended_trades": "279f212d3d679696",
        "profile": "68d4031278af0a2d",
        "signatures": "543cdb09148f5c39",
        "sol_balance": "4749a603c7621ec1",
        "token_accounts": "3be46633b399bc41",
        "transactions": "e3f370fe87994b78",
    },
    "seed 0 copy-2/1": {
        "bounded_pages": "ce2930d6803f8dc3",
        "intended_trades": "111c26c7b23b347b",
        "profile": "148f15b6900c8550",
        "signatures": "38332837c553f494",
        "sol_balance": "584808b2bce601af",
        "token_accounts": "3522bc9e971892bd",
        "transactions": "d453fe390797ead0",
    },
    "seed 0 copy-3/0": {
        "bounded_pages": "14d3476c2445fda4",
        "intended_trades": "b2893b99d510c200",
        "profile": "35d18f1ba4e8e3a1",
        "signatures": "a1832b0c2b32ad35",
        "sol_balance": "7b9343bbbf84d9f4",
        "token_accounts": "6b37be5712cf1826",
        "transactions": "82e4f43d4acf5abf",
    },
    "seed 0 copy-3/1": {
        "bounded_pages": "391947e5da0f77d5",
        "intended_trades": "6e67ed2e4647355b",
        "profile": "77807706e2cff120",
        "signatures": "7581c943d898dc70",
        "sol_balance": "e4cf050f1f565089",
        "token_accounts": "034f334ccc9cc725",
        "transactions": "1b322a3a65f685fa",
    },
    "seed 0 flipper": {
        "bounded_pages": "0838011834218e81",
        "intended_trades": "15466ea37334efe6",
        "profile": "942f85f4d2867173",
        "signatures": "bb8e2b6c0d6715e4",
        "sol_balance": "56328ae3aae2b767",
        "token_accounts": "670444c87d2e9e61",
        "transactions": "e895461f36e18a73",
    },
    "seed 0 holder": {
        "bounded_pages": "cc29288aef0661f3",
        "intended_trades": "80b299be3710ed2f",
        "profile": "2cbdf962815e18eb",
        "signatures": "e659f3a7408f17ac",
        "sol_balance": "f81ee31ae6adbbad",
        "token_accounts": "1338ff40bd4e55b1",
        "transactions": "2b672328bc043cdf",
    },
    "seed 0 sniper": {
        "bounded_pages": "7bef7bb5283b4403",
        "intended_trades": "97db7a7ec911b935",
        "profile": "978fc9bd7ce53f6e",
        "signatures": "31d9bf520b523ac5",
        "sol_balance": "e11117348e6c1040",
        "token_accounts": "adb3142cff2e10dc",
        "transactions": "6b632a4e1f995183",
    },
    "seed 3": {
        "dex_pairs": "1f5921cfaee4fd83",
        "families": "b8db8dd4230d3c3b",
        "family_mints": "f29dc87f7f4b5845",
        "prices": "a4f0361b933efead",
        "sample_wallets": "d8ff3c37d070b9ba",
        "sol_usd": "66878467e390f206",
        "sol_usd_candles": "e0cfeab5154153a1",
        "tokens": "aa520d8e4a9661c3",
    },
    "seed 3 bot": {
        "bounded_pages": "3a328146adee3036",
        "intended_trades": "6597a965bdeb3650",
        "profile": "bb440d2962b5f250",
        "signatures": "687bebbdd32ab0cc",
        "sol_balance": "16b6eff39b3d6f77",
        "token_accounts": "6a00f50030dad2e5",
        "transactions": "c8792bbce14f8764",
    },
    "seed 3 bundle-1/0": {
        "bounded_pages": "613518ddebe56fce",
        "intended_trades": "962be7e4ac5d8130",
        "profile": "f484e174e050f598",
        "signatures": "4050e15d2c68f60b",
        "sol_balance": "9a19d08f44f1f4f4",
        "token_accounts": "f3d1f94e7603d19e",
        "transactions": "7a87f4135a09ce73",
    },
    "seed 3 bundle-1/1": {
        "bounded_pages": "7750906677704083",
        "intended_trades": "1cbf2681fc3d5e87",
        "profile": "a051a16a3587142a",
        "signatures": "fdcc5630288bb8aa",
        "sol_balance": "8eafd2601c247213",
        "token_accounts": "0fdfe44dbd2f2bf1",
        "transactions": "d8163cfcb7ddce6c",
    },
    "seed 3 bundle-2/0": {
        "bounded_pages": "050f68ff9c324f55",
        "intended_trades": "d7f8152ec91712fb",
        "profile": "cc37fb0c6904bfa6",
        "signatures": "e201478ad353c847",
        "sol_balance": "44b15891c4ef7ba8",
        "token_accounts": "c5a68968696cda42",
        "transactions": "9820f74e52d186c6",
    },
    "seed 3 bundle-2/1": {
        "bounded_pages": "94aa623a829fdcf9",
        "intended_trades": "4f08e846b0198595",
        "profile": "e8955469c01a2611",
        "signatures": "94cdf73fea5bb2c9",
        "sol_balance": "5107069fb7a8c88a",
        "token_accounts": "f3e180964a474544",
        "transactions": "72e6f7c110a42f40",
    },
    "seed 3 bundle-3/0": {
        "bounded_pages": "25dd40a31ab25117",
        "intended_trades": "b09dce6efb0f0e42",
        "profile": "61f80d135c0eb71d",
        "signatures": "076564ae8314dad3",
        "sol_balance": "ab70aae9bd316995",
        "token_accounts": "3cbcf743351b4ffd",
        "transactions": "abce30818d9554b4",
    },
    "seed 3 bundle-3/1": {
        "bounded_pages": "44e570ae361a9e45",
        "intended_trades": "ce9ee00f0f63679a",
        "profile": "991da38474eea3d2",
        "signatures": "e68a057be52138a6",
        "sol_balance": "eedc3afb97b71b0b",
        "token_accounts": "c725dba50f7b1b81",
        "transactions": "9caa6e1bbd7d5c0b",
    },
    "seed 3 copy-1/0": {
        "bounded_pages": "1f0dca7b3069306c",
        "intended_trades": "40621693df195a55",
        "profile": "5598fcf3c3a1dd68",
        "signatures": "22f09a8b0502b52e",
        "sol_balance": "78223b6d7d12e24d",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "16de19ae85708086",
    },
    "seed 3 copy-1/1": {
        "bounded_pages": "df058148e531b284",
        "intended_trades": "198240f46f11cd76",
        "profile": "ddd1e7265ba70718",
        "signatures": "348954170afe90d0",
        "sol_balance": "de1464866bca61c2",
        "token_accounts": "4d875046aa779f3a",
        "transactions": "f739c3bfeba8e00b",
    },
    "seed 3 copy-2/0": {
        "bounded_pages": "1711f8ba47055c64",
        "intended_trades": "7260db4a804dcfc7",
        "profile": "04a5eaa8f22557ac",
        "signatures": "44a4d7aff6af4c60",
        "sol_balance": "2af0551b4a2e3d6e",
        "token_accounts": "99dc13649e159eb6",
        "transactions": "c888595cd8317302",
    },
    "seed 3 copy-2/1": {
        "bounded_pages": "967abb5ecd450fe7",
        "intended_trades": "6cfcfd4cf0d29347",
        "profile": "f30098576781ac38",
        "signatures": "1bb583c5d1a1ce01",
        "sol_balance": "413ee5c93c3f1fb5",
        "token_accounts": "e39de3778c9493e9",
        "transactions": "3324782fca8c1a32",
    },
    "seed 3 copy-3/0": {
        "bounded_pages": "60c18a6dcace6b1e",
        "intended_trades": "de49760216b75d01",
        "profile": "66aea66cbbc22a27",
        "signatures": "95c319ac8ee2adad",
        "sol_balance": "9522142e2ed9adda",
        "token_accounts": "fda7f0d2a94df173",
        "transactions": "24db8f8ade871ab0",
    },
    "seed 3 copy-3/1": {
        "bounded_pages": "5dd9fdb06c89728e",
        "intended_trades": "e6e97a8d4e825f7f",
        "profile": "70118cac367456e3",
        "signatures": "b024e9cc211aa50f",
        "sol_balance": "02ace0c1741c88f2",
        "token_accounts": "10c523dc2ec01f4e",
        "transactions": "df6b2408c50747e6",
    },
    "seed 3 flipper": {
        "bounded_pages": "d038a9acf2fc723a",
        "intended_trades": "6cfee87bd5220202",
        "profile": "39123b4b7934cda5",
        "signatures": "5f53c88aac83c63c",
        "sol_balance": "698a9434f126dae0",
        "token_accounts": "21d0acee77b2224c",
        "transactions": "267e054b17a3e283",
    },
    "seed 3 holder": {
        "bounded_pages": "11e37796a933881e",
        "intended_trades": "d94de1fcdf5ae358",
        "profile": "e667bbfe6001319d",
        "signatures": "4fca07e032917dda",
        "sol_balance": "f761446b8567758d",
        "token_accounts": "6d3c57ed2faca528",
        "transactions": "a75bfe839998792b",
    },
    "seed 3 sniper": {
        "bounded_pages": "bf49924a452bdaa5",
        "intended_trades": "a2d5c765502d7f39",
        "profile": "fc7f051dd0bc93d5",
        "signatures": "0c5fe65a9d9dbc1b",
        "sol_balance": "b340a51ae9cafd50",
        "token_accounts": "01ef1d032706e09c",
        "transactions": "2b7f79ac8eb9e089",
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

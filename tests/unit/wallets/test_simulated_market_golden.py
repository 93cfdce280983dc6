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
        "bounded_pages": "c829a3fff17e267a",
        "intended_trades": "f9ece9372b5b2181",
        "profile": "696ef67915542560",
        "signatures": "8e5c928447c7adc9",
        "sol_balance": "738de14a31b12d89",
        "token_accounts": "7a7d06841700ac5a",
        "transactions": "4178073742eae572",
    },
    "history_sizes 700": {
        "bounded_pages": "8189bf040047ae94",
        "intended_trades": "19cb98e401c51961",
        "profile": "c8f0f55c6b1c43e8",
        "signatures": "273fa35dbce5c9ea",
        "sol_balance": "fb2edf0d5da106bc",
        "token_accounts": "59f8a5a7cfa16148",
        "transactions": "729c5c9e3f3e1fbd",
    },
    "seed 0": {
        "dex_pairs": "8bbb7f86e84f84a0",
        "families": "2cba7d53f699a2d2",
        "family_mints": "89ae488d274175e2",
        "prices": "01506b3070c3a6b6",
        "sample_wallets": "0dee50362f10388f",
        "sol_usd": "66878467e390f206",
        "tokens": "1b9c25df12fd746c",
    },
    "seed 0 bot": {
        "bounded_pages": "21d79e0c207f8bbd",
        "intended_trades": "a31f0f2f719fce0f",
        "profile": "83596d8e791fac8f",
        "signatures": "39cf886516974a80",
        "sol_balance": "de90b6d3a6c2e26c",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "c09d266ee9a901a0",
    },
    "seed 0 bundle-1/0": {
        "bounded_pages": "8ed9b74a3bfb3321",
        "intended_trades": "389624e435208e5b",
        "profile": "507e49e365bdff7c",
        "signatures": "73b96712b02cbf61",
        "sol_balance": "a630f9892bb346ca",
        "token_accounts": "2d4deb8d033c7432",
        "transactions": "eb23f6fa051727a6",
    },
    "seed 0 bundle-1/1": {
        "bounded_pages": "e18e0576e29d82b3",
        "intended_trades": "198de7af16e26be2",
        "profile": "5ed45d4f4f3a5ab6",
        "signatures": "4fa6ab4400e8e5fa",
        "sol_balance": "dfcf85d49c279c86",
        "token_accounts": "92cb6e5b7bede2cc",
        "transactions": "e0eafdb642e701aa",
    },
    "seed 0 bundle-2/0": {
        "bounded_pages": "1fd8dc1c173bbb35",
        "intended_trades": "d1331286692b7aed",
        "profile": "589698fff6f00f4c",
        "signatures": "7faea539965446ae",
        "sol_balance": "913b839f89096e45",
        "token_accounts": "db2c4c15fce9c8cb",
        "transactions": "e010cb63a325d7ac",
    },
    "seed 0 bundle-2/1": {
        "bounded_pages": "1b94c90c9397ca14",
        "intended_trades": "43d2e5ab9ffc1af8",
        "profile": "fcd41b25b6648379",
        "signatures": "b1422b544abac5b7",
        "sol_balance": "1ffd5365fce0acf1",
        "token_accounts": "3689b9068cc96f97",
        "transactions": "68b4f484ff6899aa",
    },
    "seed 0 bundle-3/0": {
        "bounded_pages": "c0f9b3e29423f37d",
        "intended_trades": "7b06d4737792be1c",
        "profile": "897eb1d06fe19369",
        "signatures": "8b57f0503cb08876",
        "sol_balance": "3284234ee763b69e",
        "token_accounts": "3af6e44be5a6dd1e",
        "transactions": "564cc351455dc2a8",
    },
    "seed 0 bundle-3/1": {
        "bounded_pages": "9e561fc41d318d38",
        "intended_trades": "aa99d7956c5da6d5",
        "profile": "c05ecc089d5aa4bb",
        "signatures": "3e21633238ac57c2",
        "sol_balance": "b12fa90cd031f88e",
        "token_accounts": "c722f4e074e4836b",
        "transactions": "5cd9a0c29e70104c",
    },
    "seed 0 copy-1/0": {
        "bounded_pages": "116f7e7277b2c0fd",
        "intended_trades": "a46151bac55ed072",
        "profile": "53f3cb41373f44ea",
        "signatures": "50f87cd1ef7484e5",
        "sol_balance": "d9b3dda13ed1cdb3",
        "token_accounts": "78319376c38ce25c",
        "transactions": "c4f938d7a0244f10",
    },
    "seed 0 copy-1/1": {
        "bounded_pages": "d79982819c60af73",
        "intended_trades": "2e4e4d8d9bc4a48f",
        "profile": "1b65791903935319",
        "signatures": "926f0c2ce28ddf66",
        "sol_balance": "adcbce71f88790b8",
        "token_accounts": "77836f3306953c25",
        "transactions": "1d0e1d537f82af90",
    },
    "seed 0 copy-2/0": {
        "bounded_pages": "4a2c4354f4496258",
        "intended_trades": "dc3c02dfe05b0f51",
        "profile": "68d4031278af0a2d",
        "signatures": "4088f9744d15cfb5",
        "sol_balance": "421ed511d4100ec3",
        "token_accounts": "3be46633b399bc41",
        "transactions": "d130aa7b4561e174",
    },
    "seed 0 copy-2/1": {
        "bounded_pages": "f2412116c3077829",
        "intended_trades": "c71d09c7bfc2d762",
        "profile": "148f15b6900c8550",
        "signatures": "1df01268edfbf381",
        "sol_balance": "a20f6a3ce75a541c",
        "token_accounts": "3522bc9e971892bd",
        "transactions": "cc69b628ed678eac",
    },
    "seed 0 copy-3/0": {
        "bounded_pages": "5d137024a47fc161",
        "intended_trades": "d0ea69eae19fc3d9",
        "profile": "35d18f1ba4e8e3a1",
        "signatures": "5b99d3217158ba6f",
        "sol_balance": "67ea8b2da5aec67f",
        "token_accounts": "6b37be5712cf1826",
        "transactions": "e631cca0b43676ea",
    },
    "seed 0 copy-3/1": {
        "bounded_pages": "71e1397e6d8b0b94",
        "intended_trades": "fe0aa400715a1c77",
        "profile": "77807706e2cff120",
        "signatures": "bb376e668e226946",
        "sol_balance": "970e9550ba9e613c",
        "token_accounts": "034f334ccc9cc725",
        "transactions": "1eefc847e20f7dfe",
    },
    "seed 0 flipper": {
        "bounded_pages": "298c1bdcedde161d",
        "intended_trades": "84e838e5f7b07588",
        "profile": "942f85f4d2867173",
        "signatures": "77fe6a5a889f50b6",
        "sol_balance": "e149a57b8a794ce9",
        "token_accounts": "670444c87d2e9e61",
        "transactions": "0a2ea49eaa6ceacb",
    },
    "seed 0 holder": {
        "bounded_pages": "cdcbdaa6f03baead",
        "intended_trades": "34040fef09a6cd02",
        "profile": "2cbdf962815e18eb",
        "signatures": "fb1b93c1640a166a",
        "sol_balance": "5c14d5c7b190fa07",
        "token_accounts": "00d66f7fd2c77e08",
        "transactions": "647dc60669494910",
    },
    "seed 0 sniper": {
        "bounded_pages": "6c11127d1959714f",
        "intended_trades": "01b513bb8115e507",
        "profile": "978fc9bd7ce53f6e",
        "signatures": "658d424858d9feec",
        "sol_balance": "006db45553659fc8",
        "token_accounts": "cd1ea49435d7558f",
        "transactions": "a76957d22894734d",
    },
    "seed 3": {
        "dex_pairs": "1f5921cfaee4fd83",
        "families": "b8db8dd4230d3c3b",
        "family_mints": "f29dc87f7f4b5845",
        "prices": "a4f0361b933efead",
        "sample_wallets": "d8ff3c37d070b9ba",
        "sol_usd": "66878467e390f206",
        "tokens": "aa520d8e4a9661c3",
    },
    "seed 3 bot": {
        "bounded_pages": "aa1c0dc9657931fd",
        "intended_trades": "5093eaa064c79a18",
        "profile": "bb440d2962b5f250",
        "signatures": "22a6b62cb0aa29a8",
        "sol_balance": "d9dc1c9d1b0dddfd",
        "token_accounts": "6a00f50030dad2e5",
        "transactions": "a516e12714adb31c",
    },
    "seed 3 bundle-1/0": {
        "bounded_pages": "7ce50ec6fca15d3a",
        "intended_trades": "83cd5b30a207e99f",
        "profile": "f484e174e050f598",
        "signatures": "c298e8da70f0ce00",
        "sol_balance": "be2dede0bbf105b4",
        "token_accounts": "f3d1f94e7603d19e",
        "transactions": "777b87be8d30ddcb",
    },
    "seed 3 bundle-1/1": {
        "bounded_pages": "be6f290d0dc0a479",
        "intended_trades": "e35c6a7d68a963bb",
        "profile": "a051a16a3587142a",
        "signatures": "838059152a1bcfab",
        "sol_balance": "2cda49d3a6ec693b",
        "token_accounts": "0fdfe44dbd2f2bf1",
        "transactions": "5abfa85bf6ef56a9",
    },
    "seed 3 bundle-2/0": {
        "bounded_pages": "537054a4430caf72",
        "intended_trades": "b3bcd157687df17a",
        "profile": "cc37fb0c6904bfa6",
        "signatures": "418f3806df263ca2",
        "sol_balance": "f6b39caf1f918977",
        "token_accounts": "c5a68968696cda42",
        "transactions": "23f26cd0a7286ae8",
    },
    "seed 3 bundle-2/1": {
        "bounded_pages": "d7799aa973cead22",
        "intended_trades": "c8b3029a07f0aa4d",
        "profile": "e8955469c01a2611",
        "signatures": "5e0ac29a09a431b1",
        "sol_balance": "cb8a7807a02efe86",
        "token_accounts": "f3e180964a474544",
        "transactions": "3e189d1bb0a27c56",
    },
    "seed 3 bundle-3/0": {
        "bounded_pages": "b09fe6fe525446f3",
        "intended_trades": "c33174d5b858fa3a",
        "profile": "61f80d135c0eb71d",
        "signatures": "448c0c0e2f104d73",
        "sol_balance": "4b9167641c305005",
        "token_accounts": "dbe81c54ffdd4fa9",
        "transactions": "b8c91520be136886",
    },
    "seed 3 bundle-3/1": {
        "bounded_pages": "d940ecb8ea1e6579",
        "intended_trades": "8153b70a41ad9a88",
        "profile": "991da38474eea3d2",
        "signatures": "fc73452488110dae",
        "sol_balance": "919c12621287735c",
        "token_accounts": "c725dba50f7b1b81",
        "transactions": "3e71a04db76687b3",
    },
    "seed 3 copy-1/0": {
        "bounded_pages": "5905a07d8e10d446",
        "intended_trades": "7c2d67fee351ec77",
        "profile": "5598fcf3c3a1dd68",
        "signatures": "c902409eaa231cdb",
        "sol_balance": "f33335368dcf4baa",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "3ff48f803ada3b28",
    },
    "seed 3 copy-1/1": {
        "bounded_pages": "5d4f7bc04f6bf663",
        "intended_trades": "02db0b36deedb25c",
        "profile": "ddd1e7265ba70718",
        "signatures": "a23f7c65c1e6bbf3",
        "sol_balance": "fbd6be490b8f11ce",
        "token_accounts": "4d875046aa779f3a",
        "transactions": "f959dc92f509dbfb",
    },
    "seed 3 copy-2/0": {
        "bounded_pages": "53c8213d858eabcd",
        "intended_trades": "03d2e880ab8f1269",
        "profile": "04a5eaa8f22557ac",
        "signatures": "4e7e26163cecaa40",
        "sol_balance": "5527272e18be42e9",
        "token_accounts": "048fa296951a94a2",
        "transactions": "45f5509a55e24fbe",
    },
    "seed 3 copy-2/1": {
        "bounded_pages": "638c28c8e744bdd4",
        "intended_trades": "fcd8765d097a2be8",
        "profile": "f30098576781ac38",
        "signatures": "401c78e19f00a7d5",
        "sol_balance": "456e63befc7ebb64",
        "token_accounts": "568f446c05d970e7",
        "transactions": "587c31404bbd8d93",
    },
    "seed 3 copy-3/0": {
        "bounded_pages": "ec633fdd47d432e3",
        "intended_trades": "34bdeff91a06f51e",
        "profile": "66aea66cbbc22a27",
        "signatures": "dead4132abd90a0d",
        "sol_balance": "5f1f0c757e4773ba",
        "token_accounts": "4f53cda18c2baa0c",
        "transactions": "21f1c8d840e07c13",
    },
    "seed 3 copy-3/1": {
        "bounded_pages": "cd53fadfebd54883",
        "intended_trades": "0b26524e2d4ae04c",
        "profile": "70118cac367456e3",
        "signatures": "a02ea052e17c41f8",
        "sol_balance": "d83e058c3c1a0489",
        "token_accounts": "7390151ca8af16ea",
        "transactions": "be799ba801a896fb",
    },
    "seed 3 flipper": {
        "bounded_pages": "4f3251130c0c7147",
        "intended_trades": "bccd4d8954224cce",
        "profile": "39123b4b7934cda5",
        "signatures": "e4d2659aafbff8f3",
        "sol_balance": "318442a0b7d5bf3f",
        "token_accounts": "35c1da87b6518010",
        "transactions": "753d3a9bec3713ef",
    },
    "seed 3 holder": {
        "bounded_pages": "5a875dd823653a8b",
        "intended_trades": "0ad63e0cc23bc93d",
        "profile": "e667bbfe6001319d",
        "signatures": "2fc4f5525d336582",
        "sol_balance": "67e48a644b4aa508",
        "token_accounts": "6d3c57ed2faca528",
        "transactions": "e4abc254cc542375",
    },
    "seed 3 sniper": {
        "bounded_pages": "44b489dd04e19fdd",
        "intended_trades": "6bafcfab4882b27c",
        "profile": "fc7f051dd0bc93d5",
        "signatures": "45c1b5e6f67a44f7",
        "sol_balance": "65448e6bd76a3345",
        "token_accounts": "01ef1d032706e09c",
        "transactions": "4d5eaf8b83e79773",
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

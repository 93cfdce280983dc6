"""Exchange and custodial hot wallets on Solana, as publicly labelled, with where each label was published.

A transfer from one of these addresses says that a wallet withdrew from an exchange, not who owns it: the
same hot wallet pays out to millions of unrelated customers. Wallet linking therefore never treats them as
a shared funder, and the simulated market funds most of its wallets from them.

How the list was made (no address here is made up):
- Binance, Coinbase and Kraken entries come from the Dune Analytics spellbook's curated CEX address table
  for Solana (`SOURCE_DUNE`); the Binance ones are also in `SOURCE_GOALB`, and the others in several public
  label lists. One Dune row is malformed (its address field reads "5tzFki…,Binance"); the address and
  exchange are clear and other lists agree.
- OKX and Bybit entries are the Solana addresses DefiLlama's adapters count as each exchange's reserves
  (`SOURCE_LLAMA_OKX`, `SOURCE_LLAMA_BYBIT`); most OKX ones and two Bybit ones are also in the Dune table.
- Labels are the source's own ("Binance 4", "OKX 12"); addresses only DefiLlama lists are labelled
  "<exchange> reserves <n>".
- Left out: Dune rows that are not Solana public keys (Bitcoin, Cardano or lower-cased strings), rows that
  are token mints (several "Backpack" rows are the JUP, JTO, PYTH, HNT, mSOL and RNDR mints), and
  `krakeNd6ednDPEXxHAmoBs1qKVM8kLg79PvWF2mhXV1`, which the Dune table calls "Kraken 2" but other label
  sets tag as Kraken's validator identity, not a hot wallet. Kraken is the one of the five large exchanges
  with a single labelled Solana hot wallet here: DefiLlama lists no Solana reserves for it.
- Known disagreement: a few public lists label `2ojv9BAi…` FTX or Coinbase, `H8sMJSCQ…` Bybit and
  `AC5RDfQF…` Binance or MEXC. Which exchange it is does not matter for linking (every one is custodial);
  the exchange given here is the one the cited sources agree on.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

__all__ = [
    "CUSTODIANS",
    "SOURCE_DUNE",
    "SOURCE_GOALB",
    "SOURCE_LLAMA_BYBIT",
    "SOURCE_LLAMA_OKX",
    "Custodian",
    "custodian",
    "custodian_addresses",
    "is_custodian",
]

SOURCE_DUNE = (
    "Dune Analytics spellbook, models/cex/solana/cex_solana_addresses.sql "
    "(https://github.com/duneanalytics/spellbook, commit 28e460c6adaee67a9ece96ef3d6437574ec2ed8d)"
)
SOURCE_GOALB = "dwdwow/goalb, addrs/sol_cex.go (https://github.com/dwdwow/goalb)"
SOURCE_LLAMA_OKX = (
    "DefiLlama-Adapters, projects/okex/index.js, solana owners "
    "(https://github.com/DefiLlama/DefiLlama-Adapters, commit f73bc704f378bbf4580ae1cca8d5e0cd88ae078d)"
)
SOURCE_LLAMA_BYBIT = (
    "DefiLlama-Adapters, projects/bybit/index.js, solana owners "
    "(https://github.com/DefiLlama/DefiLlama-Adapters, commit 9999551965adb5b61457a144b1d2f94e0e38df27)"
)
_DUNE_AND_GOALB = f"{SOURCE_DUNE}; {SOURCE_GOALB}"
_LLAMA_OKX_AND_DUNE = f"{SOURCE_LLAMA_OKX}; {SOURCE_DUNE}"
_LLAMA_BYBIT_AND_DUNE = f"{SOURCE_LLAMA_BYBIT}; {SOURCE_DUNE}"


@dataclass(frozen=True, slots=True)
class Custodian:
    address: str
    exchange: str
    label: str
    source: str  # where the label was published


CUSTODIANS: tuple[Custodian, ...] = (
    # Binance
    Custodian("5tzFkiKscXHK5ZXCGbXZxdw7gTjjD1mBwuoFbhUvuAi9", "Binance", "Binance 1", _DUNE_AND_GOALB),
    Custodian("9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM", "Binance", "Binance 2", _DUNE_AND_GOALB),
    Custodian("2ojv9BAiHUrvsm9gxDe7fJSzbNZSJcxZvf8dqmWGHG8S", "Binance", "Binance 4", _DUNE_AND_GOALB),
    Custodian("3gd3dqgtJ4jWfBfLYTX67DALFetjc5iS72sCgRhCkW2u", "Binance", "Binance 7", _DUNE_AND_GOALB),
    Custodian("3yFwqXBfZY4jBVUafQ1YEXw189y2dN3V5KQq9uzBDy1E", "Binance", "Binance 8", _DUNE_AND_GOALB),
    Custodian("6QJzieMYfp7yr3EdrePaQoG3Ghxs2wM98xSLRu8Xh56U", "Binance", "Binance 9", _DUNE_AND_GOALB),
    # Coinbase
    Custodian("H8sMJSCQxfKiFTCfDR3DUMLPwcRbM61LGFJ8N4dK3WjS", "Coinbase", "Coinbase 1", SOURCE_DUNE),
    Custodian("2AQdpHJ2JpcEgPiATUXjQxA8QmafFegfQwSLWSprPicm", "Coinbase", "Coinbase 2", SOURCE_DUNE),
    Custodian("GJRs4FwHtemZ5ZE9x3FNvJ8TMwitKTh21yxdRPqn7npE", "Coinbase", "Coinbase 3", SOURCE_DUNE),
    # OKX
    Custodian("6Attw9NcFspCAreufvQ3mW8aqXEk6MDceeoC8obw45cJ", "OKX", "OKX 3", _LLAMA_OKX_AND_DUNE),
    Custodian("6NnzUC7mrM7ZgKdcMq1jPAdqh9TMgdsaVR1DNq6kce3A", "OKX", "OKX 4", _LLAMA_OKX_AND_DUNE),
    Custodian("7CtzEcGeYpMfR1aEi1Gbt8GRHDPH9uDB6GNTsBABqSmo", "OKX", "OKX 5", _LLAMA_OKX_AND_DUNE),
    Custodian("7fGw3UURsxk1szQ4buxQyEkiF4P6z7vx7sN1MHEguTJg", "OKX", "OKX 6", _LLAMA_OKX_AND_DUNE),
    Custodian("7o9ukGhWvc71yYcjinKnrxMn2kFMyQD1iCG3romrzg7r", "OKX", "OKX 7", _LLAMA_OKX_AND_DUNE),
    Custodian("8dUc88Nss8uhqzzFvUQhepkwZaVrfzpoCfKjCXGkdzAG", "OKX", "OKX 8", _LLAMA_OKX_AND_DUNE),
    Custodian("945SJTwsBSqwEEgtKMnhcLDnJowP6YpJUTEykMVK5k6q", "OKX", "OKX 9", _LLAMA_OKX_AND_DUNE),
    Custodian("9un5wqE3q4oCjyrDkwsdD48KteCJitQX5978Vh7KKxHo", "OKX", "OKX 10", _LLAMA_OKX_AND_DUNE),
    Custodian("APJmXrtC9TUAg5gcjbcsVUiVzeDv85xLZRLad1GiQTNE", "OKX", "OKX 11", _LLAMA_OKX_AND_DUNE),
    Custodian("BEaiMhcc4Kao7B4hoq6r9m8neUpfimUMwhzugKxtkZw6", "OKX", "OKX 12", _LLAMA_OKX_AND_DUNE),
    Custodian("BWZqi67kXsvf5crjd19Fb3gmf3DCipGE8eWWJT2YHDXQ", "OKX", "OKX 14", _LLAMA_OKX_AND_DUNE),
    Custodian("BhJrLQEyFyrcf1746pHATzAZQpC1uk3SJf2AHHK7LW3K", "OKX", "OKX 15", _LLAMA_OKX_AND_DUNE),
    Custodian("CE8joA143dBjsCFTeBxBs3kNGNU87WH6Q7GMMfxPzSr2", "OKX", "OKX 16", _LLAMA_OKX_AND_DUNE),
    Custodian("CGZAHxBannZzYK3rzVdG1e3uNjMxrmaXDhLEZxQBbueq", "OKX", "OKX 17", _LLAMA_OKX_AND_DUNE),
    Custodian("CeGyfZdtbjzC5FeVXCBdYE1v397yxxqYgmMcUwtouJUu", "OKX", "OKX 18", _LLAMA_OKX_AND_DUNE),
    Custodian("EBVigEhxvkWUwreG98kTh5FbZEjnXTXC5ANZtLz4YpHQ", "OKX", "OKX 19", _LLAMA_OKX_AND_DUNE),
    Custodian("FJS2rTjAQmFFRmVqtnkceGvLJrMwUPgCUfLjciuMYkSC", "OKX", "OKX 20", _LLAMA_OKX_AND_DUNE),
    Custodian("FefAbVt2EgXMGxeJb6sB1k5pQJhiGPxw4mB1zeUohZLk", "OKX", "OKX 21", _LLAMA_OKX_AND_DUNE),
    Custodian("GcFZHQVJ2icPGLrA9qPLq88b7eqBXSUcdL1utUtUfcSD", "OKX", "OKX 22", _LLAMA_OKX_AND_DUNE),
    Custodian("HnLezgQkNVWMp2AV6mcHM1Ljst32kfsoVnYUkvXuQpjg", "OKX", "OKX 23", _LLAMA_OKX_AND_DUNE),
    Custodian("44DwSkZbY2PVo9wfFP21D7HG7xf5rw8QaF6xSLGSfm7P", "OKX", "OKX 30", _LLAMA_OKX_AND_DUNE),
    Custodian("5URmUviWsAtcciFXqgM7f1jmhvBULdQDT47dqDkrJUi", "OKX", "OKX 31", _LLAMA_OKX_AND_DUNE),
    Custodian("5kiqH41rz2wPoNH5FuDJ3x8dB3EEe3XGoSWy2485tAp9", "OKX", "OKX 32", _LLAMA_OKX_AND_DUNE),
    Custodian("5VCwKtCXgCJ6kit5FybXjvriW3xELsFDhYrPSqtJNmcD", "OKX", "OKX 33", _LLAMA_OKX_AND_DUNE),
    Custodian("is6MTRHEgyFLNTfYcuV4QBWLjrZBfmhVNYR6ccgr8KV", "OKX", "OKX reserves 1", SOURCE_LLAMA_OKX),
    Custodian("FmpbkPgxjoYBJ6ac6YMhZ1FycCwuG8Zs2epxgsGFYvf6", "OKX", "OKX reserves 2", SOURCE_LLAMA_OKX),
    Custodian("C68a6RCGLiPskbPYtAcsCjhG8tfTWYcoB4JjCrXFdqyo", "OKX", "OKX reserves 3", SOURCE_LLAMA_OKX),
    Custodian("AEZoku1fLfUz5JYJ3kJ5YVdf3QT1T4RwdggGbuR8Eakd", "OKX", "OKX reserves 4", SOURCE_LLAMA_OKX),
    Custodian("CBEADkb8TZAXHjVE3zwad4L995GZE7rJcacJ7asebkVG", "OKX", "OKX reserves 5", SOURCE_LLAMA_OKX),
    # Bybit
    Custodian("42brAgAVNzMBP7aaktPvAmBSPEkehnFQejiZc53EpJFd", "Bybit", "Bybit 1", _LLAMA_BYBIT_AND_DUNE),
    Custodian("AC5RDfQFmDS1deWZos921JfqscXdByf8BKHs5ACWjtW2", "Bybit", "Bybit 2", _LLAMA_BYBIT_AND_DUNE),
    Custodian(
        "Hvkm4H2Ta3L3ssWbB5jeC4kpEJDuZnZqapAXp1V7UHEw", "Bybit", "Bybit reserves 1", SOURCE_LLAMA_BYBIT
    ),
    Custodian(
        "CqQ6AX1fiFfHKKY3saGzT5pgbkLwfLVrrAKpFhUG38oe", "Bybit", "Bybit reserves 2", SOURCE_LLAMA_BYBIT
    ),
    Custodian(
        "FeNayVKekV9FJzhD7ycTd6sbKEyzt9CRCiqxw5nr41yR", "Bybit", "Bybit reserves 3", SOURCE_LLAMA_BYBIT
    ),
    Custodian(
        "32cT9eAwkEvAk631rUcUAbXVFPg21DaAXzGiz9AqHTVE", "Bybit", "Bybit reserves 4", SOURCE_LLAMA_BYBIT
    ),
    Custodian(
        "9Z7S8vCj6nDbK9t4m4AU3vZpKm4UufHAwpmRYyKgZf7r", "Bybit", "Bybit reserves 5", SOURCE_LLAMA_BYBIT
    ),
    # Kraken
    Custodian("FWznbcNXWQuHTawe9RxvQ2LdCENssh12dsznf4RiouN5", "Kraken", "Kraken 1", SOURCE_DUNE),
)


@cache
def _by_address() -> dict[str, Custodian]:
    return {entry.address: entry for entry in CUSTODIANS}


def custodian(address: str) -> Custodian | None:
    return _by_address().get(address)


def is_custodian(address: str) -> bool:
    return address in _by_address()


def custodian_addresses() -> frozenset[str]:
    return frozenset(_by_address())

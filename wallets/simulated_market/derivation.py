"""How everything in the simulated market derives from its seed.

Every random choice (a token's launch, a wallet's archetype, a price path, an address) is drawn from a
generator seeded with the SHA-256 of the market's seed and a label naming what is drawn, never from
Python's `hash()` (salted per process) or the clock. The same seed and label give the same bytes in every
process, so a worker can regenerate any part of the market on its own, in any order.
"""

from __future__ import annotations

import hashlib
import random

import base58
from solders.pubkey import Pubkey
from solders.signature import Signature

from wallets.addresses import InvalidAddressError, validate_address

__all__ = ["Derivation", "address_bytes", "b58decode", "b58encode"]

_BASE58_CHARS = frozenset(base58.BITCOIN_ALPHABET.decode("ascii"))

_KEY_BYTES = 32
_KEY_MAX_CHARS = 44
_SIGNATURE_BYTES = 64
_SIGNATURE_MAX_CHARS = 88

Part = str | int | bytes


def b58encode(data: bytes) -> str:
    """Bitcoin-alphabet base58, the encoding of Solana addresses and signatures.

    Keys and signatures go through solders' Rust types: the pure-Python codec's big-integer loop was over a
    third of the market's CPU per generated transaction (docs/BENCHMARKS.md §2), in the worker processes
    whose syncs it answers."""
    if len(data) == _KEY_BYTES:
        return str(Pubkey(data))
    if len(data) == _SIGNATURE_BYTES:
        return str(Signature(data))
    return base58.b58encode(data).decode("ascii")


def b58decode(text: str) -> bytes:
    """Strict base58: ValueError for any character outside the alphabet, whitespace included (the library
    would strip trailing whitespace, which would make `sig ` resolve like `sig`)."""
    if not _BASE58_CHARS.issuperset(text):
        raise ValueError(f"invalid base58 text {text[:20]!r}")
    # The fast typed parsers answer only for their exact sizes; any other length decodes generically.
    try:
        if len(text) <= _KEY_MAX_CHARS:
            return bytes(Pubkey.from_string(text))
        if len(text) <= _SIGNATURE_MAX_CHARS:
            return bytes(Signature.from_string(text))
    except ValueError:
        pass
    return base58.b58decode(text)


def address_bytes(address: str) -> bytes:
    """Decode a public key; InvalidAddressError (a ValueError) for anything but base58 of 32 bytes."""
    if validate_address(address) != address:
        raise InvalidAddressError(f"Invalid Solana address {address!r}: surrounding whitespace.")
    return b58decode(address)


class Derivation:
    """Seeded SHA-256 derivation: digests, addresses and random generators named by their parts."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._seed_bytes = b"simmarket:" + str(seed).encode() + b":"

    def digest(self, *parts: Part) -> bytes:
        """SHA-256 of the seed and the parts, each length-prefixed so ("ab", "c") and ("a", "bc") differ."""
        hasher = hashlib.sha256(self._seed_bytes)
        for part in parts:
            chunk = part if isinstance(part, bytes) else str(part).encode()
            hasher.update(len(chunk).to_bytes(4, "big"))
            hasher.update(chunk)
        return hasher.digest()

    def address(self, *parts: Part) -> str:
        return b58encode(self.digest("address", *parts))

    def rng(self, *parts: Part) -> random.Random:
        return random.Random(self.digest("rng", *parts))

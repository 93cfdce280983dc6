"""Transaction signatures that carry their own address: any process can tell whose transaction it is.

A signature is 64 bytes: the wallet's public key masked by a hash of a tag (32 bytes), the tag (28 bytes:
a digest of the seed, the wallet, its history size and the transaction's index) and the index masked by the
tag (4 bytes). Resolving one needs no shared state, only the seed: unmask the address and index, recompute
the tag, compare. A signature of another seed, of another history size, or a made-up one fails the check
and is treated as unknown, like an unknown signature at Helius.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from wallets.simulated_market.derivation import Derivation, b58decode, b58encode

__all__ = ["SignatureCodec"]

_MAX_SIGNATURE_CHARS = 90  # base58 of 64 bytes is at most 88 characters


class SignatureCodec:
    def __init__(self, derive: Derivation) -> None:
        self._derive = derive

    def _tag(self, address_bytes: bytes, size_key: int, index: int) -> bytes:
        return self._derive.digest("sig", address_bytes, size_key, index)[:28]

    def encode(self, address_bytes: bytes, size_key: int, index: int) -> str:
        tag = self._tag(address_bytes, size_key, index)
        mask = hashlib.sha256(b"sigmask" + tag).digest()
        masked = (int.from_bytes(address_bytes, "big") ^ int.from_bytes(mask, "big")).to_bytes(32, "big")
        masked_index = (index ^ int.from_bytes(tag[:4], "big")).to_bytes(4, "big")
        return b58encode(masked + tag + masked_index)

    def resolve(self, signature: str, size_key_of: Callable[[str], int]) -> tuple[str, int] | None:
        """(address, index) of a signature this market issued, else None."""
        try:
            raw = (
                b58decode(signature)
                if isinstance(signature, str) and len(signature) <= _MAX_SIGNATURE_CHARS
                else b""
            )
        except ValueError:
            return None
        if len(raw) != 64:
            return None
        tag = raw[32:60]
        mask = hashlib.sha256(b"sigmask" + tag).digest()
        address_bytes = (int.from_bytes(raw[:32], "big") ^ int.from_bytes(mask, "big")).to_bytes(32, "big")
        index = int.from_bytes(raw[60:], "big") ^ int.from_bytes(tag[:4], "big")
        address = b58encode(address_bytes)
        if self._tag(address_bytes, size_key_of(address), index) != tag:
            return None
        return address, index

"""Solana address validation, the one home of the rule: a public key is 32 bytes written in base58.

Every entry point (the API, the commands, the services a task calls) validates through these two functions,
whose errors already are what the API answers (400 naming the field) and what a task treats as final.
No Django, no Redis.
"""

from __future__ import annotations

import base58

from core.errors import InvalidInputError

ADDRESS_BYTES = 32
# Base58 of 32 bytes is 32 to 44 characters; anything much longer is refused before decoding, whose cost
# grows with the square of the length.
ADDRESS_MIN_CHARS = 32
ADDRESS_MAX_CHARS = 44
MAX_DECODED_CHARS = 100
_BASE58_CHARS = frozenset(base58.BITCOIN_ALPHABET.decode("ascii"))

# How the API documents an address (OpenAPI / JSON Schema). No pattern of sane size says "base58 that decodes
# to exactly 32 bytes" (a base58 pattern with these lengths also matches "1" * 43, which decodes to 43
# bytes), so the format names that rule, and schema-driven test generators register a strategy for it
# (tests/support/schemathesis_hooks.py).
ADDRESS_FORMAT = "solana-address"
ADDRESS_JSON_SCHEMA: dict[str, object] = {
    "type": "string",
    "format": ADDRESS_FORMAT,
    "minLength": ADDRESS_MIN_CHARS,
    "maxLength": ADDRESS_MAX_CHARS,
    "description": "A Solana address: a 32-byte public key in base58 (32 to 44 characters from "
    "1-9, A-H, J-N, P-Z, a-k, m-z; surrounding whitespace is ignored)",
}
# Two real addresses for documentation examples (a list's example needs distinct ones).
ADDRESS_EXAMPLES = (
    "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin",
    "So11111111111111111111111111111111111111112",
)


class InvalidAddressError(InvalidInputError, ValueError):
    """An address (or list of addresses) was refused. `fields` maps a field path to its problems.

    Also a ValueError, as parsers of untrusted input (the simulated market, a fake node) expect."""

    error_type = "invalid_input"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message, fields=fields)


class AddressListError(InvalidAddressError):
    """A list of addresses was refused: not a list, or malformed entries (see `fields`)."""


class TooFewAddressesError(AddressListError):
    """Fewer distinct addresses than required."""


class TooManyAddressesError(AddressListError):
    """More distinct addresses than allowed."""


def _problem_with(address: str) -> str | None:
    if not address:
        return "is empty"
    bad_chars = sorted(set(address) - _BASE58_CHARS)
    if bad_chars:
        shown = ", ".join(repr(char) for char in bad_chars[:5])
        return f"is not base58: it contains {shown} (base58 has no 0, O, I, l, spaces or punctuation)"
    if len(address) > MAX_DECODED_CHARS:
        return f"is {len(address)} characters long; a Solana address is 32 to 44 characters"
    size = len(base58.b58decode(address))
    if size != ADDRESS_BYTES:
        return f"decodes to {size} bytes instead of {ADDRESS_BYTES}"
    return None


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _normalize(value: object) -> tuple[str, str | None]:
    """The address without surrounding whitespace, and what is wrong with it (None when valid)."""
    if not isinstance(value, str):
        return "", f"must be a string, not {type(value).__name__}"
    address = value.strip()
    return address, _problem_with(address)


def validate_address(value: object, *, field: str = "wallet") -> str:
    """Return the address without surrounding whitespace, or raise InvalidAddressError saying why."""
    address, problem = _normalize(value)
    if problem is not None:
        message = f"Invalid Solana address {_shown(value)}: {problem}."
        raise InvalidAddressError(message, {field: [message]})
    return address


def is_valid_address(value: object) -> bool:
    return _normalize(value)[1] is None


def validate_addresses(
    values: object, *, min_count: int, max_count: int, field: str = "wallets"
) -> list[str]:
    """Validate a list of addresses; duplicates collapse, first-seen order is kept (sort them for a
    canonical form).

    Every malformed entry is reported at once under `fields["wallets[i]"]`; count limits apply to the
    distinct addresses and are reported under `fields["wallets"]`.
    """
    if not isinstance(values, list | tuple):
        message = f"must be a list of addresses, not {type(values).__name__}"
        raise AddressListError(f"{field} {message}.", {field: [message]})
    unique: dict[str, None] = {}
    problems: dict[str, list[str]] = {}
    for index, value in enumerate(values):
        address, problem = _normalize(value)
        if problem is None:
            unique.setdefault(address, None)
        else:
            problems[f"{field}[{index}]"] = [f"{_shown(value)} {problem}"]
    if problems:
        raise AddressListError(f"{field}: {len(problems)} invalid address(es).", problems)
    addresses = list(unique)
    if len(addresses) < min_count:
        message = f"needs at least {min_count} distinct address(es), got {len(addresses)}"
        raise TooFewAddressesError(f"{field} {message}.", {field: [message]})
    if len(addresses) > max_count:
        message = f"allows at most {max_count} distinct address(es), got {len(addresses)}"
        raise TooManyAddressesError(f"{field} {message}.", {field: [message]})
    return addresses


# Ed25519 over GF(2^255 - 19): a wallet's address is a public key, a point of the curve; a program-derived
# address (PDA: pools, bonding curves, vault authorities) is chosen off the curve, so no private key can sign
# for it. The same test as Solana's `Pubkey::is_on_curve` (curve25519-dalek's decompression): the y
# coordinate's x^2 = (y^2 - 1) / (d y^2 + 1) must have a square root.
_ED25519_P = 2**255 - 19
_ED25519_D = -121665 * pow(121666, _ED25519_P - 2, _ED25519_P) % _ED25519_P


def is_on_curve(address: str) -> bool:
    """Whether a valid address is an Ed25519 point (a keypair's public key) rather than a PDA.

    Tells a wallet that spent all its SOL (its system account is gone, so `getMultipleAccounts` answers
    null) from a program-derived owner that never had an account."""
    raw = base58.b58decode(validate_address(address, field="address"))
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    y2 = y * y % _ED25519_P
    u = (y2 - 1) % _ED25519_P
    v = (_ED25519_D * y2 + 1) % _ED25519_P
    x2 = u * pow(v, _ED25519_P - 2, _ED25519_P) % _ED25519_P
    return x2 == 0 or pow(x2, (_ED25519_P - 1) // 2, _ED25519_P) == 1

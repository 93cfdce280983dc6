"""Solana address validation: 32 bytes in base58, with a message that says what is wrong. No Django needed."""

from __future__ import annotations

import base58
import pytest

from wallets.addresses import (
    AddressListError,
    InvalidAddressError,
    TooFewAddressesError,
    TooManyAddressesError,
    is_valid_address,
    validate_address,
    validate_addresses,
)

WALLET = "3JoVBiQEA2QKsq7TzW5ez5jVRtbbYgTNijoZzp5qgkr2"
OTHER = "HR7KFr9vhbEeFqSoiRFc8S4g8x7N6G2ryBicpFb35Cbm"
THIRD = "7rhxnLV8C77o6d8oz26AgK8x8m5ePsdeRawjqvojbjnQ"
SYSTEM_PROGRAM = "11111111111111111111111111111111"  # 32 zero bytes


def encoded(size: int) -> str:
    return base58.b58encode(bytes(range(1, size + 1))).decode()


@pytest.mark.parametrize("address", [WALLET, OTHER, SYSTEM_PROGRAM, encoded(32)])
def test_valid_addresses(address: str) -> None:
    assert len(base58.b58decode(address)) == 32
    assert validate_address(address) == address
    assert is_valid_address(address)


def test_surrounding_whitespace_is_stripped() -> None:
    assert validate_address(f"  {WALLET}\n") == WALLET
    assert is_valid_address(f"\t{WALLET} ")


@pytest.mark.parametrize("size", [31, 33, 1, 64])
def test_wrong_decoded_length(size: int) -> None:
    with pytest.raises(InvalidAddressError, match=f"decodes to {size} bytes instead of 32"):
        validate_address(encoded(size))
    assert not is_valid_address(encoded(size))


@pytest.mark.parametrize("char", ["0", "O", "I", "l"])
def test_characters_outside_base58(char: str) -> None:
    address = char + WALLET[1:]
    with pytest.raises(InvalidAddressError, match=f"is not base58: it contains '{char}'"):
        validate_address(address)
    assert not is_valid_address(address)


@pytest.mark.parametrize("text", ["3JoV BiQE", "3JoV-BiQE", "3JoVé"])
def test_spaces_punctuation_and_non_ascii_are_not_base58(text: str) -> None:
    with pytest.raises(InvalidAddressError, match="is not base58"):
        validate_address(text)


@pytest.mark.parametrize(
    ("value", "type_name"), [(None, "NoneType"), (123, "int"), (WALLET.encode(), "bytes"), ([WALLET], "list")]
)
def test_non_strings(value: object, type_name: str) -> None:
    with pytest.raises(InvalidAddressError, match=f"must be a string, not {type_name}"):
        validate_address(value)
    assert not is_valid_address(value)


@pytest.mark.parametrize("value", ["", "   "])
def test_empty(value: str) -> None:
    with pytest.raises(InvalidAddressError, match="is empty"):
        validate_address(value)


def test_very_long_input_is_refused_without_decoding_and_not_echoed_whole() -> None:
    with pytest.raises(InvalidAddressError, match="is 10000 characters long") as caught:
        validate_address("1" * 10_000)
    assert len(str(caught.value)) < 200


def test_invalid_address_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="Invalid Solana address"):
        validate_address("0")


def test_list_collapses_duplicates_in_first_seen_order() -> None:
    values = [OTHER, WALLET, f" {OTHER} ", THIRD, WALLET]
    assert validate_addresses(values, min_count=1, max_count=3) == [OTHER, WALLET, THIRD]
    assert validate_addresses(tuple(values), min_count=3, max_count=3) == [OTHER, WALLET, THIRD]


@pytest.mark.parametrize("value", [WALLET, {"wallets": [WALLET]}, None, 3])
def test_list_must_be_a_list(value: object) -> None:
    with pytest.raises(AddressListError, match="must be a list of addresses") as caught:
        validate_addresses(value, min_count=1, max_count=5)
    assert list(caught.value.fields) == ["wallets"]


def test_list_reports_every_malformed_entry_by_index() -> None:
    values = [WALLET, "0OIl", OTHER, 42, encoded(31)]
    with pytest.raises(AddressListError) as caught:
        validate_addresses(values, min_count=1, max_count=10)
    fields = caught.value.fields
    assert list(fields) == ["wallets[1]", "wallets[3]", "wallets[4]"]
    assert "is not base58" in fields["wallets[1]"][0]
    assert "must be a string, not int" in fields["wallets[3]"][0]
    assert "decodes to 31 bytes instead of 32" in fields["wallets[4]"][0]
    assert "3 invalid" in str(caught.value)


def test_list_too_few_counts_distinct_addresses() -> None:
    with pytest.raises(TooFewAddressesError, match="at least 2 distinct address") as caught:
        validate_addresses([WALLET, WALLET, f"{WALLET} "], min_count=2, max_count=5)
    assert caught.value.fields == {"wallets": ["needs at least 2 distinct address(es), got 1"]}


def test_list_empty_is_too_few() -> None:
    with pytest.raises(TooFewAddressesError):
        validate_addresses([], min_count=1, max_count=5)


def test_list_too_many() -> None:
    with pytest.raises(TooManyAddressesError, match="at most 2 distinct address") as caught:
        validate_addresses([WALLET, OTHER, THIRD], min_count=1, max_count=2)
    assert list(caught.value.fields) == ["wallets"]


def test_list_duplicates_do_not_count_towards_the_maximum() -> None:
    assert validate_addresses([WALLET, OTHER, WALLET, OTHER], min_count=1, max_count=2) == [WALLET, OTHER]


def test_list_errors_are_invalid_address_errors_with_a_custom_field() -> None:
    with pytest.raises(InvalidAddressError) as caught:
        validate_addresses(["bad0"], min_count=1, max_count=2, field="addresses")
    assert list(caught.value.fields) == ["addresses[0]"]

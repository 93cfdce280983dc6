"""Bounded JSON decoding of client input (core/json_input.py). No Django needed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.json_input import MAX_JSON_DEPTH, JsonInputError, json_loads_bounded


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(item) for item in value), default=0)
    return 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=40,
)


@given(json_values)
def test_any_json_within_the_depth_decodes_to_itself(value: Any) -> None:
    text = json.dumps(value)
    if depth_of(value) <= MAX_JSON_DEPTH:
        assert json_loads_bounded(text) == value
        assert json_loads_bounded(text.encode()) == value


@given(json_values)
def test_the_depth_limit_is_exact(value: Any) -> None:
    depth = depth_of(value)
    text = json.dumps(value)
    assert json_loads_bounded(text, max_depth=depth) == value
    if depth > 0:
        with pytest.raises(JsonInputError, match=f"deeper than {depth - 1} levels"):
            json_loads_bounded(text, max_depth=depth - 1)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1_000, 50_000, 500_000])
def test_deep_nesting_is_refused_without_recursing(depth: int) -> None:
    for text in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth, "[" * depth):
        with pytest.raises(JsonInputError, match="deeper than"):
            json_loads_bounded(text)


@pytest.mark.parametrize(
    "text",
    ['["' + "[" * 100 + '"]', '{"k": "' + "{" * 100 + '"}', '["\\"' + "[" * 100 + '"]', '["\\\\", [[]]]'],
)
def test_brackets_in_strings_and_escaped_quotes(text: str) -> None:
    assert json_loads_bounded(text) == json.loads(text)


def test_duplicate_keys_are_refused_at_any_depth() -> None:
    with pytest.raises(JsonInputError, match="'a' appears twice"):
        json_loads_bounded('{"a": 1, "a": 2}')
    with pytest.raises(JsonInputError, match="'b' appears twice"):
        json_loads_bounded('{"a": [{"b": 1, "c": 2, "b": 3}]}')
    assert json_loads_bounded('{"a": {"a": 1}}') == {"a": {"a": 1}}


@pytest.mark.parametrize("raw", [b"\xff", '"é"'.encode("latin-1"), b'"\xed\xa0\x80"', '"\ud800"'])
def test_only_utf8_is_accepted(raw: bytes | str) -> None:
    with pytest.raises(JsonInputError, match="not UTF-8"):
        json_loads_bounded(raw)


@pytest.mark.parametrize("text", ['"\\ud800"', '"\\udfff"', '{"\\ud800x": 1}', '["\\ud83d\\u0041"]'])
def test_unpaired_surrogate_escapes_are_refused(text: str) -> None:
    with pytest.raises(JsonInputError, match="unpaired UTF-16 surrogate"):
        json_loads_bounded(text)


def test_paired_surrogate_escapes_and_an_escaped_backslash_are_fine() -> None:
    assert json_loads_bounded('"\\ud83d\\ude00"') == "\U0001f600"
    assert json_loads_bounded('"\\\\ud800"') == "\\ud800"


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}'])
def test_non_finite_numbers_are_refused(text: str) -> None:
    with pytest.raises(JsonInputError, match="is not a JSON number"):
        json_loads_bounded(text)


@pytest.mark.parametrize("text", ["", "[", '{"a": 1', "1" * 5000, "[1,]"])
def test_malformed_json_is_a_json_input_error(text: str) -> None:
    with pytest.raises(JsonInputError):
        json_loads_bounded(text)

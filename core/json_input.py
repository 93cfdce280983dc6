"""JSON from clients (REST bodies, WebSocket messages), decoded with bounds. No Django, no Redis.

Python's `json` accepts what a client should not be able to send: nesting deep enough to exhaust the
recursion limit (a RecursionError, not a ValueError, so callers that catch parse errors still crash), the
same key twice in an object (the last one silently wins), and escapes of unpaired UTF-16 surrogates, which
decode to a `str` that cannot be encoded again (a 500 when the answer echoes it, or when it is stored).
`json_loads_bounded` refuses those with a `JsonInputError` that says what is wrong, and accepts only UTF-8
(RFC 8259) and no NaN or Infinity.
"""

from __future__ import annotations

import json
import operator
import re
from itertools import accumulate, count
from typing import Any

# Our requests nest 3 levels (a body, its options, the weights); anything near this is not a request.
MAX_JSON_DEPTH = 32

# A JSON string literal: a quote, then runs of anything but quotes and backslashes, each escape taking the
# character after it. Linear (no nested repetition to backtrack into).
_STRING_LITERAL = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# Outside strings: an opening bracket becomes 2, a closing one 0, anything else is dropped; the depth after
# the i-th bracket is then the sum of the first i values minus i.
_BRACKET_VALUES = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
# An escape in the surrogate range, paired or not: only then is the (slower) pairing check needed.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JsonInputError(ValueError):
    """The input is not JSON we accept; the message says why, for the client."""


def _nesting_depth(text: str) -> int:
    """How deep arrays and objects nest, counting brackets outside string literals (in C-speed passes)."""
    outside_strings = _STRING_LITERAL.sub("", text).encode("utf-8", "replace")
    values = outside_strings.translate(_BRACKET_VALUES, _NOT_BRACKETS)
    return max(map(operator.sub, accumulate(values), count(1)), default=0)


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JsonInputError(f"The key {key[:100]!r} appears twice in one object.")
            seen.add(key)
    return result


def _refuse_constant(name: str) -> Any:
    raise JsonInputError(f"{name} is not a JSON number.")


# One decoder for every call: json.loads with options builds a new one each time (several µs a request).
_DECODER = json.JSONDecoder(object_pairs_hook=_object_without_duplicates, parse_constant=_refuse_constant)


def json_loads_bounded(raw: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Decode one JSON document from a client, or raise JsonInputError."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonInputError(f"It is not UTF-8 (byte {exc.start}).") from None
    else:
        text = raw
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise JsonInputError(f"It is not UTF-8 (character {exc.start}).") from None
    # Counting only when there are enough brackets to matter keeps the usual request at one C-speed scan.
    if text.count("[") + text.count("{") > max_depth and _nesting_depth(text) > max_depth:
        raise JsonInputError(f"It nests arrays and objects deeper than {max_depth} levels.")
    try:
        value = _DECODER.decode(text)
    except JsonInputError:
        raise
    except RecursionError:  # a depth the bracket count missed, e.g. inside malformed string quoting
        raise JsonInputError(f"It nests arrays and objects deeper than {max_depth} levels.") from None
    except ValueError as exc:
        raise JsonInputError(str(exc)) from None
    # An unpaired surrogate can only come from a \u escape: the UTF-8 above cannot encode one.
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise JsonInputError(
                "A string holds an unpaired UTF-16 surrogate escape (\\ud800-\\udfff)."
            ) from None
    return value
